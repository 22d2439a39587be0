// Looking at evidence is itself evidence: every read of a recording (the player's windows, its commands, its
// verification) and every transcript search is audited, coalesced to one row per reader, recording (or search)
// and hour, so that the audit log says who looked at what without a row for each window a player fetches.
// Exports stay audited one by one (lib/data/recordings.ts callers), being copies that leave the gateway.
import { createHash } from "node:crypto";
import { lt } from "drizzle-orm";
import { audit, type Actor } from "./audit";
import type { Database } from "./client";
import { auditedReads } from "./schema";
import { findSession } from "./sessions";

const hourOf = (at: Date) => new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000);

/** True the first time this reader reads this subject this hour (and then it is marked). */
async function firstThisHour(db: Database, actor: Actor, subject: string): Promise<boolean> {
  const marked = await db
    .insert(auditedReads)
    .values({ reader: actor.id ?? actor.name, subject, hour: hourOf(new Date()) })
    .onConflictDoNothing()
    .returning({ subject: auditedReads.subject });
  return marked.length > 0;
}

export async function auditRecordingRead(db: Database, actor: Actor, sessionId: string, how: "player" | "commands" | "verify") {
  if (!(await firstThisHour(db, actor, `recording:${sessionId}`))) return;
  const session = await findSession(db, sessionId);
  await audit(db, actor, { action: "recording.read", objectType: "session", objectId: sessionId, details: { how, user: session?.username, target: session?.targetName } });
}

/** A refused attempt to read a recording, once per reader, recording and hour: a player retrying is one row. */
export async function auditRecordingRefusal(db: Database, actor: Actor, sessionId: string, reason: string) {
  if (!(await firstThisHour(db, actor, `refused:${sessionId}`))) return;
  await audit(db, actor, { action: "recording.read", outcome: "refused", objectType: "session", objectId: sessionId, details: { reason } });
}

export async function auditTranscriptSearch(db: Database, actor: Actor, query: string) {
  if (!(await firstThisHour(db, actor, `search:${createHash("sha256").update(query).digest("hex")}`))) return;
  await audit(db, actor, { action: "recording.search", details: { query } });
}

/** Marks older than a day serve no coalescing any more. */
export async function deleteOldReadMarks(db: Database) {
  await db.delete(auditedReads).where(lt(auditedReads.hour, new Date(Date.now() - 24 * 3_600_000)));
}
