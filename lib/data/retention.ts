// Recording retention: each target says how many days its recordings are kept; a purge removes older ones
// (blobs, chunk and keyframe rows, transcript lines) unless a reviewer set "prevent purge" on the session. The session row
// itself stays, marked purged, so the history of who connected where is not lost. Every purge is audited.
import { and, eq, isNull, lt, sql } from "drizzle-orm";
import { audit, systemActor, type Actor } from "./audit";
import type { BlobStore } from "../infra/blob-store";
import type { Database } from "./client";
import { recordingChunks, recordingKeyframes, sessions, targets, transcriptLines, videoExports } from "./schema";
import { notFound } from "../domain/errors";
import { isUuid } from "../domain/ids";
import { forgetRecordingKey } from "../infra/recording-cipher";
import { listChunks } from "./recordings";

const batchSize = 200;

/** Purges every recording past its target's retention; returns the purged session ids. */
export async function purgeExpiredRecordings(db: Database, blobStore: BlobStore, now = new Date()): Promise<string[]> {
  const purged: string[] = [];
  for (;;) {
    const due = await db
      .select({ id: sessions.id, retentionDays: targets.retentionDays })
      .from(sessions)
      .innerJoin(targets, eq(targets.id, sessions.targetId))
      .where(
        and(
          eq(sessions.status, "ended"),
          eq(sessions.preventPurge, false),
          isNull(sessions.recordingPurgedAt),
          sql`${targets.retentionDays} > 0`,
          lt(sessions.endedAt, sql`${now.toISOString()}::timestamptz - ${targets.retentionDays} * interval '1 day'`),
        ),
      )
      .limit(batchSize);
    for (const session of due) {
      // Claiming the session first means two nodes running the purge never both do it. The data key goes first:
      // from then on no copy of the blobs anywhere opens.
      const [claimed] = await db
        .update(sessions)
        .set({ recordingPurgedAt: now })
        .where(and(eq(sessions.id, session.id), isNull(sessions.recordingPurgedAt)))
        .returning({ id: sessions.id });
      if (!claimed) continue;
      await forgetRecordingKey(db, session.id);
      const chunks = await listChunks(db, session.id);
      const keyframes = await db.select({ blobKey: recordingKeyframes.blobKey }).from(recordingKeyframes).where(eq(recordingKeyframes.sessionId, session.id));
      // Videos made of it go with it: a copy must not outlive the recording's retention.
      const videos = await db.select({ blobKey: videoExports.blobKey }).from(videoExports).where(eq(videoExports.sessionId, session.id));
      for (const { blobKey } of [...chunks, ...keyframes, ...videos]) if (blobKey) await blobStore.delete(blobKey);
      await db.delete(videoExports).where(eq(videoExports.sessionId, session.id));
      await db.delete(recordingKeyframes).where(eq(recordingKeyframes.sessionId, session.id));
      await db.delete(recordingChunks).where(eq(recordingChunks.sessionId, session.id));
      await db.delete(transcriptLines).where(eq(transcriptLines.sessionId, session.id));
      await audit(db, systemActor, { action: "recording.purge", objectType: "session", objectId: session.id, details: { chunks: chunks.length, retentionDays: session.retentionDays } });
      purged.push(session.id);
    }
    if (due.length < batchSize) return purged;
  }
}

export async function setPreventPurge(db: Database, actor: Actor, sessionId: string, preventPurge: boolean) {
  if (!isUuid(sessionId)) throw notFound("Session");
  const [updated] = await db.update(sessions).set({ preventPurge }).where(eq(sessions.id, sessionId)).returning({ id: sessions.id });
  if (!updated) throw notFound("Session");
  await audit(db, actor, { action: "recording.prevent_purge", objectType: "session", objectId: sessionId, details: { preventPurge } });
  return { id: sessionId, preventPurge };
}
