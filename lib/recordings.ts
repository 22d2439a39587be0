// Reading recordings back: the chunks of a session in order, the hash chain's verdict, a .cast export.
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { asc, eq } from "drizzle-orm";
import type { BlobStore } from "./blob-store";
import type { Database } from "./db/client";
import { recordingChunks } from "./db/schema";
import { notFound } from "./errors";
import { isUuid } from "./ids";

const decompress = promisify(gunzip);

export const recordingGenesisHash = "0".repeat(64);

export const chunkBlobKey = (sessionId: string, seq: number) => `recordings/${sessionId}/${String(seq).padStart(8, "0")}.cast.gz`;

export type RecordingChunk = typeof recordingChunks.$inferSelect;

export async function listChunks(db: Database, sessionId: string): Promise<RecordingChunk[]> {
  return db.select().from(recordingChunks).where(eq(recordingChunks.sessionId, sessionId)).orderBy(asc(recordingChunks.seq));
}

/** A recording's chunks, or 404 for an id that is malformed or names no recording. */
export async function findRecording(db: Database, sessionId: string | undefined): Promise<RecordingChunk[]> {
  const chunks = isUuid(sessionId) ? await listChunks(db, sessionId) : [];
  if (chunks.length === 0) throw notFound("Recording");
  return chunks;
}

export type RecordingVerdict =
  | { intact: true; chunks: number }
  | { intact: false; chunks: number; brokenAtSeq: number; problem: "missing chunk" | "content changed" | "link broken" | "blob missing" };

/** Checks that every chunk is there, in sequence, with the content its row names, and linked to its predecessor. */
export async function verifyRecording(blobStore: BlobStore, chunks: RecordingChunk[]): Promise<RecordingVerdict> {
  let previous = recordingGenesisHash;
  for (const [index, chunk] of chunks.entries()) {
    if (chunk.seq !== index) return { intact: false, chunks: chunks.length, brokenAtSeq: index, problem: "missing chunk" };
    if (chunk.prevSha256 !== previous) return { intact: false, chunks: chunks.length, brokenAtSeq: chunk.seq, problem: "link broken" };
    const blob = await blobStore.get(chunk.blobKey).catch(() => null);
    if (!blob) return { intact: false, chunks: chunks.length, brokenAtSeq: chunk.seq, problem: "blob missing" };
    if (createHash("sha256").update(blob).digest("hex") !== chunk.sha256) return { intact: false, chunks: chunks.length, brokenAtSeq: chunk.seq, problem: "content changed" };
    previous = chunk.sha256;
  }
  return { intact: true, chunks: chunks.length };
}

/** The whole recording as one asciicast v2 file. */
export async function exportCast(blobStore: BlobStore, chunks: RecordingChunk[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const chunk of chunks) parts.push(await decompress(await blobStore.get(chunk.blobKey)));
  return Buffer.concat(parts);
}
