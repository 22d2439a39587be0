// Recordings' data keys as the database keeps them: sealed under a key derived from the master key
// (lib/infra/recording-cipher.ts seals and opens them), one row per recording, deleted by the retention purge.
import { eq } from "drizzle-orm";
import type { Database } from "./client";
import { recordingKeys } from "./schema";

export async function findSealedRecordingKey(db: Database, sessionId: string): Promise<string | undefined> {
  const [row] = await db.select({ sealedKey: recordingKeys.sealedKey }).from(recordingKeys).where(eq(recordingKeys.sessionId, sessionId));
  return row?.sealedKey;
}

/** Keeps the first key stored for a recording: whichever node seals one first wins, the others read it back. */
export async function storeSealedRecordingKey(db: Database, sessionId: string, sealedKey: string) {
  await db.insert(recordingKeys).values({ sessionId, sealedKey }).onConflictDoNothing();
}

export async function deleteRecordingKey(db: Database, sessionId: string) {
  await db.delete(recordingKeys).where(eq(recordingKeys.sessionId, sessionId));
}
