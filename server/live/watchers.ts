// The people watching one live session. Every frame the user gets is fanned out to them as it is; a joining
// watcher first gets the current screen (the protocol's catch-up), then the frames that arrived meanwhile.
// A watcher that cannot keep up is never waited for: its frames are dropped once its socket holds too much, and
// when it has drained it is caught up again from the screen as it is then.
import type { WebSocket } from "ws";
import { parseJsonFrame } from "../../lib/protocol/json-frame";
import { nodeLinkMessageSchema, type KeystrokeLogEntry, type WatchServerMessage } from "../../lib/protocol/live";
import { onMessage } from "../socket-guard";
import { log } from "../../lib/infra/log";

/** A binary frame (screen bytes, as the user got them) or a control message. */
export type WatchFrame = Buffer | WatchServerMessage;
/** What changes the screen: the user's output and their terminal's resizes. */
export type ScreenFrame = Buffer | Extract<WatchServerMessage, { type: "resize" }>;

/** Watch sockets are read-only: anything a watcher sends is answered with an error and goes nowhere. */
export function refuseWatcherInput(socket: WebSocket) {
  onMessage(socket, "watcher", () => socket.send(JSON.stringify({ type: "error", message: "a watcher cannot send input to the session" } satisfies WatchServerMessage)));
}

/**
 * Serves a link from another node (server/cluster/relayed-session.ts) as one watcher of `hub`: that node asks
 * for a fresh catch-up when one of its watchers joins, and says how many people watch through it.
 */
export function serveNodeLink(hub: WatcherHub, link: WebSocket, greeting: WatchServerMessage[], on: { viewers(count: number): void; closed(): void }) {
  const watcher = hub.add(link, greeting);
  onMessage(link, "node link", (data, isBinary) => {
    const message = isBinary ? null : parseJsonFrame(nodeLinkMessageSchema, data.toString("utf8"));
    if (!message?.success) return link.close(1008, "not a node link message");
    if (message.data.type === "resync") return hub.catchUpAgain(watcher);
    on.viewers(message.data.count);
  });
  link.once("close", () => {
    hub.remove(watcher);
    on.closed();
  });
}

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
  /** Whether it has had every screen frame since its last catch-up (false from joining or falling behind until caught up). */
  continuous: boolean;
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

/** What a frame weighs in a bounded queue (control messages count as small). */
export const frameBytes = (frame: WatchFrame) => (Buffer.isBuffer(frame) ? frame.length : 64);

export class WatcherHub {
  private readonly watchers = new Set<Watcher>();
  private readonly recentLog: KeystrokeLogEntry[] = [];
  private drainCheck: NodeJS.Timeout | null = null;
  private catchingUp: CatchUp | null = null;
  private pendingOutput: Buffer[] = [];

  /** `catchUp` reads the current screen; what it returns must reflect every frame broadcast before the call. */
  constructor(private readonly catchUp: () => Promise<WatchFrame[]>) {}

  get size() {
    return this.watchers.size;
  }

  /** Adds a watcher: the greeting (what it watches), the recent keystroke log, then the current screen. */
  add(socket: WebSocket, greeting: WatchServerMessage[]): Watcher {
    this.flushOutput();
    const watcher: Watcher = { socket, phase: "live", lowestBuffered: 0, continuous: false };
    this.watchers.add(watcher);
    for (const message of greeting) this.write(watcher, message);
    this.write(watcher, { type: "log", entries: this.recentLog });
    this.startCatchUp(watcher);
    return watcher;
  }

  /** Catches a watcher up again from the current screen, without a gap: it keeps what it was sent until now. */
  catchUpAgain(watcher: Watcher) {
    if (this.watchers.has(watcher) && watcher.phase !== "joining") this.startCatchUp(watcher);
  }

  /** Every watcher that is not already being caught up is caught up afresh (the frames they had are no longer in step). */
  catchUpAll() {
    for (const watcher of this.watchers) {
      if (watcher.phase === "joining") continue;
      watcher.continuous = false;
      this.startCatchUp(watcher);
    }
  }

  /**
   * The screen being read for joining watchers already shows the frames broadcast since the read began: they are
   * not to be sent after it. (For a `catchUp` whose answer is as of when it arrives rather than when it was asked.)
   */
  forgetHeldFrames() {
    this.flushOutput();
    if (!this.catchingUp) return;
    this.catchingUp.since = [];
    this.catchingUp.sinceBytes = 0;
  }

  remove(watcher: Watcher) {
    this.watchers.delete(watcher);
    if (this.watchers.size === 0) this.stopDrainCheck();
  }

  /**
   * Screen frames: dropped for a watcher that is behind. Output arriving within one turn of the event loop goes
   * out as one frame: under load, fewer and larger writes to every watcher.
   */
  screen(frame: ScreenFrame) {
    // Nobody to send it to, nor a read under way that joiners will need it after: a watcher who comes later
    // starts from its own catch-up read.
    if (this.watchers.size === 0 && !this.catchingUp) return;
    if (Buffer.isBuffer(frame)) {
      this.pendingOutput.push(frame);
      if (this.pendingOutput.length === 1) setImmediate(() => this.flushOutput());
      return;
    }
    this.flushOutput();
    this.broadcast(frame);
  }

  /** Sends the output gathered this turn; done first by everything that must come after it. */
  private flushOutput() {
    if (this.pendingOutput.length === 0) return;
    const output = this.pendingOutput.length === 1 ? this.pendingOutput[0]! : Buffer.concat(this.pendingOutput);
    this.pendingOutput = [];
    this.broadcast(output);
  }

  private broadcast(frame: ScreenFrame) {
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
    this.flushOutput();
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
    // Whatever the catch-up read will show must have gone out to the watchers in step before it starts.
    this.flushOutput();
    watcher.phase = "joining";
    if (this.catchingUp) return void this.catchingUp.watchers.add(watcher);
    const batch: CatchUp = { watchers: new Set([watcher]), since: [], sinceBytes: 0 };
    this.catchingUp = batch;
    this.catchUp().then(
      (frames) => {
        this.catchingUp = null;
        const waiting = [...batch.watchers].filter((member) => this.watchers.has(member));
        // Output outran the read: read again rather than hold without bound.
        if (batch.sinceBytes > joiningQueueLimit) {
          for (const member of waiting) {
            member.continuous = false;
            this.startCatchUp(member);
          }
          return;
        }
        for (const member of waiting) {
          for (const frame of frames) this.write(member, frame);
          this.write(member, { type: "live", continuous: member.continuous });
          for (const frame of batch.since) this.write(member, frame);
          member.phase = "live";
          member.continuous = true;
          member.lowestBuffered = member.socket.bufferedAmount;
        }
      },
      (error: unknown) => {
        this.catchingUp = null;
        log.error({ err: error }, "watchers could not be shown the current screen");
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
    watcher.continuous = false;
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
    this.flushOutput();
    for (const watcher of this.watchers) {
      this.write(watcher, message);
      watcher.socket.close(1000, "session ended");
    }
    this.watchers.clear();
    this.stopDrainCheck();
  }
}
