// Searching what was typed and shown in sessions: full-text (words) or substring (trigram index), newest lines
// first, each hit with its session, its time offset and the lines around it.
import { and, asc, desc, eq, ilike, inArray, or, sql, type SQLWrapper } from "drizzle-orm";
import type { Database } from "./client";
import { sessions, transcriptLines, users } from "./schema";
import { escapeLike } from "./sql-text";

/**
 * The newest lines a search scans in order before it turns to the indexes. A common term is found among them at
 * once; a rarer one goes to the full-text index, and only when words give too few hits to the trigram index,
 * whose cost grows with how common the query's three-letter pieces are. Each step sorts what its index found
 * rather than walking the primary key hoping to meet matches, so the plan never depends on the planner's guess
 * of how common a substring is — a guess that, wrong, had it walk millions of rows newest-first.
 */
const recentLinesScanned = 20_000;

/** Lines matching a query, newest first: full-text words, then any substring (trigram). */
async function matchingLineIds(db: Database, query: string, limit: number): Promise<number[]> {
  const words = (column: SQLWrapper) => sql`${column} @@ websearch_to_tsquery('simple', ${query})`;
  const pattern = `%${escapeLike(query)}%`;
  const recent = db.select({ id: transcriptLines.id, searchVector: transcriptLines.searchVector, text: transcriptLines.text }).from(transcriptLines).orderBy(desc(transcriptLines.id)).limit(recentLinesScanned).as("recent");
  const found = new Set(
    (await db.select({ id: recent.id }).from(recent).where(or(words(recent.searchVector), ilike(recent.text, pattern))).orderBy(desc(recent.id)).limit(limit)).map((hit) => hit.id),
  );
  // "+ 0": sort what the index found instead of walking the primary key.
  const newestFirst = sql`${transcriptLines.id} + 0 desc`;
  for (const condition of [words(transcriptLines.searchVector), ilike(transcriptLines.text, pattern)]) {
    if (found.size >= limit) break;
    for (const hit of await db.select({ id: transcriptLines.id }).from(transcriptLines).where(condition).orderBy(newestFirst).limit(limit)) found.add(hit.id);
  }
  return [...found].sort((a, b) => b - a).slice(0, limit);
}

export async function searchTranscripts(db: Database, query: string, limit = 50) {
  const ids = await matchingLineIds(db, query, limit);
  if (ids.length === 0) return [];
  return db
    .select({
      sessionId: transcriptLines.sessionId,
      atMs: transcriptLines.atMs,
      kind: transcriptLines.kind,
      text: transcriptLines.text,
      username: users.username,
      targetName: sessions.targetName,
      startedAt: sessions.startedAt,
      before: sql<string | null>`(select b.text from transcript_lines b where b.session_id = ${transcriptLines.sessionId} and b.id < ${transcriptLines.id} order by b.id desc limit 1)`,
      after: sql<string | null>`(select a.text from transcript_lines a where a.session_id = ${transcriptLines.sessionId} and a.id > ${transcriptLines.id} order by a.id limit 1)`,
    })
    .from(transcriptLines)
    .innerJoin(sessions, eq(sessions.id, transcriptLines.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(inArray(transcriptLines.id, ids))
    .orderBy(desc(transcriptLines.id));
}

/** The commands typed in a session, with their time offsets: the player's markers. */
export async function listCommands(db: Database, sessionId: string) {
  return db
    .select({ atMs: transcriptLines.atMs, text: transcriptLines.text })
    .from(transcriptLines)
    .where(and(eq(transcriptLines.sessionId, sessionId), eq(transcriptLines.kind, "command")))
    .orderBy(asc(transcriptLines.id));
}

/** Lines of a recorded terminal for search, as the recorder cut them from its chunks. */
export async function indexTranscriptLines(db: Database, lines: (typeof transcriptLines.$inferInsert)[]) {
  await db.insert(transcriptLines).values(lines);
}
