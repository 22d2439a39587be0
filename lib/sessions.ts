// Session rows: who reached what, from which node, when, for how long, how it ended, how many bytes.
import { and, desc, eq, gte, ilike, inArray, lt, ne, sql } from "drizzle-orm";
import type { Database } from "./db/client";
import { recordingChunks, sessions, users } from "./db/schema";
import type { EndReason } from "./protocol/terminal";
import type { Protocol } from "./protocol/domain";
import type { SessionFilter } from "./protocol/sessions";
import { isUuid } from "./ids";
import { escapeLike } from "./sql-text";

/** A new session's row: `connecting` until its target answers (a web session is `active` from the start). */
export async function openSessionRow(
  db: Database,
  row: { userId: string; targetId: string; targetName: string; protocol: Protocol; node: string; status?: "connecting" | "active"; expiresAt?: Date | null; requestId: string | null; clientAddress: string | null },
) {
  const [created] = await db
    .insert(sessions)
    .values({ status: "connecting", ...row })
    .returning({ id: sessions.id, startedAt: sessions.startedAt });
  return created!;
}

/** When a session must end: its target's time limit or the end of its access, whichever comes first; null for neither. */
export function sessionDeadline(startedAt: number, ttlSeconds: number, accessEndsAt: Date | null): number | null {
  const limits = [ttlSeconds > 0 ? startedAt + ttlSeconds * 1000 : null, accessEndsAt?.getTime() ?? null].filter((limit): limit is number => limit !== null);
  return limits.length > 0 ? Math.min(...limits) : null;
}

export async function markSessionActive(db: Database, id: string) {
  await db.update(sessions).set({ status: "active" }).where(eq(sessions.id, id));
}

export async function setSessionStatus(db: Database, id: string, status: "active" | "locked" | "paused") {
  await db.update(sessions).set({ status }).where(eq(sessions.id, id));
}

export async function savePreview(db: Database, id: string, preview: string) {
  await db.update(sessions).set({ preview }).where(and(eq(sessions.id, id), ne(sessions.status, "ended")));
}

export type SessionRow = typeof sessions.$inferSelect;

/** A session by id (undefined for a malformed or unknown id), with its user's name. */
export async function findSession(db: Database, id: string | undefined) {
  if (!isUuid(id)) return undefined;
  const [row] = await db.select({ session: sessions, username: users.username }).from(sessions).innerJoin(users, eq(users.id, sessions.userId)).where(eq(sessions.id, id));
  return row ? { ...row.session, username: row.username } : undefined;
}

/** Which of these sessions have ended, and why. */
export async function endedSessions(db: Database, ids: string[]) {
  if (ids.length === 0) return [];
  return db.select({ id: sessions.id, endReason: sessions.endReason, endMessage: sessions.endMessage }).from(sessions).where(and(inArray(sessions.id, ids), eq(sessions.status, "ended")));
}

export async function closeSessionRow(db: Database, id: string, end: { reason: EndReason; message: string; bytesFromUser: number; bytesToUser: number }) {
  await db
    .update(sessions)
    .set({ status: "ended", endedAt: new Date(), endReason: end.reason, endMessage: end.message, bytesFromUser: end.bytesFromUser, bytesToUser: end.bytesToUser })
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

const listLimit = 200;

/**
 * Sessions, newest first, with who and whether a recording exists. `onlyUserId` limits the list to one
 * user's own sessions (what a plain user may see).
 */
export async function listSessions(db: Database, filter: Partial<SessionFilter>, scope: { onlyUserId?: string } = {}) {
  const conditions = [
    scope.onlyUserId ? eq(sessions.userId, scope.onlyUserId) : undefined,
    // Someone limited to their own sessions has no one else to filter by.
    filter.user && !scope.onlyUserId ? ilike(users.username, `%${escapeLike(filter.user)}%`) : undefined,
    filter.target ? ilike(sessions.targetName, `%${escapeLike(filter.target)}%`) : undefined,
    filter.protocol ? eq(sessions.protocol, filter.protocol) : undefined,
    filter.node ? ilike(sessions.node, `%${escapeLike(filter.node)}%`) : undefined,
    filter.status === "live" ? ne(sessions.status, "ended") : undefined,
    filter.status === "ended" ? and(eq(sessions.status, "ended"), ne(sessions.endReason, "interrupted")) : undefined,
    filter.status === "interrupted" ? eq(sessions.endReason, "interrupted") : undefined,
    filter.from ? gte(sessions.startedAt, filter.from) : undefined,
    filter.to ? lt(sessions.startedAt, new Date(filter.to.getTime() + 24 * 60 * 60 * 1000)) : undefined,
  ].filter((condition) => condition !== undefined);
  return db
    .select({
      id: sessions.id,
      username: users.username,
      targetName: sessions.targetName,
      protocol: sessions.protocol,
      node: sessions.node,
      status: sessions.status,
      startedAt: sessions.startedAt,
      endedAt: sessions.endedAt,
      endReason: sessions.endReason,
      bytesFromUser: sessions.bytesFromUser,
      bytesToUser: sessions.bytesToUser,
      preview: sessions.preview,
      requestId: sessions.requestId,
      clientAddress: sessions.clientAddress,
      preventPurge: sessions.preventPurge,
      recorded: sql<boolean>`exists (select 1 from ${recordingChunks} where ${recordingChunks.sessionId} = ${sessions.id})`,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(sessions.startedAt))
    .limit(listLimit);
}
