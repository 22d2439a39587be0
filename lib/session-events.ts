// A session's timeline beside its bytes: who watched it, who locked, paused or ended it, and why.
import { asc, eq } from "drizzle-orm";
import { audit, type Actor } from "./audit";
import type { Database } from "./db/client";
import { sessionEvents } from "./db/schema";

export type SessionEventKind = "watch.join" | "watch.leave" | "lock" | "unlock" | "pause" | "resume" | "terminate" | "terminate_and_cancel" | "web.request" | "web.navigation";

export async function addSessionEvent(db: Database, event: { sessionId: string; kind: SessionEventKind; actorName: string; details?: Record<string, unknown> }) {
  await db.insert(sessionEvents).values({ ...event, details: event.details ?? {} });
}

export async function listSessionEvents(db: Database, sessionId: string) {
  return db.select().from(sessionEvents).where(eq(sessionEvents.sessionId, sessionId)).orderBy(asc(sessionEvents.id));
}

/** Someone from security started or stopped watching: on the session's timeline and in the audit log. */
export async function recordWatching(db: Database, kind: "watch.join" | "watch.leave", viewer: Actor, session: { id: string; username: string; targetName: string }) {
  await Promise.all([
    addSessionEvent(db, { sessionId: session.id, kind, actorName: viewer.name }),
    audit(db, viewer, { action: `session.${kind}`, objectType: "session", objectId: session.id, details: { user: session.username, target: session.targetName } }),
  ]).catch((error) => console.error(`recording ${kind} of session ${session.id} failed:`, error));
}
