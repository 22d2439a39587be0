// The people watching one live session. Every frame the user gets is fanned out to them as it is; a joining
// watcher first gets the current screen (the protocol's catch-up), then the frames that arrived meanwhile.
// A watcher that cannot keep up is never waited for: its frames are dropped once its socket holds too much, and
// when it has drained it is caught up again from the screen as it is then.
import type { WebSocket } from "ws";
import type { KeystrokeLogEntry, WatchServerMessage } from "../lib/protocol/live";

/** A binary frame (screen bytes, as the user got them) or a control message. */
export type WatchFrame = Buffer | WatchServerMessage;

/** Above this much unsent data a watcher is behind: it gets no more screen frames until it has drained… */
const behindAtBytes = 1024 * 1024;
/** …to this much, and is then caught up afresh. */
const drainedBelowBytes = 64 * 1024;
/** Frames held for a watcher while its catch-up is read; past this it is caught up again instead. */
const joiningQueueLimit = 8 * 1024 * 1024;
/** The keystroke log a joining watcher gets. */
const logKept = 500;

export interface Watcher {
  socket: WebSocket;
  phase: "joining" | "live" | "behind";
  queued: WatchFrame[];
  queuedBytes: number;
}

const frameBytes = (frame: WatchFrame) => (Buffer.isBuffer(frame) ? frame.length : 256);

export class WatcherHub {
  private readonly watchers = new Set<Watcher>();
  private readonly recentLog: KeystrokeLogEntry[] = [];
  private drainCheck: NodeJS.Timeout | null = null;

  /** `catchUp` reads the current screen; what it returns must reflect every frame broadcast before the call. */
  constructor(private readonly catchUp: () => Promise<WatchFrame[]>) {}

  get size() {
    return this.watchers.size;
  }

  /** Adds a watcher: the greeting (what it watches), the recent keystroke log, then the current screen. */
  add(socket: WebSocket, greeting: WatchServerMessage[]): Watcher {
    const watcher: Watcher = { socket, phase: "live", queued: [], queuedBytes: 0 };
    this.watchers.add(watcher);
    for (const message of greeting) this.write(watcher, message);
    this.write(watcher, { type: "log", entries: this.recentLog });
    this.startCatchUp(watcher);
    return watcher;
  }

  remove(watcher: Watcher) {
    this.watchers.delete(watcher);
    if (this.watchers.size === 0) this.stopDrainCheck();
  }

  /** Screen frames: dropped for a watcher that is behind. */
  screen(frame: Buffer | Extract<WatchServerMessage, { type: "resize" }>) {
    for (const watcher of this.watchers) {
      if (watcher.phase === "joining") this.hold(watcher, frame);
      else if (watcher.phase === "live") {
        this.write(watcher, frame);
        if (watcher.socket.bufferedAmount > behindAtBytes) {
          watcher.phase = "behind";
          this.startDrainCheck();
        }
      }
    }
  }

  /** Messages every watcher must get, even one that is behind (they are small): state changes, the log. */
  notice(message: WatchServerMessage) {
    if (message.type === "log") {
      this.recentLog.push(...message.entries);
      if (this.recentLog.length > logKept) this.recentLog.splice(0, this.recentLog.length - logKept);
    }
    for (const watcher of this.watchers) {
      if (watcher.phase === "joining") this.hold(watcher, message);
      else this.write(watcher, message);
    }
  }

  private hold(watcher: Watcher, frame: WatchFrame) {
    watcher.queued.push(frame);
    watcher.queuedBytes += frameBytes(frame);
  }

  private write(watcher: Watcher, frame: WatchFrame) {
    const { socket } = watcher;
    if (socket.readyState !== socket.OPEN) return;
    if (Buffer.isBuffer(frame)) socket.send(frame, { binary: true });
    else socket.send(JSON.stringify(frame));
  }

  private startCatchUp(watcher: Watcher) {
    watcher.phase = "joining";
    watcher.queued = [];
    watcher.queuedBytes = 0;
    this.catchUp().then(
      (frames) => {
        if (!this.watchers.has(watcher)) return;
        if (watcher.queuedBytes > joiningQueueLimit) return this.startCatchUp(watcher);
        for (const frame of frames) this.write(watcher, frame);
        for (const frame of watcher.queued) this.write(watcher, frame);
        watcher.queued = [];
        watcher.queuedBytes = 0;
        watcher.phase = "live";
        if (watcher.socket.bufferedAmount > behindAtBytes) {
          watcher.phase = "behind";
          this.startDrainCheck();
        }
      },
      (error: unknown) => {
        console.error("a watcher could not be shown the current screen:", error);
        this.write(watcher, { type: "error", message: "the gateway could not read the current screen; reopen the view" });
        watcher.socket.close(1011, "catch-up failed");
      },
    );
  }

  private startDrainCheck() {
    this.drainCheck ??= setInterval(() => {
      let stillBehind = false;
      for (const watcher of this.watchers) {
        if (watcher.phase !== "behind") continue;
        if (watcher.socket.bufferedAmount < drainedBelowBytes) this.startCatchUp(watcher);
        else stillBehind = true;
      }
      if (!stillBehind) this.stopDrainCheck();
    }, 250);
  }

  private stopDrainCheck() {
    if (this.drainCheck) clearInterval(this.drainCheck);
    this.drainCheck = null;
  }

  /** The session ended: every watcher is told why and disconnected. */
  end(message: Extract<WatchServerMessage, { type: "ended" }>) {
    for (const watcher of this.watchers) {
      this.write(watcher, message);
      watcher.socket.close(1000, "session ended");
    }
    this.watchers.clear();
    this.stopDrainCheck();
  }
}
