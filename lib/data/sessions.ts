// Session rows: who reached what, from which node, when, for how long, how it ended, how many bytes.
import { and, desc, eq, gt, gte, ilike, inArray, lt, ne, sql } from "drizzle-orm";
import type { Database } from "./client";
import { recordingChunks, sessions, sessionThumbnails, users } from "./schema";
import type { EndReason } from "../protocol/session-socket";
import { protocolSchema, type Protocol } from "../protocol/domain";
import { sessionCursor, sessionPageSize, sessionsOverTimeDays, type SessionCursor, type SessionFilter, type SessionsOverTime } from "../protocol/sessions";
import { isUuid } from "../domain/ids";
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

/** A live desktop's latest thumbnail replaces the one before; none is kept for a session that has ended. */
export async function saveThumbnail(db: Database, id: string, jpeg: Buffer) {
  await db.execute(sql`
    insert into ${sessionThumbnails} (session_id, taken_at, jpeg)
    select ${id}::uuid, now(), ${jpeg} from ${sessions} where ${sessions.id} = ${id}::uuid and ${sessions.status} <> 'ended'
    on conflict (session_id) do update set taken_at = excluded.taken_at, jpeg = excluded.jpeg`);
}

/** A live session's latest thumbnail (undefined for an ended, unknown or malformed one, or before the first). */
export async function readThumbnail(db: Database, id: string | undefined) {
  if (!isUuid(id)) return undefined;
  const [row] = await db
    .select({ jpeg: sessionThumbnails.jpeg, takenAt: sessionThumbnails.takenAt })
    .from(sessionThumbnails)
    .innerJoin(sessions, eq(sessions.id, sessionThumbnails.sessionId))
    .where(and(eq(sessionThumbnails.sessionId, id), ne(sessions.status, "ended")));
  return row;
}

/** What showed a live session's screen on the dashboard goes with its end: the recording is the record. */
const noLivePreview = { preview: null };
async function dropThumbnails(db: Database, ids: string[]) {
  if (ids.length > 0) await db.delete(sessionThumbnails).where(inArray(sessionThumbnails.sessionId, ids));
}

export type SessionRow = typeof sessions.$inferSelect;

/** A session by id (undefined for a malformed or unknown id), with its user's name. */
/** The sessions of a person that have not ended, on any node; on one target only when `targetId` is given. */
export function liveSessionsOf(db: Database, userId: string, only: { targetId?: string; except?: string } = {}) {
  return db
    .select({ id: sessions.id, node: sessions.node, targetName: sessions.targetName })
    .from(sessions)
    .where(
      and(
        eq(sessions.userId, userId),
        ne(sessions.status, "ended"),
        only.targetId === undefined ? undefined : eq(sessions.targetId, only.targetId),
        only.except === undefined ? undefined : ne(sessions.id, only.except),
      ),
    );
}

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
    .set({ status: "ended", endedAt: new Date(), endReason: end.reason, endMessage: end.message, bytesFromUser: end.bytesFromUser, bytesToUser: end.bytesToUser, ...noLivePreview })
    .where(eq(sessions.id, id));
  await dropThumbnails(db, [id]);
}

/**
 * Ends the sessions a node left open when it died, as `interrupted`, at the time of their last recorded
 * event (or their start). Returns how many there were.
 */
export async function markInterruptedSessions(db: Database, node: string): Promise<number> {
  const lastEvent = sql`(select max(${recordingChunks.endMs}) from ${recordingChunks} where ${recordingChunks.sessionId} = ${sessions.id})`;
  const ended = await db
    .update(sessions)
    .set({ status: "ended", endReason: "interrupted", ...noLivePreview, endedAt: sql`${sessions.startedAt} + coalesce(${lastEvent}, 0) * interval '1 millisecond'` })
    .where(and(eq(sessions.node, node), ne(sessions.status, "ended")))
    .returning({ id: sessions.id });
  await dropThumbnails(db, ended.map(({ id }) => id));
  return ended.length;
}

/**
 * A page of sessions, newest (or riskiest) first, with who and whether a recording exists, and the cursor of the
 * next page if there is one. Pages are cut by the sort keys (keyset), so a deep page costs what the first does.
 * `onlyUserId` limits the list to one user's own sessions (what a plain user may see).
 */
export async function listSessions(db: Database, filter: Partial<SessionFilter>, scope: { onlyUserId?: string; id?: string } = {}, pageSize = sessionPageSize) {
  const conditions = [
    scope.onlyUserId ? eq(sessions.userId, scope.onlyUserId) : undefined,
    scope.id ? eq(sessions.id, scope.id) : undefined,
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
    filter.risk === "risky" ? gt(sessions.riskScore, 0) : undefined,
    filter.after ? afterCursor(filter.after, filter.sort === "risk") : undefined,
  ].filter((condition) => condition !== undefined);
  const rows = await db
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
      thumbnailAt: sql<string | null>`(select ${sessionThumbnails.takenAt}::text from ${sessionThumbnails} where ${sessionThumbnails.sessionId} = ${sessions.id})`,
      requestId: sessions.requestId,
      clientAddress: sessions.clientAddress,
      preventPurge: sessions.preventPurge,
      riskScore: sessions.riskScore,
      startedAtExact: sql<string>`${sessions.startedAt}::text`,
      recorded: sql<boolean>`exists (select 1 from ${recordingChunks} where ${recordingChunks.sessionId} = ${sessions.id})`,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(...(filter.sort === "risk" ? [desc(sessions.riskScore)] : []), desc(sessions.startedAt), desc(sessions.id))
    .limit(pageSize + 1);
  const page = rows.slice(0, pageSize).map(({ startedAtExact: _exact, ...row }) => row);
  const last = rows.length > pageSize ? rows[pageSize - 1]! : null;
  return { rows: page, next: last ? sessionCursor({ riskScore: last.riskScore, startedAt: last.startedAtExact, id: last.id }) : null };
}

/** Rows after the cursor's in the list's order (every key descending, so one row comparison says it). */
function afterCursor(cursor: SessionCursor, byRisk: boolean) {
  const startedAt = sql`${cursor.startedAt}::timestamptz`;
  return byRisk ? sql`(${sessions.riskScore}, ${sessions.startedAt}, ${sessions.id}) < (${cursor.riskScore}, ${startedAt}, ${cursor.id}::uuid)` : sql`(${sessions.startedAt}, ${sessions.id}) < (${startedAt}, ${cursor.id}::uuid)`;
}

/** Sessions started in each hour of the last `days` days, by protocol (hours with none included, as zeros). */
export async function sessionsOverTime(db: Database, days = sessionsOverTimeDays, now = new Date()): Promise<SessionsOverTime> {
  const hourMs = 3_600_000;
  const last = Math.floor(now.getTime() / hourMs) * hourMs;
  const first = last - (days * 24 - 1) * hourMs;
  const rows = await db
    .select({ hour: sql<string>`date_trunc('hour', ${sessions.startedAt})::text`, protocol: sessions.protocol, count: sql<number>`count(*)::int` })
    .from(sessions)
    .where(gte(sessions.startedAt, new Date(first)))
    .groupBy(sql`1`, sessions.protocol);
  const hours = Array.from({ length: days * 24 }, (_, index) => (first + index * hourMs) / 1000);
  const started = Object.fromEntries(protocolSchema.options.map((protocol) => [protocol, hours.map(() => 0)])) as SessionsOverTime["started"];
  for (const row of rows) {
    const index = Math.round((Date.parse(row.hour.replace(" ", "T").replace(/\+00$/, "Z")) - first) / hourMs);
    if (index >= 0 && index < hours.length) started[row.protocol][index] = row.count;
  }
  return { hours, started };
}
