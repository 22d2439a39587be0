// A session that runs on another node, watched from this one. One link from the owning node carries it and this
// node fans it out to its own watchers, so the owning node's work is the same for one watcher here or fifty.
// This node keeps the link's last catch-up and the frames since, so a watcher joining here is caught up without
// asking the owning node; when that copy has grown too long, it asks the owning node to catch the link up again.
import type { WebSocket } from "ws";
import type { Actor } from "../../lib/data/audit";
import { parseJsonFrame } from "../../lib/protocol/json-frame";
import { watchServerMessageSchema, type NodeLinkMessage, type WatchServerMessage } from "../../lib/protocol/live";
import { onMessage } from "../socket-guard";
import { frameBytes, refuseWatcherInput, WatcherHub, type ScreenFrame, type WatchFrame } from "../live/watchers";
import { log } from "../../lib/infra/log";

/** The link's stream from its last catch-up on, kept for watchers joining here; past this a join asks for a new one. */
const keptStreamLimit = 8 * 1024 * 1024;

export interface WatchedSession {
  id: string;
  username: string;
  targetName: string;
}
/** Puts a join or leave on the session's timeline and in the audit log (`recordWatching`). */
export type RecordWatching = (kind: "watch.join" | "watch.leave", viewer: Actor, session: WatchedSession) => void;

export class RelayedSession {
  private readonly hub = new WatcherHub(() => this.currentScreen());
  /** Every browser socket watching through this link, joined or waiting for the link's greeting. */
  private readonly sockets = new Set<WebSocket>();
  private joined: WatchServerMessage | null = null;
  private state: WatchServerMessage | null = null;
  /** Set once the link has sent what a watcher is greeted with (joined, state, the log). */
  private greeted = false;
  private readonly waitingForGreeting: (() => void)[] = [];
  /** A catch-up arriving on the link now: from its `screen` to its `live`. */
  private arriving: WatchFrame[] | null = null;
  /** The link's last catch-up and every screen frame since, or null once that grew past `keptStreamLimit`. */
  private kept: { frames: WatchFrame[]; bytes: number } | null = null;
  private readonly screenWanted: ((frames: WatchFrame[]) => void)[] = [];
  private resyncAsked = false;

  constructor(
    private readonly upstream: WebSocket,
    private readonly ownerName: string,
    private readonly recordWatching: RecordWatching,
    private readonly onGone: () => void,
  ) {
    upstream.on("open", () => this.tellViewers());
    onMessage(upstream, `relay from node ${ownerName}`, (data, isBinary) => (isBinary ? this.screenFrame(data) : this.message(data.toString("utf8"))));
    upstream.on("error", (error) => log.error({ err: error.message }, `relay from node ${ownerName} failed`));
    upstream.on("close", () => this.linkClosed());
  }

  /** A browser of this node starts watching; its join and leave are recorded here. */
  add(socket: WebSocket, viewer: Actor, session: WatchedSession) {
    this.sockets.add(socket);
    refuseWatcherInput(socket);
    this.recordWatching("watch.join", viewer, session);
    this.tellViewers();
    const join = () => {
      if (socket.readyState !== socket.OPEN) return;
      const watcher = this.hub.add(socket, [this.joined!, this.state!]);
      socket.once("close", () => this.hub.remove(watcher));
    };
    if (this.greeted) join();
    else this.waitingForGreeting.push(join);
    socket.once("close", () => {
      this.sockets.delete(socket);
      this.recordWatching("watch.leave", viewer, session);
      if (this.sockets.size > 0) return this.tellViewers();
      this.onGone();
      this.upstream.close(1000, "no one watches");
    });
  }

  private tellViewers() {
    if (this.upstream.readyState !== this.upstream.OPEN) return;
    this.upstream.send(JSON.stringify({ type: "viewers", count: this.sockets.size } satisfies NodeLinkMessage));
  }

  /** The screen for watchers joining here: the kept stream, or the owning node's next catch-up of the link. */
  private currentScreen(): Promise<WatchFrame[]> {
    if (this.kept && !this.arriving) return Promise.resolve([...this.kept.frames]);
    return new Promise((resolve) => {
      this.screenWanted.push(resolve);
      if (this.arriving || this.resyncAsked || this.upstream.readyState !== this.upstream.OPEN) return;
      this.resyncAsked = true;
      this.upstream.send(JSON.stringify({ type: "resync" } satisfies NodeLinkMessage));
    });
  }

  private screenFrame(frame: ScreenFrame) {
    if (this.arriving) return void this.arriving.push(frame);
    if (this.kept) {
      this.kept.frames.push(frame);
      this.kept.bytes += frameBytes(frame);
      if (this.kept.bytes > keptStreamLimit) this.kept = null;
    }
    this.hub.screen(frame);
  }

  private message(text: string) {
    const parsed = parseJsonFrame(watchServerMessageSchema, text);
    if (!parsed.success) return log.error(`node ${this.ownerName} sent a malformed watch message`);
    const message = parsed.data;
    switch (message.type) {
      case "joined":
        this.joined = message;
        return;
      case "state":
        this.state = message;
        return this.hub.notice(message);
      case "log":
        this.hub.notice(message);
        if (!this.greeted) {
          this.greeted = true;
          for (const join of this.waitingForGreeting.splice(0)) join();
        }
        return;
      case "screen":
      case "page":
      case "desktop":
        // What the hub holds for watchers joining here is already drawn by this screen.
        this.arriving = [message];
        return this.hub.forgetHeldFrames();
      case "resize":
        return this.screenFrame(message);
      case "live":
        return this.caughtUp(message.continuous);
      case "ended":
        return this.hub.end(message);
      case "error":
        return this.hub.notice(message);
    }
  }

  private caughtUp(continuous: boolean) {
    const frames = this.arriving ?? [];
    this.arriving = null;
    this.resyncAsked = false;
    this.kept = { frames, bytes: frames.reduce((sum, frame) => sum + frameBytes(frame), 0) };
    for (const resolve of this.screenWanted.splice(0)) resolve([...frames]);
    // The owning node dropped frames for this link (it fell behind): nobody here is in step any more.
    if (!continuous) this.hub.catchUpAll();
  }

  private linkClosed() {
    this.onGone();
    for (const socket of this.sockets) {
      if (socket.readyState !== socket.OPEN) continue;
      socket.send(JSON.stringify({ type: "error", message: `node ${this.ownerName}, which runs this session, cannot be reached` } satisfies WatchServerMessage));
      socket.close(1011, "owning node unreachable");
    }
  }
}
