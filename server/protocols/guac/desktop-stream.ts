// How the session reads a desktop's Guacamole stream. The user's instructions are checked one by one: only
// input a desktop user may give reaches the engine, a paste is dropped where the target forbids it, and while
// security has the session locked only frame acknowledgements pass (the display keeps updating, input is lost).
// Keystrokes are not logged: on a desktop the gateway cannot tell a password field from any other.
// Where clipboard rules apply, a paste waits at the gateway until its end, is measured and matched, and goes on
// or is dropped; copies out of the desktop are measured in the engine's output as they pass.
import type { CommandRuleRow } from "../../../lib/data/command-policy/rules";
import { clipboardSubject, ruleRegexSource } from "../../../lib/domain/command-policy/rule-matcher";
import { desktopInputOpcodes } from "../../../lib/protocol/desktop";
import { encodeInstruction, GuacamoleParser, GuacamoleSyntaxError, type GuacInstruction } from "../../../lib/protocol/guacamole";
import type { PolicyMatch } from "../../inspector/command-policy";
import type { StreamInspector } from "../stream-inspector";
import { log } from "../../../lib/infra/log";

/** A clipboard blob is at most 6 KiB of data as base64 (guacamole-common-js writes them that size). */
const inputLimits = { maxInstructionLength: 16 * 1024, maxElements: 16 };
/** The engine's instructions (images included) as they are read for clipboard streams. */
const outputLimits = { maxInstructionLength: 8 * 1024 * 1024, maxElements: 64 };
/** A paste held for the clipboard rules is kept up to this size; a larger one is dropped, not let through unmeasured. */
const heldPasteLimit = 4 * 1024 * 1024;
/** Pastes open at once (a browser sends one at a time): more are dropped, so that held ones stay bounded. */
const openPastesLimit = 4;

export interface DesktopStreamOptions {
  pasteAllowed: boolean;
  /** The session's clipboard rules now (they change as admins change them). */
  clipboardRules(): CommandRuleRow[];
  /** A clipboard transfer matched rules: the session records it and acts (a dropped paste says so itself). */
  matched(match: PolicyMatch & { dropped: boolean }): void;
}

/** Bytes a base64 text decodes to. */
const decodedBytes = (base64: string) => Math.floor((base64.length * 3) / 4) - (base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0);

export class DesktopStream implements StreamInspector {
  private parser = new GuacamoleParser(inputLimits);
  private outputParser: GuacamoleParser | null = null;
  /** Clipboard streams the user opened, whose blobs and end pass with them; held ones wait for their end. */
  private readonly clipboardStreams = new Map<string, { held: string[] | null; bytes: number }>();
  /** Clipboard streams the engine opened (copies out of the desktop), with their size so far. */
  private readonly copies = new Map<string, number>();
  private compiled: { rules: CommandRuleRow[]; patterns: RegExp[] } | null = null;

  constructor(private readonly options: DesktopStreamOptions) {}

  private instructions(parser: GuacamoleParser, data: Buffer): GuacInstruction[] | null {
    try {
      return parser.push(data);
    } catch (error) {
      if (!(error instanceof GuacamoleSyntaxError)) throw error;
      return null;
    }
  }

  /** The rules that match a transfer. Their patterns are the gateway's own (from `paste >= 4k`), so they are matched here, at once. */
  private matching(direction: "paste" | "copy", bytes: number): CommandRuleRow[] {
    const rules = this.options.clipboardRules();
    if (this.compiled?.rules !== rules) this.compiled = { rules, patterns: rules.map((rule) => new RegExp(ruleRegexSource(rule), "i")) };
    const subject = clipboardSubject(direction, bytes);
    return rules.filter((_, index) => this.compiled!.patterns[index]!.test(subject));
  }

  observeOutput(data: Buffer) {
    if (this.options.clipboardRules().length === 0) {
      this.outputParser = null;
      this.copies.clear();
      return;
    }
    this.outputParser ??= new GuacamoleParser(outputLimits);
    const instructions = this.instructions(this.outputParser, data);
    if (!instructions) {
      log.warn("desktop output could not be read for clipboard rules; reading starts again at the next instruction");
      this.outputParser = null;
      return;
    }
    for (const { opcode, args } of instructions) {
      const stream = args[0] ?? "";
      if (opcode === "clipboard") this.copies.set(stream, 0);
      else if (opcode === "blob" && this.copies.has(stream)) this.copies.set(stream, this.copies.get(stream)! + decodedBytes(args[1] ?? ""));
      else if (opcode === "end" && this.copies.has(stream)) {
        const bytes = this.copies.get(stream)!;
        this.copies.delete(stream);
        const rules = this.matching("copy", bytes);
        if (rules.length > 0) this.options.matched({ subject: `a copy of ${bytes} bytes out of the desktop`, rules, unchecked: null, dropped: false });
      }
    }
  }

  private inputInstructions(data: Buffer): GuacInstruction[] {
    const parsed = this.instructions(this.parser, data);
    if (parsed) return parsed;
    log.warn("desktop input dropped: not Guacamole instructions");
    // Each frame holds whole instructions: the next one starts clean.
    this.parser = new GuacamoleParser(inputLimits);
    return [];
  }

  input(data: Buffer) {
    let forward = "";
    for (const { opcode, args } of this.inputInstructions(data)) {
      if (!desktopInputOpcodes.has(opcode)) continue;
      const stream = args[0] ?? "";
      const instruction = encodeInstruction(opcode, args);
      if (opcode === "clipboard") {
        if (!this.options.pasteAllowed || this.clipboardStreams.size >= openPastesLimit) continue;
        this.clipboardStreams.set(stream, { held: this.options.clipboardRules().length > 0 ? [instruction] : null, bytes: 0 });
        if (this.clipboardStreams.get(stream)!.held) continue;
      } else if (opcode === "blob" || opcode === "end") {
        const paste = this.clipboardStreams.get(stream);
        if (!paste) continue;
        if (opcode === "blob") paste.bytes += decodedBytes(args[1] ?? "");
        if (paste.held) {
          if (opcode === "blob") {
            if (paste.bytes <= heldPasteLimit) paste.held.push(instruction);
            continue;
          }
          this.clipboardStreams.delete(stream);
          forward += this.endOfHeldPaste(paste.held, instruction, paste.bytes);
          continue;
        }
        if (opcode === "end") this.clipboardStreams.delete(stream);
      }
      forward += instruction;
    }
    return { forward: forward ? Buffer.from(forward, "utf8") : null, shown: "", commands: [], masked: false };
  }

  /** A held paste ends: matched, then sent on whole, or dropped (too large to hold, or a rule stops it). */
  private endOfHeldPaste(held: string[], end: string, bytes: number): string {
    const rules = this.matching("paste", bytes);
    const stopped = bytes > heldPasteLimit || rules.some((rule) => rule.action !== "alert");
    if (rules.length > 0) this.options.matched({ subject: `a paste of ${bytes} bytes into the desktop`, rules, unchecked: null, dropped: stopped });
    else if (stopped) log.warn(`a paste of ${bytes} bytes was dropped: larger than the ${heldPasteLimit} bytes the gateway holds for clipboard rules`);
    return stopped ? "" : `${held.join("")}${end}`;
  }

  inputWhileLocked(data: Buffer): Buffer | null {
    const acknowledgements = this.inputInstructions(data).filter(({ opcode }) => opcode === "sync");
    return acknowledgements.length > 0 ? Buffer.from(acknowledgements.map(({ opcode, args }) => encodeInstruction(opcode, args)).join(""), "utf8") : null;
  }

  /** A desktop's dashboard picture is its thumbnail (the session asks the adapter), not text. */
  async takePreview(): Promise<null> {
    return null;
  }
}
