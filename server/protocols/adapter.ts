// The one shape every protocol plugs into the session spine with. An adapter knows its target's protocol
// and nothing of browsers, recording or control; the Session (server/session.ts) does the rest, reading the
// protocol's stream through a StreamInspector (./stream-inspector.ts).
import type { EventEmitter } from "node:events";

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** Why an adapter stopped, in words a user can act on. */
export class TargetError extends Error {
  constructor(
    message: string,
    /** Refusals that are security events (a changed host key) are audited as such. */
    readonly auditAction?: string,
    readonly auditDetails?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "TargetError";
  }
}

/** What an adapter tells the session. */
export interface AdapterEvents {
  /** Bytes from the target, for the user. */
  output: [data: Buffer];
  /** The target's first screen reached the gateway (a desktop's first frame, a terminal's first output). */
  firstScreen: [];
  /** Input may flow again after write() returned false. */
  drain: [];
  /** The target ended the connection, in words for the user. */
  closed: [message: string];
  /** Desktops: the stream just drew the whole screen afresh (asked for by the recorder, or the target's own). */
  keyframe: [];
  /** Desktops: a window's title, for the command policy's window rules. */
  title: [windowId: string, title: string];
}

export interface ProtocolAdapter extends EventEmitter<AdapterEvents> {
  /** Connects and logs in; rejects with a TargetError. */
  start(): Promise<void>;
  /** False when the target is not taking input as fast as it comes: wait for `drain`. */
  write(data: Buffer): boolean;
  /** Terminals are resized out of band; a desktop's size travels in its own stream. */
  resize?(size: TerminalSize): void;
  /** Stop reading from the target (it then stops sending), for backpressure and pause. */
  pause(): void;
  resume(): void;
  /** A small JPEG of the screen as it is now, for the dashboard; absent where the protocol draws no picture. */
  thumbnail?(maxWidth: number): Promise<Buffer | null>;
  close(): void;
}
