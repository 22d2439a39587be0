// Where things happened in a recording, for the strip under its player: how much was stored over time (output,
// drawing or page events, by the recording's own chunks) and the moments that matter (commands, web pages,
// controls, rule matches), so a reviewer sees where to look in a long recording.
import { asc, eq } from "drizzle-orm";
import type { Database } from "./client";
import { recordingChunks } from "./schema";
import type { MomentSource, SessionMoment } from "./session-details";

/** Bars across the strip. */
export const activityBuckets = 120;
/** Marks on the strip, at most: past this, a long session's marks would be a solid band anyway. */
const marksShown = 300;

export interface RecordingActivity {
  durationMs: number;
  /** Stored bytes per bucket, as a share of the busiest bucket (0–1). */
  density: number[];
  marks: { atMs: number; source: MomentSource; text: string }[];
}

/** `moments`: the session's timeline (`sessionMoments`), which its page has read already. */
export async function recordingActivity(db: Database, session: { id: string; startedAt: Date }, moments: SessionMoment[]): Promise<RecordingActivity | null> {
  const chunks = await db.select({ startMs: recordingChunks.startMs, endMs: recordingChunks.endMs, size: recordingChunks.size }).from(recordingChunks).where(eq(recordingChunks.sessionId, session.id)).orderBy(asc(recordingChunks.seq));
  if (chunks.length === 0) return null;
  const durationMs = Math.max(1, ...chunks.map((chunk) => chunk.endMs));
  const bucketMs = durationMs / activityBuckets;
  const bytes = new Array<number>(activityBuckets).fill(0);
  for (const { startMs, endMs, size } of chunks) {
    // A chunk's bytes spread evenly over the time it covers.
    const first = Math.min(activityBuckets - 1, Math.floor(startMs / bucketMs));
    const last = Math.min(activityBuckets - 1, Math.floor(Math.max(startMs, endMs) / bucketMs));
    for (let bucket = first; bucket <= last; bucket++) bytes[bucket]! += size / (last - first + 1);
  }
  const busiest = Math.max(...bytes);
  const marks = moments
    .filter((moment) => !moment.quiet)
    .map((moment) => ({ atMs: moment.at.getTime() - session.startedAt.getTime(), source: moment.source, text: moment.text }))
    .filter((mark) => mark.atMs >= 0 && mark.atMs <= durationMs)
    .slice(0, marksShown);
  return { durationMs, density: bytes.map((value) => (busiest > 0 ? value / busiest : 0)), marks };
}
