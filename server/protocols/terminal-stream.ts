// How the session reads a terminal's byte stream: keystrokes shown with secrets masked and commands picked
// out, and the screen's last lines for the dashboard.
import headless from "@xterm/headless";
import { KeystrokeInspector } from "./input-masker";
import type { TerminalSize } from "./adapter";
import type { StreamInspector } from "./stream-inspector";

/** Output kept for the dashboard's preview: enough for a shell's screen or a full-screen program's redraw. */
const previewBytes = 32 * 1024;
/** The preview shows the screen's last lines that hold anything, at most this many. */
const previewLineCount = 6;

export class TerminalStream implements StreamInspector {
  private readonly keystrokes = new KeystrokeInspector();
  private recentOutput: Buffer[] = [];
  private recentOutputBytes = 0;
  private previewStale = false;

  constructor(private size: TerminalSize) {}

  observeOutput(data: Buffer) {
    this.keystrokes.observeOutput(data);
    this.recentOutput.push(data);
    this.recentOutputBytes += data.length;
    while (this.recentOutput.length > 1 && this.recentOutputBytes - this.recentOutput[0]!.length >= previewBytes) this.recentOutputBytes -= this.recentOutput.shift()!.length;
    this.previewStale = true;
  }

  resize(size: TerminalSize) {
    this.size = size;
    this.previewStale = true;
  }

  input(data: Buffer) {
    return { forward: data, ...this.keystrokes.input(data) };
  }

  /** Keys typed while locked are dropped, not queued: they must not run on unlock. */
  inputWhileLocked(): null {
    return null;
  }

  /**
   * The screen as a terminal draws the last output (cursor moves, overwrites and clears applied, colours gone),
   * its last lines that hold anything. A terminal is made for each preview, a few times a minute: none is kept
   * per session.
   */
  async takePreview(): Promise<string | null> {
    if (!this.previewStale) return null;
    this.previewStale = false;
    const { cols, rows } = this.size;
    const screen = new headless.Terminal({ cols, rows, scrollback: 0, allowProposedApi: true });
    try {
      await new Promise<void>((resolve) => screen.write(Buffer.concat(this.recentOutput).subarray(-previewBytes), resolve));
      const buffer = screen.buffer.active;
      const lines: string[] = [];
      for (let row = 0; row < buffer.length; row++) lines.push(buffer.getLine(row)?.translateToString(true).trimEnd() ?? "");
      return lines
        .filter((line) => line.trim() !== "")
        .slice(-previewLineCount)
        .join("\n");
    } finally {
      screen.dispose();
    }
  }
}
