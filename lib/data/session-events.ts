// A session's timeline beside its bytes: who watched it, who locked, paused or ended it, and why.
import { asc, eq, sql } from "drizzle-orm";
import { audit, type Actor } from "./audit";
import type { Database } from "./client";
import { sessionEvents } from "./schema";
import { log } from "../infra/log";

export type SessionEventKind =
  | "watch.join"
  | "watch.leave"
  | "lock"
  | "unlock"
  | "pause"
  | "resume"
  | "terminate"
  | "terminate_and_cancel"
  | "web.request"
  | "web.navigation"
  /** A page went to the user without the recorder (too large, or in an encoding the gateway does not decode). */
  | "web.page_unrecorded"
  /** No page of the session has been sending events for a while (closed, or its recorder switched off). */
  | "web.recorder_silent"
  /** The pages sent more than a session may record: events were held back, or storage stopped at the quota. */
  | "web.recording_limited";

export interface SessionEventInput {
  sessionId: string;
  kind: SessionEventKind;
  actorName: string;
  details?: Record<string, unknown>;
  /** When it happened, if not now: a page's navigation reaches the gateway up to a batch (or a reconnect) late. */
  at?: Date;
}

export async function addSessionEvent(db: Database, event: SessionEventInput) {
  await db.insert(sessionEvents).values({ ...event, details: event.details ?? {} });
}

/** A queued event as the batch's JSON carries it to the database: column names, the moment as ISO text. */
interface QueuedEvent {
  session_id: string;
  at: string;
  kind: SessionEventKind;
  actor_name: string;
  details: Record<string, unknown>;
}

/**
 * Session events that come in floods (a web session's requests and navigations): written in one INSERT per
 * `flushMs` at most, each with its own moment or the one it was queued. The queue is bounded; what would overflow it is
 * counted and said in the log instead of held. The batch goes as one JSON parameter that the database unpacks: a
 * statement with a parameter per column per row took the gateway's thread ~20 µs an event to build (a second's
 * requests of one busy app, ~14 ms in which no request was served).
 */
export class SessionEventBatcher {
  private queued: QueuedEvent[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Database,
    private readonly flushMs = 1000,
    private readonly limit = 10_000,
  ) {}

  add(event: SessionEventInput) {
    if (this.queued.length >= this.limit) return void (this.dropped += 1);
    const at = (event.at ?? new Date()).toISOString();
    this.queued.push({ session_id: event.sessionId, at, kind: event.kind, actor_name: event.actorName, details: event.details ?? {} });
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queued;
    this.queued = [];
    if (this.dropped > 0) log.warn(`session events: ${this.dropped} event(s) dropped, more came than the database took in ${this.flushMs} ms`);
    this.dropped = 0;
    if (batch.length === 0) return;
    await this.db
      .execute(
        sql`insert into ${sessionEvents} (session_id, at, kind, actor_name, details)
            select session_id, at, kind, actor_name, details
            from rows from (jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as (session_id uuid, at timestamptz, kind text, actor_name text, details jsonb))
              with ordinality as event(session_id, at, kind, actor_name, details, position)
            order by position`,
      )
      .catch((error) => log.error({ err: error }, "writing session events failed"));
  }
}

export async function listSessionEvents(db: Database, sessionId: string, limit: number) {
  return db.select().from(sessionEvents).where(eq(sessionEvents.sessionId, sessionId)).orderBy(asc(sessionEvents.id)).limit(limit);
}

/** Someone from security started or stopped watching: on the session's timeline and in the audit log. */
export async function recordWatching(db: Database, kind: "watch.join" | "watch.leave", viewer: Actor, session: { id: string; username: string; targetName: string }) {
  await Promise.all([
    addSessionEvent(db, { sessionId: session.id, kind, actorName: viewer.name }),
    audit(db, viewer, { action: `session.${kind}`, objectType: "session", objectId: session.id, details: { user: session.username, target: session.targetName } }),
  ]).catch((error) => log.error({ err: error, sessionId: session.id }, `recording ${kind} of session ${session.id} failed`));
}
