// How the session reads its protocol's stream (./terminal-stream.ts, ./guac/desktop-stream.ts). The session
// spine holds one and asks it what of the user's input may pass, what may be shown and what the dashboard sees.
import type { TerminalSize } from "./adapter";

/**
 * What of the user's input reaches the target and what may be shown of it, and what the dashboard previews. The
 * gateway's own notices never enter the stream: they are messages the page shows apart from the target's output,
 * so a target cannot forge one.
 */
export interface StreamInspector {
  observeOutput(data: Buffer): void;
  /**
   * `forward` goes to the target (null: nothing); `shown` is the typed text that may be logged and recorded;
   * `masked`: the keys answer a prompt that hides them (a password).
   */
  input(data: Buffer): { forward: Buffer | null; shown: string; commands: string[]; masked: boolean };
  /** What of the input still reaches the target while security has the session locked. */
  inputWhileLocked(data: Buffer): Buffer | null;
  /** What the dashboard shows of the screen, when it changed since the last call. */
  takePreview(): Promise<string | null>;
  /** Terminals: the screen's new size, for what the dashboard shows of it. */
  resize?(size: TerminalSize): void;
}
