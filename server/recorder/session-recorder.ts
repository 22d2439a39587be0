// What a recorder is to the session it records, whatever the protocol: the screen as it is now for a watcher
// joining, and a close that returns once everything is stored. Terminals and desktops feed theirs the byte
// stream as it passes (a StreamRecorder); a web visit feeds its recorder the pages' events.
import type { TerminalSize } from "../protocols/adapter";
import type { WatchFrame } from "../live/watchers";

export interface SessionRecorder {
  /** What a watcher joining now needs to draw the current screen; reflects every call made before it. */
  catchUp(): Promise<WatchFrame[]>;
  /** Writes what is buffered and waits until every chunk is stored. */
  close(): Promise<void>;
}

/** The recorder of a terminal or desktop stream (./terminal-recorder.ts, ./desktop-recorder.ts, ./screen-tail.ts). */
export interface StreamRecorder extends SessionRecorder {
  output(data: Buffer): void;
  /** What the user typed, secrets masked, and the commands it completed. */
  input(shown: string, commands: string[]): void;
  /** Terminals only: a desktop's size changes inside its stream. */
  resize?(size: TerminalSize): void;
  /** Desktops only: the stream just drew the whole screen afresh (the adapter's `keyframe`). */
  keyframe?(): void;
  /**
   * Recorders that store: true when more output waits to be stored than they may hold, and the session holds the
   * target until `onCaughtUp` is called.
   */
  behind?(onCaughtUp: () => void): boolean;
}
