// Searching what was typed and shown in sessions: full-text (words) or substring (trigram index), newest lines
// first, each hit with its session, its time offset and the lines around it.
import { and, asc, desc, eq, ilike, inArray, or, sql } from "drizzle-orm";
import type { Database } from "./db/client";
import { sessions, transcriptLines, users } from "./db/schema";
import { escapeLike } from "./sql-text";

/**
 * The newest lines a search scans in order before it turns to the indexes. A common term is found among them at
 * once; a rarer one goes to the full-text and trigram indexes, whose cost grows with the number of matches.
 * Either way the plan no longer depends on the planner's guess of how common a substring is — a guess that,
 * wrong, had it walk millions of rows newest-first looking for a rare one.
 */
const recentLinesScanned = 20_000;

/** Lines matching a query, newest first: full-text words or any substring (trigram). */
async function matchingLineIds(db: Database, query: string, limit: number): Promise<number[]> {
  const pattern = `%${escapeLike(query)}%`;
  const recent = db.select({ id: transcriptLines.id, searchVector: transcriptLines.searchVector, text: transcriptLines.text }).from(transcriptLines).orderBy(desc(transcriptLines.id)).limit(recentLinesScanned).as("recent");
  const recentHits = await db
    .select({ id: recent.id })
    .from(recent)
    .where(or(sql`${recent.searchVector} @@ websearch_to_tsquery('simple', ${query})`, ilike(recent.text, pattern)))
    .orderBy(desc(recent.id))
    .limit(limit);
  if (recentHits.length >= limit) return recentHits.map((hit) => hit.id);
  const indexed = await db
    .select({ id: transcriptLines.id })
    .from(transcriptLines)
    .where(or(sql`${transcriptLines.searchVector} @@ websearch_to_tsquery('simple', ${query})`, ilike(transcriptLines.text, pattern)))
    // "+ 0": sort the index matches rather than walk the primary key hoping to meet them.
    .orderBy(sql`${transcriptLines.id} + 0 desc`)
    .limit(limit);
  return indexed.map((hit) => hit.id);
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
