// What every live session is to oversight, whatever carries its bytes: where it stands (connecting → active ⇄
// locked | paused → ended), who watches it here and through other nodes, the one table of controls security
// applies, and its end. A terminal or desktop session (server/session.ts) and a web visit
// (server/web/web-session.ts) are this core plus what their protocol moves; the core keeps what outlives the
// process through a SessionStore.
import type { WebSocket } from "ws";
import type { Actor } from "../../lib/data/audit";
import { controlTransition, type ControlledState, type LiveState, type SessionControlCommand, type WatchServerMessage } from "../../lib/protocol/live";
import type { EndReason } from "../../lib/protocol/session-socket";
import { terminationNotice } from "../../lib/data/settings";
import { log } from "../../lib/infra/log";
import type { SessionStore } from "./session-store";
import { refuseWatcherInput, serveNodeLink, WatcherHub, type ScreenFrame, type WatchFrame } from "./watchers";

export type CoreState = LiveState | "ended";

/** Users are warned, and may extend, when this much time is left. */
export const expiryWarningMs = 5 * 60 * 1000;
/** The longest delay a Node timer takes; a deadline further away is reached in steps. */
const longestTimerMs = 2 ** 31 - 1;
export type ControlOutcome = { ok: boolean; message: string };

/** What a watcher is told the session is. */
export interface LiveSessionFacts {
  username: string;
  targetName: string;
  protocol: string;
  node: string;
  recorded: boolean;
}

/** What the protocol's side of a session does when the core changes it. */
export interface LiveSessionSide {
  /** Reads the current screen for a joining watcher (see WatcherHub). */
  catchUp(): Promise<WatchFrame[]>;
  /** A control moved the session to `state`, already stored: hold or release the flow, tell the user. */
  controlled(state: ControlledState, userMessage: string): void;
  /** How many people watch it now, here and through other nodes. */
  watchersChanged(count: number): void;
  /** The end, at once: the protocol stopped, the user told. */
  stop(reason: EndReason, message: string): void;
  /** The end, kept: the recording closed, the row ended and audited. Not called for a session that never had an id. */
  finish(reason: EndReason, message: string): Promise<void>;
}

export class LiveSessionCore {
  private sessionId = "";
  private startedAt = 0;
  private current: CoreState;
  private controlledBy: { by: string; reason: string } | null = null;
  private readonly watchers: WatcherHub;
  /** Links to other nodes among the watchers, each with how many people watch through it. */
  private readonly relayedViewers = new Map<WebSocket, number>();
  private watching = 0;
  /** When the session ends unless extended, and the timers that warn and end it. */
  private deadline: { at: number; timers: Set<NodeJS.Timeout> } | null = null;

  constructor(
    private readonly facts: LiveSessionFacts,
    private readonly store: SessionStore,
    private readonly side: LiveSessionSide,
    from: { state: LiveState; controlledBy?: { by: string; reason: string } } = { state: "connecting" },
  ) {
    this.current = from.state;
    this.controlledBy = from.controlledBy ?? null;
    this.watchers = new WatcherHub(() => this.side.catchUp());
  }

  get id() {
    return this.sessionId;
  }

  get state(): CoreState {
    return this.current;
  }

  get started() {
    return this.startedAt;
  }

  /** When the session ends unless extended (null: no time limit). */
  get expiresAt(): number | null {
    return this.deadline?.at ?? null;
  }

  /**
   * The session ends at `at` as `expired`, saying `message`, unless the deadline moves first (an extension);
   * `warn` runs when `expiryWarningMs` are left, at once if fewer are. Replaces the deadline before it.
   */
  setDeadline(at: number, message: string, warn: () => void) {
    this.clearDeadline();
    if (this.current === "ended") return;
    const deadline = { at, timers: new Set<NodeJS.Timeout>() };
    const when = (moment: number, action: () => void) => {
      const timer = setTimeout(
        () => {
          deadline.timers.delete(timer);
          // A timer may fire a little early by the wall clock, and a far deadline is reached in steps.
          if (Date.now() < moment) when(moment, action);
          else action();
        },
        Math.min(longestTimerMs, Math.max(0, moment - Date.now())),
      ).unref();
      deadline.timers.add(timer);
    };
    when(at - expiryWarningMs, warn);
    when(at, () => void this.end("expired", message));
    this.deadline = deadline;
  }

  private clearDeadline() {
    for (const timer of this.deadline?.timers ?? []) clearTimeout(timer);
    this.deadline = null;
  }

  /** How many people watch it now, here and through other nodes. */
  get watcherCount() {
    return this.watching;
  }

  /** The session has its row: from here it can be watched, controlled and ended for the record. */
  opened(id: string, startedAt: number) {
    this.sessionId = id;
    this.startedAt = startedAt;
  }

  /** The protocol is up; false when the session ended meanwhile. */
  activate(): boolean {
    if (this.current !== "connecting") return false;
    this.current = "active";
    return true;
  }

  /** What the user saw, for every watcher. */
  screen(frame: ScreenFrame) {
    this.watchers.screen(frame);
  }

  /** A message every watcher gets at once: the keystroke log, a risk event. */
  notice(message: WatchServerMessage) {
    this.watchers.notice(message);
  }

  private stateMessage(): Extract<WatchServerMessage, { type: "state" }> {
    return { type: "state", state: this.current === "ended" ? "active" : this.current, by: this.controlledBy?.by ?? null, reason: this.controlledBy?.reason ?? null };
  }

  private greeting(): WatchServerMessage[] {
    const { username, targetName, protocol, node, recorded } = this.facts;
    return [{ type: "joined", session: { id: this.sessionId, username, targetName, protocol, node, startedAt: new Date(this.startedAt).toISOString(), recorded } }, this.stateMessage()];
  }

  /** A read-only view for someone from security on this node: the current screen, then everything live. */
  watch(socket: WebSocket, viewer: Actor) {
    const watcher = this.watchers.add(socket, this.greeting());
    refuseWatcherInput(socket);
    this.countWatchers();
    const session = { id: this.sessionId, username: this.facts.username, targetName: this.facts.targetName };
    void this.store.recordWatching("watch.join", viewer, session);
    socket.once("close", () => {
      this.watchers.remove(watcher);
      this.countWatchers();
      void this.store.recordWatching("watch.leave", viewer, session);
    });
  }

  /**
   * The view another node fans out to its own watchers, over one link (server/cluster/relayed-session.ts): that
   * node records their joins and leaves, asks for a fresh catch-up when one joins, and says how many watch.
   */
  relayTo(link: WebSocket) {
    this.relayedViewers.set(link, 0);
    serveNodeLink(this.watchers, link, this.greeting(), {
      viewers: (count) => {
        this.relayedViewers.set(link, count);
        this.countWatchers();
      },
      closed: () => {
        this.relayedViewers.delete(link);
        this.countWatchers();
      },
    });
  }

  private countWatchers() {
    if (this.current === "ended") return;
    let count = this.watchers.size - this.relayedViewers.size;
    for (const viewers of this.relayedViewers.values()) count += viewers;
    if (count === this.watching) return;
    this.watching = count;
    this.side.watchersChanged(count);
  }

  /** Applies a control sent by security through the control bus; the requester has audited it. */
  async applyControl(command: SessionControlCommand): Promise<ControlOutcome> {
    const { action, reason, actorName } = command;
    const move = controlTransition(this.current, action, this.facts.protocol);
    if ("refused" in move) return { ok: false, message: move.refused };
    const { to } = move;
    if (to === "ended") {
      await this.store.addEvent({ sessionId: this.sessionId, kind: action, actorName, details: { reason } });
      await this.end("terminated", terminationNotice((await this.store.texts()).terminationMessage, actorName, reason));
      return { ok: true, message: "the session was terminated" };
    }
    this.current = to;
    this.controlledBy = to === "active" ? null : { by: actorName, reason };
    // Stored before anyone hears of it: every node's next request and list read the row.
    await this.store.setStatus(this.sessionId, to);
    // The admin's wording is read only for a lock (the other messages are the gateway's own).
    const userMessage =
      action === "lock" ? (await this.store.texts()).lockMessage : { unlock: "Your session has been unlocked.", pause: `Your session was paused by ${actorName} from security.`, resume: "Your session has been resumed." }[action as "unlock" | "pause" | "resume"];
    this.side.controlled(to, userMessage);
    this.watchers.notice(this.stateMessage());
    await this.store.addEvent({ sessionId: this.sessionId, kind: action, actorName, details: { reason } });
    return { ok: true, message: `the session is ${to}` };
  }

  /** Ends the session once, whoever asks first (the user, the target, security, the time limit, a shutdown). */
  async end(reason: EndReason, message: string): Promise<void> {
    if (this.current === "ended") return;
    this.current = "ended";
    this.clearDeadline();
    this.side.stop(reason, message);
    this.watchers.end({ type: "ended", reason, message });
    if (!this.sessionId) return;
    // Ending is called from event handlers: what fails here is logged, never left to escape.
    try {
      await this.side.finish(reason, message);
    } catch (error) {
      log.error({ err: error, sessionId: this.sessionId }, `ending session ${this.sessionId} (${reason}) could not be fully recorded`);
    }
  }
}
