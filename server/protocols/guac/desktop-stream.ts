// How the session reads a desktop's Guacamole stream. The user's instructions are checked one by one: only
// input a desktop user may give reaches the engine, a paste is dropped where the target forbids it, and while
// security has the session locked only frame acknowledgements pass (the display keeps updating, input is lost).
// Keystrokes are not logged: on a desktop the gateway cannot tell a password field from any other.
import { desktopInputOpcodes } from "../../../lib/protocol/desktop";
import { encodeInstruction, GuacamoleParser, GuacamoleSyntaxError, type GuacInstruction } from "../../../lib/protocol/guacamole";
import type { StreamInspector } from "../../session";

/** A clipboard blob is at most 6 KiB of data as base64 (guacamole-common-js writes them that size). */
const inputLimits = { maxInstructionLength: 16 * 1024, maxElements: 16 };

export class DesktopStream implements StreamInspector {
  private parser = new GuacamoleParser(inputLimits);
  /** Clipboard streams the user opened, whose blobs and end pass with them. */
  private readonly clipboardStreams = new Set<string>();

  constructor(private readonly options: { pasteAllowed: boolean }) {}

  private instructions(data: Buffer): GuacInstruction[] {
    try {
      return this.parser.push(data);
    } catch (error) {
      if (!(error instanceof GuacamoleSyntaxError)) throw error;
      console.warn(`desktop input dropped: ${error.message}`);
      // Each frame holds whole instructions: the next one starts clean.
      this.parser = new GuacamoleParser(inputLimits);
      return [];
    }
  }

  observeOutput() {}

  input(data: Buffer) {
    let forward = "";
    for (const { opcode, args } of this.instructions(data)) {
      if (!desktopInputOpcodes.has(opcode)) continue;
      const stream = args[0] ?? "";
      if (opcode === "clipboard") {
        if (!this.options.pasteAllowed) continue;
        this.clipboardStreams.add(stream);
      } else if (opcode === "blob" || opcode === "end") {
        if (!this.clipboardStreams.has(stream)) continue;
        if (opcode === "end") this.clipboardStreams.delete(stream);
      }
      forward += encodeInstruction(opcode, args);
    }
    return { forward: forward ? Buffer.from(forward, "utf8") : null, shown: "", commands: [] };
  }

  inputWhileLocked(data: Buffer): Buffer | null {
    const acknowledgements = this.instructions(data).filter(({ opcode }) => opcode === "sync");
    return acknowledgements.length > 0 ? Buffer.from(acknowledgements.map(({ opcode, args }) => encodeInstruction(opcode, args)).join(""), "utf8") : null;
  }

  takePreview(): null {
    return null;
  }
}
