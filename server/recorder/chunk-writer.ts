// Stores a recording's chunks strictly in order: each one gzip-compressed, encrypted under the recording's data
// key (lib/infra/recording-cipher.ts) into the blob store, its row in recording_chunks naming the SHA-256 of the chunk
// before and signed with an HMAC under the evidence key, so that an edit, a gap or a reordering shows even to a
// database writer who recomputed every hash. Closing seals the recording in the audit log (its chunk count and
// head), so that cutting off its last chunks shows too. Every recorder writes through one of these.
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { constants, gzip } from "node:zlib";
import { atOnce } from "../../lib/infra/at-once";
import type { BlobStore } from "../../lib/infra/blob-store";
import type { Database } from "../../lib/data/client";
import { audit, systemActor } from "../../lib/data/audit";
import { evidenceKeys } from "../../lib/infra/evidence-keys";
import { recordingCipher, type RecordingCipher } from "../../lib/infra/recording-cipher";
import { chunkBlobKey, chunkMac, insertChunks, recordingGenesisHash, type RecordingFormat } from "../../lib/data/recordings";
import { log } from "../../lib/infra/log";
import { releaseChunkBytes } from "./chunk-body";

const compress = promisify(gzip);
/**
 * Chunks are compressed at the default level (a fifth smaller than the fastest over hours of ordinary use)
 * while a recording stays within this budget, refilled by the second; a sustained flood past it falls back to
 * the fastest level, so compression never costs a session more than ~0.1 s of CPU a second, and to none at all
 * for chunks that would barely shrink (a flood of base64), which are stored as gzip's stored blocks.
 */
const strongCompression = { bytesPerSecond: 2 * 1024 * 1024, burstBytes: 8 * 1024 * 1024 };
/** Characters of a chunk looked at to tell whether compressing it would pay. */
const sampleLength = 4096;
/**
 * Bits per character (order 0) above which a sample is taken for incompressible: base64 of random bytes has 6,
 * which deflate takes to 75 % of its size at five to seven times the CPU of storing it; text, logs, listings and
 * JSON stay well below.
 */
const incompressibleBits = 5.6;

/** Whether a chunk looks like output deflate would barely shrink (encoded random data, compressed files). */
export function looksIncompressible(body: Uint8Array): boolean {
  const length = Math.min(body.length, sampleLength);
  if (length < 256) return false;
  const counts = new Uint32Array(256);
  for (let index = 0; index < length; index++) counts[body[index]!]! += 1;
  let bits = 0;
  for (const count of counts) if (count > 0) bits -= (count / length) * Math.log2(count / length);
  return bits >= incompressibleBits;
}
/**
 * Bytes waiting to be stored past which the recorder says it is behind, and the session holds the target's output
 * until the writer is down to the low mark: a flood faster than the store never piles up in memory.
 */
const backlogMarks = { high: 8 * 1024 * 1024, low: 4 * 1024 * 1024 };

/**
 * Blobs of a batch written at once: each is several file operations (or a request), and one after another they
 * kept a writer waiting on every turn of an event loop that a flood keeps busy.
 */
const blobWritesAtOnce = 4;

/** Chunks stored together when they queue up: compressed in one go, their rows in one INSERT. */
const batchLimit = 64;

export interface ChunkDraft {
  seq: number;
  /**
   * The chunk's text as UTF-8 (./chunk-body.ts): bytes rather than a string, because a chunk waiting to be stored
   * would otherwise outlive V8's young generation and be copied into the old one.
   */
  bytes: Buffer;
  /** Milliseconds from the session's start to the chunk's first and last event. */
  startMs: number;
  endMs: number;
  /** The chunk opens with a full snapshot of what is shown (web pages): playback may start there. */
  snapshot?: boolean;
}

export interface StoredChunk {
  seq: number;
  endMs: number;
  gzip: Buffer;
}

export interface ChunkWriterOptions<Draft extends ChunkDraft> {
  db: Database;
  blobStore: BlobStore;
  sessionId: string;
  format: RecordingFormat;
  /** The chain so far, when a recording is taken up again (a web session whose pages now reach this node). */
  after?: { seq: number; sha256: string };
  /** After each batch is stored; `waitingBytes` tells how much queues behind it (to skip what can be skipped). */
  afterBatch?: (batch: Draft[], stored: StoredChunk[], waitingBytes: number) => Promise<void>;
}

export class ChunkWriter<Draft extends ChunkDraft> {
  private previousHash: string;
  private unwritten: Draft[] = [];
  /** The batch being stored now. */
  private storing: Draft[] = [];
  private writing: Promise<void> = Promise.resolve();
  private running = false;
  private strongBudget = { bytes: strongCompression.burstBytes, at: Date.now() };
  private cipher: RecordingCipher | null = null;
  /** The MAC of the last chunk this writer stored: the head its seal names. */
  private headMac: string | null = null;
  /** The last chunk whose blob and row are stored. */
  lastStoredSeq: number;
  /** Bytes of the chunks handed over and not stored yet. */
  pendingBytes = 0;
  private caughtUpListeners: (() => void)[] = [];

  constructor(private readonly options: ChunkWriterOptions<Draft>) {
    this.previousHash = options.after?.sha256 ?? recordingGenesisHash;
    this.lastStoredSeq = options.after?.seq ?? -1;
  }

  /** The number the next chunk takes. */
  get nextSeq() {
    return Math.max(this.lastStoredSeq, this.storing.at(-1)?.seq ?? -1, this.unwritten.at(-1)?.seq ?? -1) + 1;
  }

  add(chunk: Draft) {
    this.unwritten.push(chunk);
    this.pendingBytes += chunk.bytes.length;
    if (!this.running) this.writing = this.writeUnwritten();
  }

  /** Chunks handed over but not stored yet, in order. */
  pending(): Draft[] {
    return [...this.storing, ...this.unwritten];
  }

  /**
   * Whether more waits to be stored than a recorder may hold: then `onCaughtUp` is called once the writer is down
   * to the low mark, or has stopped on an error (the next chunk starts it again).
   */
  behind(onCaughtUp: () => void): boolean {
    if (this.pendingBytes <= backlogMarks.high) return false;
    this.caughtUpListeners.push(onCaughtUp);
    return true;
  }

  private tellCaughtUp(stopped: boolean) {
    if (this.caughtUpListeners.length === 0 || (!stopped && this.pendingBytes > backlogMarks.low)) return;
    const listeners = this.caughtUpListeners;
    this.caughtUpListeners = [];
    for (const listener of listeners) listener();
  }

  /** Settles when every chunk handed over so far is stored. */
  async stored(): Promise<void> {
    await this.writing;
  }

  /**
   * After the last chunk: the recording's chunk count and head go in the audit log, whose own chain and anchors
   * protect them, so that deleting the newest chunks (which leaves the chunk chain whole) is detected.
   */
  async seal(): Promise<void> {
    await this.stored();
    if (this.headMac === null) return;
    await audit(this.options.db, systemActor, { action: "recording.seal", objectType: "session", objectId: this.options.sessionId, details: { chunks: this.lastStoredSeq + 1, head: this.headMac } });
  }

  private compressionLevel(body: Buffer) {
    const now = Date.now();
    const budget = this.strongBudget;
    budget.bytes = Math.min(strongCompression.burstBytes, budget.bytes + ((now - budget.at) / 1000) * strongCompression.bytesPerSecond);
    budget.at = now;
    const size = body.length;
    if (budget.bytes < size) return looksIncompressible(body) ? constants.Z_NO_COMPRESSION : constants.Z_BEST_SPEED;
    budget.bytes -= size;
    return constants.Z_DEFAULT_COMPRESSION;
  }

  private async writeUnwritten(): Promise<void> {
    this.running = true;
    const { db, blobStore, sessionId, format } = this.options;
    try {
      while (this.unwritten.length > 0) {
        const batch = this.unwritten.splice(0, batchLimit);
        this.storing = batch;
        // Counted off now: a batch that fails to store is not retried.
        this.pendingBytes -= batch.reduce((length, chunk) => length + chunk.bytes.length, 0);
        // One after another: a flood's batch compressed all at once queues dozens of jobs on the thread pool,
        // whose threads then wake and wait on each other for more CPU than the compression itself.
        const blobs: Buffer[] = [];
        for (const chunk of batch) blobs.push(await compress(chunk.bytes, { level: this.compressionLevel(chunk.bytes) }));
        this.cipher ??= await recordingCipher(db, sessionId, { create: true });
        const cipher = this.cipher;
        const { current } = evidenceKeys();
        const sealed: Buffer[] = [];
        const rows = batch.map((chunk, index) => {
          const blobKey = chunkBlobKey(sessionId, chunk.seq, format);
          const stored = cipher.seal(blobKey, blobs[index]!);
          sealed.push(stored);
          const sha256 = createHash("sha256").update(stored).digest("hex");
          const fields = { sessionId, seq: chunk.seq, startMs: chunk.startMs, endMs: chunk.endMs, snapshot: chunk.snapshot ?? false, size: stored.length, sha256, prevSha256: this.previousHash, blobKey };
          const row = { ...fields, mac: chunkMac(current.key, fields), keyId: current.id };
          this.previousHash = sha256;
          return row;
        });
        await atOnce(rows, blobWritesAtOnce, (row, index) => blobStore.put(row.blobKey, sealed[index]!));
        await insertChunks(db, rows);
        await this.options.afterBatch?.(
          batch,
          rows.map((row, index) => ({ seq: row.seq, endMs: row.endMs, gzip: blobs[index]! })),
          this.pendingBytes,
        );
        this.lastStoredSeq = rows.at(-1)!.seq;
        this.headMac = rows.at(-1)!.mac;
        this.storing = [];
        // Read by no one now. A batch that failed is left to the garbage collector.
        for (const chunk of batch) releaseChunkBytes(chunk.bytes);
        this.tellCaughtUp(false);
      }
    } catch (error) {
      log.error({ err: error, sessionId }, `recording of session ${sessionId} could not store a chunk`);
    } finally {
      this.running = false;
      this.tellCaughtUp(true);
    }
  }
}
