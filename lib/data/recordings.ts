// Reading recordings back: the chunks of a session in order (decrypted with the recording's data key,
// ./recording-cipher.ts), the chain's verdict, a .cast export, and the stretches the players ask for (terminal,
// web page, desktop).
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, lte, or, sql } from "drizzle-orm";
import { atOnce } from "../infra/at-once";
import type { BlobStore } from "../infra/blob-store";
import type { Database } from "./client";
import { auditLog, recordingChunks, recordingKeyframes, sessions } from "./schema";
import { evidenceKeys, evidenceMac } from "../infra/evidence-keys";
import { recordingCipher, type RecordingCipher } from "../infra/recording-cipher";
import { notFound } from "../domain/errors";
import { condenseLead } from "../player/guacamole-overdraw";
import { isUuid } from "../domain/ids";
import type { Protocol } from "../protocol/domain";
import type { PageEvent } from "../protocol/page-recorder";
import { exportKindOf, keyframeSchema, parseChunk, type CastEvent, type DesktopWindow, type Keyframe, type RecordingVerdict, type RecordingWindow } from "../protocol/recordings";
import { pageEventSchema, type PageEventsWindow } from "../protocol/web-recording";

const decompress = promisify(gunzip);

const sha256 = (blob: Buffer) => createHash("sha256").update(blob).digest("hex");

export const recordingGenesisHash = "0".repeat(64);

/** What a recording's chunks hold: asciicast v2 lines (terminals), rrweb events one JSON per line (web pages), or Guacamole instructions (desktops). */
export type RecordingFormat = "cast" | "rrweb" | "guac";

export const chunkBlobKey = (sessionId: string, seq: number, format: RecordingFormat) => `recordings/${sessionId}/${String(seq).padStart(8, "0")}.${format}.gz`;

export const keyframeBlobKey = (sessionId: string, afterSeq: number) => `recordings/${sessionId}/keyframes/${String(afterSeq).padStart(8, "0")}.json.gz`;

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

/** What a chunk's MAC covers: everything its row says about it, so that no field can change unseen. */
export function chunkMac(key: Buffer, row: Pick<RecordingChunk, "sessionId" | "seq" | "startMs" | "endMs" | "snapshot" | "size" | "sha256" | "prevSha256" | "blobKey">): string {
  return evidenceMac(key, "chunk", [row.sessionId, row.seq, row.startMs, row.endMs, row.snapshot, row.size, row.sha256, row.prevSha256, row.blobKey]);
}

/** The latest seal the recording's writers put in the audit log: how many chunks it had and the last one's MAC. */
async function latestSeal(db: Database, sessionId: string): Promise<{ chunks: number; head: string } | null> {
  const [row] = await db.select({ details: auditLog.details }).from(auditLog).where(and(eq(auditLog.action, "recording.seal"), eq(auditLog.objectId, sessionId))).orderBy(desc(auditLog.seq)).limit(1);
  const { chunks, head } = (row?.details ?? {}) as { chunks?: unknown; head?: unknown };
  return typeof chunks === "number" && typeof head === "string" ? { chunks, head } : null;
}

/**
 * Checks that every chunk is there, in sequence, with the content its row names, linked to its predecessor and
 * signed under the evidence key; and, against the recording's seal in the audit log, that none was cut off.
 */
export async function verifyRecording(db: Database, blobStore: BlobStore, chunks: RecordingChunk[]): Promise<RecordingVerdict> {
  const keys = evidenceKeys();
  let previous = recordingGenesisHash;
  let signed = false;
  for (const [index, chunk] of chunks.entries()) {
    const broken = (problem: Extract<RecordingVerdict, { intact: false }>["problem"], detail?: string): RecordingVerdict => ({ intact: false, chunks: chunks.length, brokenAtSeq: chunk.seq, problem, ...(detail ? { detail } : {}) });
    if (chunk.seq !== index) return { intact: false, chunks: chunks.length, brokenAtSeq: index, problem: "missing chunk" };
    if (chunk.prevSha256 !== previous) return broken("link broken");
    if (chunk.keyId === null || chunk.mac === null) {
      // Chunks from before recordings were signed are plain, and only ever come first.
      if (signed) return broken("unsigned chunk");
    } else {
      const key = keys.byId(chunk.keyId);
      if (!key) return broken("unknown key", `signed with key ${chunk.keyId}`);
      if (chunkMac(key, chunk) !== chunk.mac) return broken("content changed");
      signed = true;
    }
    const blob = await blobStore.get(chunk.blobKey).catch(() => null);
    if (!blob) return broken("blob missing");
    if (sha256(blob) !== chunk.sha256) return broken("content changed");
    previous = chunk.sha256;
  }
  const seal = chunks[0] ? await latestSeal(db, chunks[0].sessionId) : null;
  if (seal) {
    if (chunks.length < seal.chunks) return { intact: false, chunks: chunks.length, brokenAtSeq: chunks.length, problem: "truncated", detail: `the recording was sealed with ${seal.chunks} chunks; ${chunks.length} are left` };
    if (chunks[seal.chunks - 1]?.mac !== seal.head) return { intact: false, chunks: chunks.length, brokenAtSeq: seal.chunks - 1, problem: "seal mismatch", detail: "the chunk the seal names as the last is not the one stored" };
  }
  return { intact: true, chunks: chunks.length, sealed: seal !== null && seal.chunks === chunks.length };
}

/** A stored chunk or keyframe as its writer wrote it: opened with the recording's cipher, then gunzipped. */
export async function openRecordingBlob(cipher: RecordingCipher, blobKey: string, stored: Buffer): Promise<string> {
  return (await decompress(cipher.open(blobKey, stored))).toString("utf8");
}

/** A chunk's bytes, as its recorder wrote them. */
async function chunkBody(blobStore: BlobStore, cipher: RecordingCipher, chunk: Pick<RecordingChunk, "blobKey">): Promise<Buffer> {
  return decompress(cipher.open(chunk.blobKey, await blobStore.get(chunk.blobKey)));
}

/** How many blobs a window reads at once: its chunks are many and small, each a round trip to the store. */
const blobReadsAtOnce = 8;

/** The bytes of chunks, in their order. */
async function chunkBodies(blobStore: BlobStore, cipher: RecordingCipher, chunks: Pick<RecordingChunk, "blobKey">[]): Promise<Buffer[]> {
  const bodies = new Array<Buffer>(chunks.length);
  await atOnce(chunks, blobReadsAtOnce, async (chunk, index) => {
    bodies[index] = await chunkBody(blobStore, cipher, chunk);
  });
  return bodies;
}

/**
 * The whole recording in its kind's format, read a chunk at a time as the client takes it (a slow reader holds
 * one chunk, not the recording). A web recording's events are checked as the player checks them.
 */
export function exportRecording(db: Database, blobStore: BlobStore, chunks: RecordingChunk[], protocol: Protocol): ReadableStream<Uint8Array> {
  const kind = exportKindOf(protocol);
  const encoder = new TextEncoder();
  let next = 0;
  let cipher: RecordingCipher | undefined;
  let events = 0;
  return new ReadableStream({
    async pull(controller) {
      if (next === chunks.length) {
        if (kind === "web") controller.enqueue(encoder.encode(events === 0 ? "[]\n" : "\n]\n"));
        controller.close();
        return;
      }
      const chunk = chunks[next++]!;
      cipher ??= await recordingCipher(db, chunk.sessionId, { create: false });
      const body = await chunkBody(blobStore, cipher, chunk);
      if (kind !== "web") return controller.enqueue(body);
      const lines: string[] = [];
      for (const line of body.toString("utf8").split("\n")) {
        if (line && pageEventSchema.safeParse(parseJsonLine(line)).success) lines.push(`${events++ === 0 ? "[\n" : ",\n"}${line}`);
      }
      controller.enqueue(encoder.encode(lines.join("")));
    },
  });
}

/** A window reaches this far past the moment asked for, so that playing on does not wait for the next one. */
const windowAheadMs = 30_000;
/** …and holds at most this many chunks (≤ 256 KiB of events each), whatever the time span… */
const windowMaxChunks = 160;
/** …of which this many past the one the moment is in: 32 s or more of ordinary use, 8 MiB at most of a flood. */
const windowChunksAhead = 32;

/** A recording's last chunk: its number and where it ends (the recording's length). */
async function lastChunk(db: Database, sessionId: string) {
  const [last] = await db.select({ seq: recordingChunks.seq, endMs: recordingChunks.endMs }).from(recordingChunks).where(eq(recordingChunks.sessionId, sessionId)).orderBy(desc(recordingChunks.seq)).limit(1);
  return last;
}

/** The chunks a window may read, from `fromSeq` on (a window never holds more). */
function chunksFrom(db: Database, sessionId: string, fromSeq: number) {
  return db
    .select()
    .from(recordingChunks)
    .where(and(eq(recordingChunks.sessionId, sessionId), gte(recordingChunks.seq, fromSeq)))
    .orderBy(asc(recordingChunks.seq))
    .limit(windowMaxChunks);
}

/** The newest keyframe at or before a moment or a chunk whose blob is there and unaltered (a bad one is passed over). */
async function keyframeBefore(db: Database, blobStore: BlobStore, sessionId: string, bound: { atMs: number } | { throughSeq: number }) {
  const candidates = await db
    .select()
    .from(recordingKeyframes)
    .where(and(eq(recordingKeyframes.sessionId, sessionId), "atMs" in bound ? lte(recordingKeyframes.atMs, bound.atMs) : lte(recordingKeyframes.afterSeq, bound.throughSeq)))
    .orderBy(desc(recordingKeyframes.afterSeq))
    .limit(3);
  const cipher = await recordingCipher(db, sessionId, { create: false });
  for (const candidate of candidates) {
    const blob = await blobStore.get(candidate.blobKey).catch(() => null);
    if (!blob || sha256(blob) !== candidate.sha256) continue;
    const keyframe = keyframeSchema.safeParse(JSON.parse(await openRecordingBlob(cipher, candidate.blobKey, blob)));
    if (keyframe.success) return { afterSeq: candidate.afterSeq, atMs: candidate.atMs, keyframe: keyframe.data };
  }
  return null;
}

/** The events of consecutive chunks, and the screen size they start at (the keyframe's, or the header's). */
async function readEvents(db: Database, blobStore: BlobStore, chunks: RecordingChunk[], keyframe: Keyframe | null) {
  let size = keyframe ? { cols: keyframe.cols, rows: keyframe.rows } : null;
  const events: CastEvent[] = [];
  const cipher = chunks[0] ? await recordingCipher(db, chunks[0].sessionId, { create: false }) : null;
  const bodies = cipher ? await chunkBodies(blobStore, cipher, chunks) : [];
  for (const [index, chunk] of chunks.entries()) {
    const parsed = parseChunk(bodies[index]!, chunk.seq);
    if (parsed.header) size = { cols: parsed.header.width, rows: parsed.header.height };
    events.push(...parsed.events);
  }
  return { size, events };
}

/**
 * A stretch of a recording for the player: for a seek (`atMs`), from the nearest keyframe before that moment
 * to a little past it; for a continuation (`seq`), the chunks from there on. Only the chunks needed are read,
 * so a seek in a 10-hour recording costs the same as one in a minute-long one.
 */
export async function readRecordingWindow(db: Database, blobStore: BlobStore, sessionId: string | undefined, request: { atMs: number } | { seq: number }): Promise<RecordingWindow> {
  if (!isUuid(sessionId)) throw notFound("Recording");
  const last = await lastChunk(db, sessionId);
  if (!last) throw notFound("Recording");

  let fromSeq = "seq" in request ? request.seq : 0;
  let start: { atMs: number; keyframe: Keyframe } | null = null;
  if ("atMs" in request) {
    const found = await keyframeBefore(db, blobStore, sessionId, { atMs: request.atMs });
    if (found) {
      fromSeq = found.afterSeq + 1;
      start = found;
    }
  }
  const chunks = await chunksFrom(db, sessionId, fromSeq);
  const momentMs = "atMs" in request ? request.atMs : (chunks[0]?.startMs ?? 0);
  const reachMs = momentMs + windowAheadMs;
  const ahead = chunks.findIndex((chunk) => chunk.startMs > momentMs);
  const wanted = chunks.filter((chunk, index) => index === 0 || (chunk.startMs <= reachMs && (ahead === -1 || index < ahead + windowChunksAhead)));

  const { size, events } = await readEvents(db, blobStore, wanted, start?.keyframe ?? null);
  const lastRead = wanted.at(-1)?.seq ?? fromSeq - 1;
  return {
    durationMs: last.endMs,
    startMs: start?.atMs ?? (fromSeq === 0 ? 0 : (wanted[0]?.startMs ?? last.endMs)),
    size,
    keyframe: start?.keyframe.screen ?? null,
    events,
    nextSeq: lastRead < last.seq ? lastRead + 1 : null,
  };
}

/**
 * A live session's screen as of chunk `throughSeq`, for a watcher joining: the newest keyframe at or before it
 * and the events of the chunks after it (at most a keyframe interval's worth, unless the keyframer is behind).
 */
export async function readScreenThrough(db: Database, blobStore: BlobStore, sessionId: string, throughSeq: number) {
  const start = await keyframeBefore(db, blobStore, sessionId, { throughSeq });
  const chunks = await db
    .select()
    .from(recordingChunks)
    .where(and(eq(recordingChunks.sessionId, sessionId), gte(recordingChunks.seq, start ? start.afterSeq + 1 : 0), lte(recordingChunks.seq, throughSeq)))
    .orderBy(asc(recordingChunks.seq));
  const { size, events } = await readEvents(db, blobStore, chunks, start?.keyframe ?? null);
  return { size, screen: start?.keyframe.screen ?? null, events };
}

/** A stored line as JSON; a malformed one is skipped by the reader rather than stopping it. */
function parseJsonLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/** How far a web or desktop recording's window reaches past the moment asked for: in time, and in stored bytes. */
interface WindowReach {
  aheadMs: number;
  aheadBytes: number;
}
/**
 * 20 s of browsing ahead within 64 KiB stored: a seek carries little past its moment (a page's snapshot can be
 * megabytes of markup and styles); the player fetches the next chunks as it plays.
 */
const pageWindowReach: WindowReach = { aheadMs: 20_000, aheadBytes: 64 * 1024 };
/**
 * Frames are heavy (images) and the player parses a whole window before it draws: 5 s ahead within 256 KiB, so a
 * seek transfers and parses little; the player fetches the next one as it plays.
 */
const desktopWindowReach: WindowReach = { aheadMs: 5_000, aheadBytes: 256 * 1024 };
/**
 * The stretch from the last snapshot to the moment asked for is read whole (recorders bound it: a snapshot every
 * minute of change, or sooner in a flood), up to this much stored; only a recording with no snapshots at all (as
 * from an external guacd) reaches it, and then the window stops short of the moment.
 */
const leadMaxBytes = 64 * 1024 * 1024;
const leadMaxChunks = 4096;

/**
 * The chunks of a stretch of a recording that starts at snapshots (web pages, desktops): for a seek (`atMs`),
 * the chunks from the last one opening with a full snapshot at or before that moment, then `reach` ahead; for
 * a continuation (`seq`), the chunks from there on, `reach` ahead of the first. Like terminal windows, only the
 * chunks needed are read.
 */
async function readSnapshotWindow(db: Database, blobStore: BlobStore, sessionId: string | undefined, protocols: Protocol[], request: { atMs: number } | { seq: number }, reach: WindowReach) {
  if (!isUuid(sessionId)) throw notFound("Recording");
  const [session] = await db.select({ startedAt: sessions.startedAt }).from(sessions).where(and(eq(sessions.id, sessionId), inArray(sessions.protocol, protocols)));
  const last = await lastChunk(db, sessionId);
  if (!session || !last) throw notFound("Recording");

  const lead: RecordingChunk[] = [];
  let aheadFromSeq = "seq" in request ? request.seq : 0;
  if ("atMs" in request) {
    const [snapshot] = await db
      .select({ seq: recordingChunks.seq })
      .from(recordingChunks)
      .where(and(eq(recordingChunks.sessionId, sessionId), eq(recordingChunks.snapshot, true), lte(recordingChunks.startMs, request.atMs)))
      .orderBy(desc(recordingChunks.seq))
      .limit(1);
    const fromSeq = snapshot?.seq ?? 0;
    const upToMoment = await db
      .select()
      .from(recordingChunks)
      .where(and(eq(recordingChunks.sessionId, sessionId), gte(recordingChunks.seq, fromSeq), lte(recordingChunks.startMs, request.atMs)))
      .orderBy(asc(recordingChunks.seq))
      .limit(leadMaxChunks);
    let bytes = 0;
    for (const chunk of upToMoment) {
      bytes += chunk.size;
      if (lead.length > 0 && bytes > leadMaxBytes) break;
      lead.push(chunk);
    }
    aheadFromSeq = (lead.at(-1)?.seq ?? fromSeq - 1) + 1;
  }
  const candidates = await chunksFrom(db, sessionId, aheadFromSeq);
  const reachMs = ("atMs" in request ? request.atMs : (candidates[0]?.startMs ?? 0)) + reach.aheadMs;
  const ahead: RecordingChunk[] = [];
  let aheadBytes = 0;
  for (const chunk of candidates) {
    aheadBytes += chunk.size;
    if (lead.length + ahead.length > 0 && (chunk.startMs > reachMs || aheadBytes > reach.aheadBytes)) break;
    ahead.push(chunk);
  }
  const wanted = [...lead, ...ahead];
  const bodies = (await chunkBodies(blobStore, await recordingCipher(db, sessionId, { create: false }), wanted)).map((body) => body.toString("utf8"));
  const lastRead = wanted.at(-1)?.seq ?? aheadFromSeq - 1;
  // Nothing was recorded between the window's last chunk and the next one: the window shows that stretch too.
  const next = candidates[ahead.length];
  const untilMs = next ? next.startMs : lastRead < last.seq ? (wanted.at(-1)?.endMs ?? last.endMs) : last.endMs;
  return { startedAt: session.startedAt.getTime(), durationMs: last.endMs, startMs: wanted[0]?.startMs ?? 0, untilMs, bodies, nextSeq: lastRead < last.seq ? lastRead + 1 : null };
}

/** A stretch of a web recording for the player, from the last full snapshot of the page (every page load and minute). */
export async function readPageEventsWindow(db: Database, blobStore: BlobStore, sessionId: string | undefined, request: { atMs: number } | { seq: number }): Promise<PageEventsWindow> {
  const { startedAt, durationMs, bodies, nextSeq } = await readSnapshotWindow(db, blobStore, sessionId, ["web"], request, pageWindowReach);
  const events: PageEvent[] = [];
  for (const body of bodies) {
    for (const line of body.split("\n")) {
      const event = line ? pageEventSchema.safeParse(parseJsonLine(line)) : null;
      if (event?.success) events.push(event.data);
    }
  }
  return { startedAt, durationMs, events, nextSeq };
}

/**
 * A stretch of a desktop recording for the player: Guacamole instructions from the last full frame the engine
 * drew (every minute of changing screen) at or before the moment asked for. For a seek, the frames up to the
 * moment become one, without the images painted over (./guacamole-overdraw.ts): the browser draws little more
 * than one screen, and the window plays from that moment on.
 */
export async function readDesktopWindow(db: Database, blobStore: BlobStore, sessionId: string | undefined, request: { atMs: number } | { seq: number }): Promise<DesktopWindow> {
  const { durationMs, startMs, untilMs, bodies, nextSeq } = await readSnapshotWindow(db, blobStore, sessionId, ["rdp", "vnc"], request, desktopWindowReach);
  const instructions = bodies.join("");
  if (!("atMs" in request)) return { durationMs, startMs, playableFromMs: startMs, untilMs, instructions, nextSeq };
  const condensed = condenseLead(instructions, request.atMs - startMs);
  const firstFrameMs = startMs + condensed.skippedMs;
  return { durationMs, startMs: firstFrameMs, playableFromMs: Math.max(firstFrameMs, request.atMs), untilMs, instructions: condensed.stream, nextSeq };
}

// ── Writing a recording (server/recorder/): its chunk rows, and the keyframes that make seeks cheap ──────────

export type NewChunkRow = typeof recordingChunks.$inferInsert;
export type KeyframeRow = typeof recordingKeyframes.$inferInsert;

/** Where a recording's chain ends so far: the next chunk's number and the hash it must name. */
export async function chainEnd(db: Database, sessionId: string): Promise<{ seq: number; sha256: string } | undefined> {
  const [last] = await db.select({ seq: recordingChunks.seq, sha256: recordingChunks.sha256 }).from(recordingChunks).where(eq(recordingChunks.sessionId, sessionId)).orderBy(desc(recordingChunks.seq)).limit(1);
  return last;
}

export async function insertChunks(db: Database, rows: NewChunkRow[]) {
  await db.insert(recordingChunks).values(rows);
}

/** Where a stored chunk's blob is, and where it ends; undefined when it has no row. */
export async function findChunk(db: Database, sessionId: string, seq: number) {
  const [row] = await db
    .select({ endMs: recordingChunks.endMs, blobKey: recordingChunks.blobKey })
    .from(recordingChunks)
    .where(and(eq(recordingChunks.sessionId, sessionId), eq(recordingChunks.seq, seq)));
  return row;
}

/** A keyframe, replaced if one after the same chunk exists (a keyframer run again after a restart). */
export async function saveKeyframe(db: Database, row: KeyframeRow) {
  await db.insert(recordingKeyframes).values(row).onConflictDoUpdate({ target: [recordingKeyframes.sessionId, recordingKeyframes.afterSeq], set: row });
}

export async function lastKeyframe(db: Database, sessionId: string) {
  const [row] = await db
    .select({ afterSeq: recordingKeyframes.afterSeq, atMs: recordingKeyframes.atMs, blobKey: recordingKeyframes.blobKey })
    .from(recordingKeyframes)
    .where(eq(recordingKeyframes.sessionId, sessionId))
    .orderBy(desc(recordingKeyframes.afterSeq))
    .limit(1);
  return row ?? null;
}

/** Every keyframe a recording will get is stored, through chunk `seq`. */
export async function markKeyframed(db: Database, sessionId: string, seq: number) {
  await db.update(sessions).set({ keyframedSeq: seq }).where(eq(sessions.id, sessionId));
}

/** The ended recordings of `node` whose keyframes stop short of their last chunk (a crash or a restart), with that chunk. */
export async function recordingsLackingKeyframes(db: Database, node: string) {
  const lastSeq = sql<number>`(select max(${recordingChunks.seq}) from ${recordingChunks} where ${recordingChunks.sessionId} = ${sessions.id})`;
  return db
    .select({ id: sessions.id, lastSeq })
    .from(sessions)
    .where(and(eq(sessions.node, node), eq(sessions.status, "ended"), isNull(sessions.recordingPurgedAt), isNotNull(lastSeq), or(isNull(sessions.keyframedSeq), lt(sessions.keyframedSeq, lastSeq))));
}
