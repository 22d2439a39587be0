// A web session as this node carries it once the user's pages record here: their events go to the recording
// and to security's watchers, and security's controls reach the pages (a lock notice over the app, the end).
// The app proxy keeps deciding every request from the session's row, so a lock or an end holds on any node.
import type { WebSocket } from "ws";
import type { Actor } from "../../lib/audit";
import type { Runtime } from "../../lib/runtime";
import { lockedMessage, type ControlCommand, type WatchServerMessage } from "../../lib/protocol/live";
import { parseJsonFrame } from "../../lib/protocol/json-frame";
import { isUserActivity, navigationOf, type PageEvent, type PageMessage } from "../../lib/protocol/page-recorder";
import type { EndReason } from "../../lib/protocol/terminal";
import { pageEventBatchSchema } from "../../lib/protocol/web-recording";
import { addSessionEvent, recordWatching } from "../../lib/session-events";
import { endWebSession, type WebSessionRow } from "../../lib/web-apps";
import { chainEnd } from "../recorder/chunk-writer";
import { WebRecorder } from "../recorder/web-recorder";
import { sessionRegistry, type LiveSession } from "../session-registry";
import { refuseWatcherInput, serveNodeLink, WatcherHub } from "../watchers";

export interface WebSessionHooks {
  /** The user did something: the idle timeout starts again. */
  active(row: WebSessionRow): void;
  /** A control from security, applied to the session's row (lock, unlock, terminate) wherever its requests land. */
  applyToRow(command: ControlCommand): Promise<{ ok: boolean; message: string }>;
}

export class LiveWebSession implements LiveSession {
  private readonly pages = new Set<WebSocket>();
  private readonly watchers = new WatcherHub(async () => {
    const events = this.recorder.currentPageEvents();
    if (!events) this.askForSnapshot();
    return events ? [{ type: "page" }, events] : [{ type: "page" }];
  });
  private readonly recorder: WebRecorder;
  private locked: { by: string; reason: string } | null;
  private lastAddress: string | null = null;
  private addressShown = true;
  private ended = false;

  private constructor(
    private readonly runtime: Runtime,
    private readonly row: WebSessionRow,
    after: { seq: number; sha256: string } | undefined,
    private readonly hooks: WebSessionHooks,
  ) {
    const { session, target } = row;
    this.locked = session.status === "locked" ? { by: "security", reason: "" } : null;
    this.recorder = new WebRecorder({
      db: runtime.db,
      blobStore: runtime.blobStore,
      sessionId: session.id,
      startedAt: session.startedAt.getTime(),
      store: target.recordSessions,
      after,
      wantSnapshot: () => this.askForSnapshot(),
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

  /** A page of the user's: its recorder streams events here until the page goes away. */
  attachPage(socket: WebSocket) {
    if (this.ended) return void socket.close(4403, "session ended");
    this.pages.add(socket);
    if (this.locked) this.tell(socket, { type: "state", state: "locked", message: lockedMessage });
    // The page's clock may be off the gateway's: its events are shifted by the difference seen on the first batch.
    let clockOffset: number | null = null;
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      const batch = isBinary ? null : parseJsonFrame(pageEventBatchSchema, data.toString("utf8"));
      if (!batch?.success) return socket.close(1008, "not a batch of page events");
      clockOffset ??= Date.now() - batch.data.sentAt;
      const offset = clockOffset;
      this.record(batch.data.events.map((event) => ({ ...event, timestamp: event.timestamp + offset })));
    });
    socket.once("close", () => this.pages.delete(socket));
  }

  private record(events: PageEvent[]) {
    if (this.ended || events.length === 0) return;
    this.watchers.screen(this.recorder.add(events));
    if (events.some(isUserActivity)) this.hooks.active(this.row);
    for (const event of events) {
      const address = navigationOf(event);
      if (address === null || address === this.lastAddress) continue;
      this.lastAddress = address;
      this.addressShown = false;
      const path = new URL(address, "http://app").pathname;
      addSessionEvent(this.runtime.db, { sessionId: this.sessionId, kind: "web.navigation", actorName: this.row.username, details: { href: address, path, atMs: Math.round(event.timestamp - this.row.session.startedAt.getTime()) } }).catch((error) =>
        console.error(`recording a navigation of session ${this.sessionId} failed:`, error),
      );
    }
  }

  private askForSnapshot() {
    const newest = [...this.pages].at(-1);
    if (newest) this.tell(newest, { type: "snapshot" });
  }

  private tell(page: WebSocket, message: PageMessage) {
    if (page.readyState === page.OPEN) page.send(JSON.stringify(message));
  }

  private greeting(): WatchServerMessage[] {
    const { session, target, username } = this.row;
    return [
      {
        type: "joined",
        session: { id: session.id, username, targetName: target.name, protocol: "web", node: this.runtime.config.nodeName, startedAt: session.startedAt.toISOString(), recorded: target.recordSessions },
      },
      this.stateMessage(),
    ];
  }

  private stateMessage(): WatchServerMessage {
    return { type: "state", state: this.locked ? "locked" : "active", by: this.locked?.by ?? null, reason: this.locked?.reason ?? null };
  }

  watch(socket: WebSocket, viewer: Actor) {
    const watcher = this.watchers.add(socket, this.greeting());
    refuseWatcherInput(socket);
    const session = { id: this.sessionId, username: this.row.username, targetName: this.row.target.name };
    void recordWatching(this.runtime.db, "watch.join", viewer, session);
    socket.once("close", () => {
      this.watchers.remove(watcher);
      void recordWatching(this.runtime.db, "watch.leave", viewer, session);
    });
  }

  relayTo(link: WebSocket) {
    // The user is not told who watches a web app; the relaying node records its watchers itself.
    serveNodeLink(this.watchers, link, this.greeting(), { viewers: () => {}, closed: () => {} });
  }

  async applyControl(command: ControlCommand) {
    const outcome = await this.hooks.applyToRow(command);
    if (!outcome.ok) return outcome;
    const { action, actorName, reason } = command;
    if (action === "lock" || action === "unlock") {
      this.locked = action === "lock" ? { by: actorName, reason } : null;
      const message: PageMessage = action === "lock" ? { type: "state", state: "locked", message: lockedMessage } : { type: "state", state: "active", message: "" };
      for (const page of this.pages) this.tell(page, message);
      this.watchers.notice(this.stateMessage());
    } else {
      await this.end("terminated", `terminated by ${actorName} from security: ${reason}`);
    }
    return outcome;
  }

  takePreview(): string | null {
    if (this.addressShown || this.lastAddress === null) return null;
    this.addressShown = true;
    return this.lastAddress;
  }

  /** Ends the session here: the row (if no one ended it yet), the pages, the watchers, the recording. */
  async end(reason: EndReason, message: string) {
    if (this.ended) return;
    this.ended = true;
    sessionRegistry.delete(this);
    for (const page of this.pages) {
      this.tell(page, { type: "ended", message: `Your session on ${this.row.target.name} has ended: ${message}. Open the app again from Gatehouse if you still have access.` });
      page.close(4403, "session ended");
    }
    this.watchers.end({ type: "ended", reason, message });
    await this.recorder.close();
    await endWebSession(this.runtime.db, this.sessionId, reason, message);
  }
}
