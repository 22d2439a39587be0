// A web session as this node carries it once the user's pages record here: their events go to the recording
// and to security's watchers, and security's controls reach the pages (a lock notice over the app, the end).
// The app proxy keeps deciding every request from the session's row, so a lock or an end holds on any node.
// What pages send is the pages' word (a page runs the app's code too, and can stop its recorder): every batch is
// validated and bounded (./page-limits.ts), and silence is put on the timeline; the proxy's request log is the
// record the page cannot touch.
import type { WebSocket } from "ws";
import { audit, type Actor } from "../../lib/data/audit";
import type { Runtime } from "../../lib/infra/runtime";
import { sessionTexts } from "../../lib/data/settings";
import type { ControlledState, SessionControlCommand } from "../../lib/protocol/live";
import { parseJsonFrame } from "../../lib/protocol/json-frame";
import { isUserActivity, navigationOf, type PageEvent, type PageMessage } from "../../lib/protocol/page-recorder";
import type { EndReason } from "../../lib/protocol/session-socket";
import { pageClientMessageSchema } from "../../lib/protocol/web-recording";
import type { SessionEventBatcher, SessionEventInput } from "../../lib/data/session-events";
import { endWebSession, extendWebSession, type WebSessionRow } from "../../lib/data/web-sessions";
import { chainEnd } from "../../lib/data/recordings";
import { WebRecorder } from "../recorder/web-recorder";
import { expiryWarningMs, LiveSessionCore } from "../live/live-session-core";
import { sessionRegistry, type LiveSession } from "../live/session-registry";
import { databaseSessionStore } from "../live/session-store";
import { guardSocket, logFailure, onMessage } from "../socket-guard";
import { PageEventBudget, pageLimits } from "./page-limits";

/** No page has sent events for this long (all closed, or their recorders stopped): said on the timeline. */
const silentAfterMs = 15_000;
/** A visit is extended at most once in this long, however often its pages ask. */
const extendEveryMs = 3000;

export interface WebSessionHooks {
  /** The user did something: the idle timeout starts again. */
  active(row: WebSessionRow): void;
  /** Security locked or unlocked the visit, its row already says so: this node's next request must see it. */
  controlled(sessionId: string): void;
  /** The visit's row is ended: its app WebSockets close, its held requests go, this node forgets it. */
  ended(sessionId: string): void;
  /** Where the session's navigations and notes go on the timeline (written in batches). */
  timeline: SessionEventBatcher;
}

/** How long a page that broke the rules has to answer the close before its socket is cut (ws would wait 30 s). */
const closeAnswerMs = 1_000;

/**
 * A page that broke the rules is told why, then cut off: a hostile page does not answer the close, and while it
 * does not, its socket would still count as an open page (and hold what the kernel buffered of its flood).
 */
function cutOff(socket: WebSocket, code: number, reason: string) {
  socket.close(code, reason);
  setTimeout(() => socket.terminate(), closeAnswerMs).unref();
}

export class LiveWebSession implements LiveSession {
  readonly protocol = "web";
  private readonly pages = new Set<WebSocket>();
  private readonly core: LiveSessionCore;
  private readonly recorder: WebRecorder;
  /** What a locked visit's pages were told; null for a lock this node took over with the visit (told afresh). */
  private lockMessage: string | null = null;
  private lastAddress: string | null = null;
  private addressShown = true;
  private readonly budget = new PageEventBudget();
  /** Why the pages' sockets are not being read: the budget is in debt, or the recording is catching up. */
  private heldUntil = 0;
  private catchingUp = false;
  private silence: NodeJS.Timeout | null = null;
  /** The time of the last event recorded, on the gateway's clock. */
  private lastEventAt = 0;
  private lastExtendAt = 0;

  private constructor(
    private readonly runtime: Runtime,
    private readonly row: WebSessionRow,
    after: { seq: number; sha256: string } | undefined,
    private readonly hooks: WebSessionHooks,
  ) {
    const { session, target } = row;
    this.core = new LiveSessionCore(
      { username: row.username, targetName: target.name, protocol: "web", node: runtime.config.nodeName, recorded: target.recordSessions },
      databaseSessionStore(runtime.db),
      {
        catchUp: () => this.recorder.catchUp(),
        controlled: (state, userMessage) => this.controlled(state, userMessage),
        watchersChanged: (count) => {
          if (target.announceWatchers) for (const page of this.pages) this.tell(page, { type: "watchers", count });
        },
        stop: (_reason, message) => this.stop(message),
        finish: (reason, message) => this.finish(reason, message),
      },
      session.status === "locked" ? { state: "locked", controlledBy: { by: "security", reason: "" } } : { state: "active" },
    );
    this.core.opened(session.id, session.startedAt.getTime());
    // Ended here at its deadline, and by the sweep of any node should this one be gone by then.
    if (session.expiresAt) this.setDeadline(session.expiresAt);
    this.recorder = new WebRecorder({
      db: runtime.db,
      blobStore: runtime.blobStore,
      sessionId: session.id,
      startedAt: session.startedAt.getTime(),
      store: target.recordSessions,
      after,
      wantSnapshot: () => this.askForSnapshot(),
      quotaBytes: pageLimits.storedBytesPerSession,
      quotaReached: () => this.note("web.recording_limited", { reason: `the session reached its storage quota of ${pageLimits.storedBytesPerSession / 1024 / 1024} MiB; the rest is not stored` }),
    });
  }

  /** The session's live side on this node, taken up here if its pages recorded elsewhere before. */
  static async open(runtime: Runtime, row: WebSessionRow, hooks: WebSessionHooks): Promise<LiveWebSession> {
    const existing = sessionRegistry.find(row.session.id);
    if (existing instanceof LiveWebSession) return existing;
    const after = await chainEnd(runtime.db, row.session.id);
    const again = sessionRegistry.find(row.session.id);
    if (again instanceof LiveWebSession) return again;
    const live = new LiveWebSession(runtime, row, after, hooks);
    sessionRegistry.add(live);
    return live;
  }

  get sessionId() {
    return this.row.session.id;
  }

  get liveState(): string {
    return this.core.state;
  }

  private get ended() {
    return this.core.state === "ended";
  }

  /** A page of the user's: its recorder streams events here until the page goes away. */
  attachPage(socket: WebSocket) {
    guardSocket(socket, `session ${this.sessionId}: page events`);
    if (this.ended) return void socket.close(4403, "session ended");
    this.pages.add(socket);
    this.noticeSilence();
    if (this.reading()) socket.resume();
    else socket.pause();
    // What the terminal and desktop pages show in the gateway's own page, shown over the app: the lock, the end
    // nearing, who watches, that it is recorded. The admin's wording is read once, and only when needed.
    const { recordSessions, announceWatchers } = this.row.target;
    const locked = this.core.state === "locked";
    const toldLock = this.lockMessage;
    if (locked && toldLock) this.tell(socket, { type: "state", state: "locked", message: toldLock });
    const { expiresAt } = this.core;
    if (expiresAt !== null && expiresAt - Date.now() <= expiryWarningMs) this.tell(socket, this.expiryMessage(expiresAt));
    if (announceWatchers && this.core.watcherCount > 0) this.tell(socket, { type: "watchers", count: this.core.watcherCount });
    if ((locked && !toldLock) || recordSessions) {
      logFailure(
        sessionTexts(this.runtime.db).then(({ lockMessage, recordingNotice }) => {
          if (locked && !toldLock) this.tell(socket, { type: "state", state: "locked", message: lockMessage });
          if (recordSessions && recordingNotice) this.tell(socket, { type: "recording", notice: recordingNotice });
        }),
        `session ${this.sessionId}: telling a page of its lock and recording`,
      );
    }
    // The page's clock may be off the gateway's: its events are shifted by the difference seen on the first batch.
    let clockOffset: number | null = null;
    onMessage(socket, `session ${this.sessionId}: page events`, async (data, isBinary) => {
      if (isBinary) return cutOff(socket, 1003, "page events are JSON text");
      const message = parseJsonFrame(pageClientMessageSchema, data.toString("utf8"));
      if (!message.success) return cutOff(socket, 1008, "not a batch of page events");
      if ("type" in message.data) return this.extend();
      const batch = message.data;
      clockOffset ??= Date.now() - batch.sentAt;
      const offset = clockOffset;
      // On the gateway's clock, in order and never ahead of it: a page cannot stretch or scatter the recording
      // (chunks are cut by time, so timestamps a day apart would otherwise make a chunk per event).
      const now = Date.now();
      this.record(
        batch.events.map((event) => {
          this.lastEventAt = Math.min(now, Math.max(this.lastEventAt, event.timestamp + offset));
          return { ...event, timestamp: this.lastEventAt };
        }),
      );
      this.throttle(this.budget.spend(batch.events.length, data.length), socket);
    });
    socket.once("close", () => {
      this.pages.delete(socket);
      this.noticeSilence();
    });
  }

  private reading() {
    return !this.catchingUp && Date.now() >= this.heldUntil;
  }

  private syncReading() {
    const read = this.reading();
    for (const page of this.pages) {
      if (read) page.resume();
      else page.pause();
    }
  }

  /**
   * Reading starts again once the hold is over. Timers run on a clock of their own, so one can fire a millisecond
   * before `heldUntil` by the wall clock; it then waits again rather than leaving the pages paused for good (a paused
   * socket never notices that its page went away).
   */
  private resumeWhenHeldEnds() {
    const left = this.heldUntil - Date.now();
    if (left > 0) setTimeout(() => this.resumeWhenHeldEnds(), left).unref();
    else this.syncReading();
  }

  /** After a batch: the pages wait while the budget is in debt or the recording has too much to store. */
  private throttle(waitMs: number, sender: WebSocket) {
    if (waitMs > pageLimits.longestPauseMs) {
      this.note("web.recording_limited", { reason: "a page sent far more events than a session may record; its recorder was cut off" });
      return cutOff(sender, 1008, "page events over the limit");
    }
    if (waitMs > 0) {
      this.heldUntil = Math.max(this.heldUntil, Date.now() + waitMs);
      this.resumeWhenHeldEnds();
    }
    if (!this.catchingUp && this.recorder.unstoredLength() > pageLimits.unstoredBytes) {
      this.catchingUp = true;
      this.recorder.stored().finally(() => {
        this.catchingUp = false;
        this.syncReading();
      });
    }
    this.syncReading();
  }

  private expiryMessage(expiresAt: number, canExtend = true): PageMessage {
    const { target } = this.row;
    const extendable = canExtend && target.extensionSeconds > 0 && (target.maxSessionSeconds === 0 || expiresAt + target.extensionSeconds * 1000 <= this.row.session.startedAt.getTime() + target.maxSessionSeconds * 1000);
    return { type: "expiry", expiresAt: new Date(expiresAt).toISOString(), canExtend: extendable, extensionSeconds: target.extensionSeconds };
  }

  private setDeadline(expiresAt: Date) {
    this.core.setDeadline(expiresAt.getTime(), "it reached its time limit", () => {
      for (const page of this.pages) this.tell(page, this.expiryMessage(expiresAt.getTime()));
    });
  }

  /** The user asked for more time: granted within the target's longest duration, audited, told to every page. */
  private async extend() {
    // One request in a few seconds is a person's; more is a page flooding the audit log.
    if (Date.now() - this.lastExtendAt < extendEveryMs) return;
    this.lastExtendAt = Date.now();
    const user = { id: this.row.session.userId, name: this.row.username, sourceIp: this.row.session.clientAddress };
    const extended = await extendWebSession(this.runtime.db, user, this.sessionId, this.row.target);
    const { expiresAt } = this.core;
    if (!extended) {
      if (expiresAt !== null) for (const page of this.pages) this.tell(page, this.expiryMessage(expiresAt, false));
      return;
    }
    this.setDeadline(extended);
    for (const page of this.pages) this.tell(page, this.expiryMessage(extended.getTime()));
    await audit(this.runtime.db, user, { action: "session.extend", objectType: "session", objectId: this.sessionId, details: { expiresAt: extended.toISOString() } });
  }

  /** With no page open, silence is put on the timeline once it lasts; a page attaching again ends it. */
  private noticeSilence() {
    if (this.silence) clearTimeout(this.silence);
    this.silence = null;
    if (this.pages.size > 0 || this.ended) return;
    this.silence = setTimeout(() => {
      this.silence = null;
      if (!this.ended && this.pages.size === 0) this.note("web.recorder_silent", { reason: `no page has sent events for ${silentAfterMs / 1000} s` });
    }, silentAfterMs).unref();
  }

  private note(kind: SessionEventInput["kind"], details: Record<string, unknown>) {
    this.hooks.timeline.add({ sessionId: this.sessionId, kind, actorName: "gatehouse", details });
  }

  private record(events: PageEvent[]) {
    if (this.ended || events.length === 0) return;
    const seekPointAllowed = () => {
      const { allowed, firstPast } = this.budget.snapshots.take();
      if (firstPast) this.note("web.recording_limited", { reason: `more than ${pageLimits.snapshotsPerMinute} page loads in a minute: the rest this minute are stored inline, not as seek points` });
      return allowed;
    };
    this.core.screen(this.recorder.add(events, seekPointAllowed));
    if (events.some(isUserActivity)) this.hooks.active(this.row);
    for (const event of events) {
      const address = navigationOf(event);
      if (address === null || address === this.lastAddress) continue;
      this.lastAddress = address;
      this.addressShown = false;
      const { allowed, firstPast } = this.budget.navigations.take();
      if (firstPast) this.note("web.recording_limited", { reason: `more than ${pageLimits.navigationsPerMinute} navigations in a minute: the rest this minute are not put on the timeline` });
      if (!allowed) continue;
      const path = new URL(address).pathname;
      this.hooks.timeline.add({ sessionId: this.sessionId, kind: "web.navigation", actorName: this.row.username, details: { href: address, path }, at: new Date(event.timestamp) });
    }
  }

  private askForSnapshot() {
    const newest = [...this.pages].at(-1);
    if (newest) this.tell(newest, { type: "snapshot" });
  }

  private tell(page: WebSocket, message: PageMessage) {
    if (page.readyState === page.OPEN) page.send(JSON.stringify(message));
  }

  watch(socket: WebSocket, viewer: Actor) {
    this.core.watch(socket, viewer);
  }

  relayTo(link: WebSocket) {
    this.core.relayTo(link);
  }

  applyControl(command: SessionControlCommand) {
    return this.core.applyControl(command);
  }

  /** Security locked or unlocked the visit: every page says so over the app. */
  private controlled(state: ControlledState, userMessage: string) {
    this.hooks.controlled(this.sessionId);
    this.lockMessage = state === "locked" ? userMessage : null;
    const message: PageMessage = state === "locked" ? { type: "state", state: "locked", message: userMessage } : { type: "state", state: "active", message: "" };
    for (const page of this.pages) this.tell(page, message);
  }

  /** The dashboard shows a web visit's address, not a picture: its pages are in the recording. */
  async takeThumbnail(): Promise<null> {
    return null;
  }

  async takePreview(): Promise<string | null> {
    if (this.addressShown || this.lastAddress === null) return null;
    this.addressShown = true;
    return this.lastAddress;
  }

  /** Ends the session here: the row (if no one ended it yet), the pages, the watchers, the recording. */
  end(reason: EndReason, message: string) {
    return this.core.end(reason, message);
  }

  private stop(message: string) {
    sessionRegistry.delete(this);
    if (this.silence) clearTimeout(this.silence);
    for (const page of this.pages) {
      this.tell(page, { type: "ended", message: `Your session on ${this.row.target.name} has ended: ${message}. Open the app again from Gatehouse if you still have access.` });
      page.close(4403, "session ended");
    }
  }

  private async finish(reason: EndReason, message: string) {
    await this.recorder.close();
    await endWebSession(this.runtime.db, this.sessionId, reason, message);
    this.hooks.ended(this.sessionId);
  }
}
