// Searching what was typed and shown in sessions: full-text (words) or substring (trigram index), each hit
// with its session, its time offset and the lines around it.
import { and, asc, desc, eq, ilike, or, sql } from "drizzle-orm";
import type { Database } from "./db/client";
import { sessions, transcriptLines, users } from "./db/schema";
import { escapeLike } from "./sql-text";

export async function searchTranscripts(db: Database, query: string, limit = 50) {
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
    .where(or(sql`${transcriptLines.searchVector} @@ websearch_to_tsquery('simple', ${query})`, ilike(transcriptLines.text, `%${escapeLike(query)}%`)))
    .orderBy(desc(sessions.startedAt), transcriptLines.id)
    .limit(limit);
}

/** The commands typed in a session, with their time offsets: the player's markers. */
export async function listCommands(db: Database, sessionId: string) {
  return db
    .select({ atMs: transcriptLines.atMs, text: transcriptLines.text })
    .from(transcriptLines)
    .where(and(eq(transcriptLines.sessionId, sessionId), eq(transcriptLines.kind, "command")))
    .orderBy(asc(transcriptLines.id));
}
