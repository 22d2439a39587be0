// The people watching one live session. Every frame the user gets is fanned out to them as it is; a joining
// watcher first gets the current screen (the protocol's catch-up), then the frames that arrived meanwhile.
// A watcher that cannot keep up is never waited for: its frames are dropped once its socket holds too much, and
// when it has drained it is caught up again from the screen as it is then.
import type { WebSocket } from "ws";
import type { KeystrokeLogEntry, WatchServerMessage } from "../lib/protocol/live";

/** A binary frame (screen bytes, as the user got them) or a control message. */
export type WatchFrame = Buffer | WatchServerMessage;

/**
 * A watcher is behind when its socket holds this much more unsent data than at its emptiest since it was last
 * caught up (a catch-up itself may be megabytes, which a healthy watcher then drains): it gets no more screen
 * frames until it has drained…
 */
const behindAtBytes = 1024 * 1024;
/** …to this much, and is then caught up afresh. */
const drainedBelowBytes = 64 * 1024;
/** Screen frames held for joining watchers while the screen is read; past this it is read again instead. */
const joiningQueueLimit = 8 * 1024 * 1024;
/** The keystroke log a joining watcher gets. */
const logKept = 500;

export interface Watcher {
  socket: WebSocket;
  phase: "joining" | "live" | "behind";
  /** The least unsent data seen since the last catch-up: the baseline `behindAtBytes` is measured from. */
  lowestBuffered: number;
}

/**
 * One read of the current screen, shared by every watcher that joins (or falls behind) while it is in flight:
 * fifty people opening the view at once cost one read. Screen frames broadcast meanwhile are kept once for all.
 */
interface CatchUp {
  watchers: Set<Watcher>;
  since: WatchFrame[];
  sinceBytes: number;
}

const frameBytes = (frame: WatchFrame) => (Buffer.isBuffer(frame) ? frame.length : 64);

export class WatcherHub {
  private readonly watchers = new Set<Watcher>();
  private readonly recentLog: KeystrokeLogEntry[] = [];
  private drainCheck: NodeJS.Timeout | null = null;
  private catchingUp: CatchUp | null = null;

  /** `catchUp` reads the current screen; what it returns must reflect every frame broadcast before the call. */
  constructor(private readonly catchUp: () => Promise<WatchFrame[]>) {}

  get size() {
    return this.watchers.size;
  }

  /** Adds a watcher: the greeting (what it watches), the recent keystroke log, then the current screen. */
  add(socket: WebSocket, greeting: WatchServerMessage[]): Watcher {
    const watcher: Watcher = { socket, phase: "live", lowestBuffered: 0 };
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
    if (this.catchingUp) {
      this.catchingUp.since.push(frame);
      this.catchingUp.sinceBytes += frameBytes(frame);
    }
    for (const watcher of this.watchers) {
      if (watcher.phase !== "live") continue;
      this.write(watcher, frame);
      this.checkBehind(watcher);
    }
  }

  /** Messages every watcher gets at once, even one joining or behind (they are small): state changes, the log. */
  notice(message: WatchServerMessage) {
    if (message.type === "log") {
      this.recentLog.push(...message.entries);
      if (this.recentLog.length > logKept) this.recentLog.splice(0, this.recentLog.length - logKept);
    }
    for (const watcher of this.watchers) this.write(watcher, message);
  }

  private write(watcher: Watcher, frame: WatchFrame) {
    const { socket } = watcher;
    if (socket.readyState !== socket.OPEN) return;
    if (Buffer.isBuffer(frame)) socket.send(frame, { binary: true });
    else socket.send(JSON.stringify(frame));
  }

  private startCatchUp(watcher: Watcher) {
    watcher.phase = "joining";
    if (this.catchingUp) return void this.catchingUp.watchers.add(watcher);
    const batch: CatchUp = { watchers: new Set([watcher]), since: [], sinceBytes: 0 };
    this.catchingUp = batch;
    this.catchUp().then(
      (frames) => {
        this.catchingUp = null;
        const waiting = [...batch.watchers].filter((member) => this.watchers.has(member));
        // Output outran the read: read again rather than hold without bound.
        if (batch.sinceBytes > joiningQueueLimit) return waiting.forEach((member) => this.startCatchUp(member));
        for (const member of waiting) {
          for (const frame of frames) this.write(member, frame);
          for (const frame of batch.since) this.write(member, frame);
          member.phase = "live";
          member.lowestBuffered = member.socket.bufferedAmount;
        }
      },
      (error: unknown) => {
        this.catchingUp = null;
        console.error("watchers could not be shown the current screen:", error);
        for (const member of batch.watchers) {
          this.write(member, { type: "error", message: "the gateway could not read the current screen; reopen the view" });
          member.socket.close(1011, "catch-up failed");
        }
      },
    );
  }

  private checkBehind(watcher: Watcher) {
    const buffered = watcher.socket.bufferedAmount;
    watcher.lowestBuffered = Math.min(watcher.lowestBuffered, buffered);
    if (buffered - watcher.lowestBuffered <= behindAtBytes) return;
    watcher.phase = "behind";
    this.startDrainCheck();
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
