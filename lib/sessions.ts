// Session rows: who reached what, from which node, when, for how long, how it ended, how many bytes.
import { and, eq, ne, sql } from "drizzle-orm";
import type { Database } from "./db/client";
import { recordingChunks, sessions } from "./db/schema";
import type { EndReason } from "./protocol/terminal";
import type { Protocol } from "./protocol/domain";

export async function openSessionRow(db: Database, row: { userId: string; targetId: string; targetName: string; protocol: Protocol; node: string }) {
  const [created] = await db
    .insert(sessions)
    .values({ ...row, status: "connecting" })
    .returning({ id: sessions.id, startedAt: sessions.startedAt });
  return created!;
}

export async function markSessionActive(db: Database, id: string) {
  await db.update(sessions).set({ status: "active" }).where(eq(sessions.id, id));
}

export async function closeSessionRow(db: Database, id: string, end: { reason: EndReason; bytesFromUser: number; bytesToUser: number }) {
  await db
    .update(sessions)
    .set({ status: "ended", endedAt: new Date(), endReason: end.reason, bytesFromUser: end.bytesFromUser, bytesToUser: end.bytesToUser })
    .where(eq(sessions.id, id));
}

/**
 * Ends the sessions a node left open when it died, as `interrupted`, at the time of their last recorded
 * event (or their start). Returns how many there were.
 */
export async function markInterruptedSessions(db: Database, node: string): Promise<number> {
  const lastEvent = sql`(select max(${recordingChunks.endMs}) from ${recordingChunks} where ${recordingChunks.sessionId} = ${sessions.id})`;
  const ended = await db
    .update(sessions)
    .set({ status: "ended", endReason: "interrupted", endedAt: sql`${sessions.startedAt} + coalesce(${lastEvent}, 0) * interval '1 millisecond'` })
    .where(and(eq(sessions.node, node), ne(sessions.status, "ended")))
    .returning({ id: sessions.id });
  return ended.length;
}
