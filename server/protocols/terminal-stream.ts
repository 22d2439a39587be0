// How the session reads a terminal's byte stream: keystrokes shown with secrets masked and commands picked
// out, and the last lines on screen for the dashboard.
import { previewLines } from "../../lib/transcript-lines";
import { KeystrokeInspector } from "../recorder/input-masker";
import type { StreamInspector } from "../session";

/** Output kept for the dashboard's preview of the session. */
const previewBytes = 4096;

export class TerminalStream implements StreamInspector {
  private readonly keystrokes = new KeystrokeInspector();
  private recentOutput: Buffer[] = [];
  private recentOutputBytes = 0;
  private previewStale = false;

  observeOutput(data: Buffer) {
    this.keystrokes.observeOutput(data);
    this.recentOutput.push(data);
    this.recentOutputBytes += data.length;
    while (this.recentOutput.length > 1 && this.recentOutputBytes - this.recentOutput[0]!.length >= previewBytes) this.recentOutputBytes -= this.recentOutput.shift()!.length;
    this.previewStale = true;
  }

  input(data: Buffer) {
    return { forward: data, ...this.keystrokes.input(data) };
  }

  /** Keys typed while locked are dropped, not queued: they must not run on unlock. */
  inputWhileLocked(): null {
    return null;
  }

  takePreview(): string | null {
    if (!this.previewStale) return null;
    this.previewStale = false;
    return previewLines(Buffer.concat(this.recentOutput).subarray(-previewBytes).toString("utf8"));
  }
}
