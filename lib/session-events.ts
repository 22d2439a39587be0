// A session's timeline beside its bytes: who watched it, who locked, paused or ended it, and why.
import { asc, eq } from "drizzle-orm";
import type { Database } from "./db/client";
import { sessionEvents } from "./db/schema";

export type SessionEventKind = "watch.join" | "watch.leave" | "lock" | "unlock" | "pause" | "resume" | "terminate" | "terminate_and_cancel";

export async function addSessionEvent(db: Database, event: { sessionId: string; kind: SessionEventKind; actorName: string; details?: Record<string, unknown> }) {
  await db.insert(sessionEvents).values({ ...event, details: event.details ?? {} });
}

export async function listSessionEvents(db: Database, sessionId: string) {
  return db.select().from(sessionEvents).where(eq(sessionEvents.sessionId, sessionId)).orderBy(asc(sessionEvents.id));
}
