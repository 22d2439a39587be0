// Records a terminal session as asciicast v2 events — output, input, resizes — in chunks of about a second
// or 64 KiB, gzip-compressed into the blob store, each chunk's SHA-256 chained to the one before it in
// recording_chunks. The first chunk starts with the asciicast header, so the chunks in order are a .cast file.
import { createHash } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import { promisify } from "node:util";
import { constants, gzip } from "node:zlib";
import type { BlobStore } from "../../lib/blob-store";
import type { Database } from "../../lib/db/client";
import { recordingChunks, transcriptLines } from "../../lib/db/schema";
import { parseChunk, parseResize, type CastEvent } from "../../lib/protocol/recordings";
import { chunkBlobKey, readScreenThrough, recordingGenesisHash } from "../../lib/recordings";
import type { TerminalSize } from "../protocols/adapter";
import type { WatchFrame } from "../watchers";
import type { KeyframeFeed } from "./keyframer";
import { OutputLineTracker, type TranscriptLine } from "../../lib/transcript-lines";

const compress = promisify(gzip);
const flushEveryMs = 1000;
const flushAtBytes = 64 * 1024;
/**
 * Chunks are compressed at the default level (a fifth smaller than the fastest over hours of ordinary use)
 * while a session's output stays within this budget, refilled by the second; a sustained flood past it falls
 * back to the fastest level, so compression never costs a session more than ~0.1 s of CPU a second.
 */
const strongCompression = { bytesPerSecond: 2 * 1024 * 1024, burstBytes: 8 * 1024 * 1024 };
/** Transcript lines kept per chunk: a flood of output is searchable by its first lines, not all of them. */
const transcriptLinesPerChunk = 200;

/** What a session keeps of itself: a recording, or (for an unrecorded target) just its current screen. */
export interface SessionRecorder {
  output(data: Buffer): void;
  /** What the user typed, secrets masked, and the commands it completed. */
  input(shown: string, commands: string[]): void;
  resize(size: TerminalSize): void;
  /** What a watcher joining now needs to draw the current screen; reflects every call made before it. */
  catchUp(): Promise<WatchFrame[]>;
  /** Writes what is buffered and waits until every chunk is stored. */
  close(): Promise<void>;
}

/**
 * Output replayed for a watcher beyond the keyframe. More than this since the keyframe means a flood, which
 * redraws the screen many times over in its last megabyte: the watcher gets the keyframe (modes, alternate
 * screen) and that last part, so that joining — or catching up fifty watchers at once — stays cheap.
 */
const catchUpOutputLimit = 1024 * 1024;

/** A terminal screen for a watcher: its size, the serialized screen to start from, then output and resizes. */
export function terminalScreenFrames(size: TerminalSize, screen: string | null, events: CastEvent[]): WatchFrame[] {
  let from = 0;
  for (let index = events.length - 1, kept = 0; index >= 0; index--) {
    if (events[index]![1] === "o" && (kept += events[index]![2].length) > catchUpOutputLimit) {
      from = index + 1;
      break;
    }
  }
  let sizeAtFrom = size;
  for (const [, code, data] of events.slice(0, from)) if (code === "r") sizeAtFrom = parseResize(data) ?? sizeAtFrom;
  const frames: WatchFrame[] = [{ type: "screen", ...size }];
  if (screen) frames.push(Buffer.from(screen, "utf8"));
  if (sizeAtFrom !== size) frames.push({ type: "resize", ...sizeAtFrom });
  let output = "";
  for (const [, code, data] of events.slice(from)) {
    if (code === "o") output += data;
    const resize = code === "r" ? parseResize(data) : null;
    if (!resize) continue;
    if (output) frames.push(Buffer.from(output, "utf8"));
    output = "";
    frames.push({ type: "resize", ...resize });
  }
  if (output) frames.push(Buffer.from(output, "utf8"));
  return frames;
}

export interface TerminalRecorderOptions {
  db: Database;
  blobStore: BlobStore;
  sessionId: string;
  startedAt: number;
  size: TerminalSize;
  title: string;
  /** Where stored chunks go to become keyframes. */
  keyframes: KeyframeFeed;
  /** The clock, in ms since the epoch; replaced only by benchmarks that synthesize hours of recording. */
  now?: () => number;
}

type PendingChunk = { seq: number; body: string; startMs: number; endMs: number; transcript: TranscriptLine[] };

export class TerminalRecorder implements SessionRecorder {
  private lines: string[] = [];
  private bufferedBytes = 0;
  private firstEventMs = 0;
  private lastEventMs = 0;
  private sequence = 0;
  private previousHash = recordingGenesisHash;
  private writing: Promise<void> = Promise.resolve();
  private writerRunning = false;
  private unwritten: PendingChunk[] = [];
  /** The batch being stored: with `unwritten` and `lines`, everything after `lastStoredSeq`. */
  private storing: PendingChunk[] = [];
  private transcript: TranscriptLine[] = [];
  private readonly outputLines = new OutputLineTracker();
  private readonly outputDecoder = new StringDecoder("utf8");
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private lastStoredSeq = -1;
  private strongBudget = { bytes: strongCompression.burstBytes, at: Date.now() };
  private readonly now: () => number;

  constructor(private readonly options: TerminalRecorderOptions) {
    const header = {
      version: 2,
      width: options.size.cols,
      height: options.size.rows,
      timestamp: Math.floor(options.startedAt / 1000),
      title: options.title,
      env: { TERM: "xterm-256color" },
    };
    this.now = options.now ?? Date.now;
    this.lines.push(JSON.stringify(header));
    this.timer = setInterval(() => this.flush(), flushEveryMs);
    this.timer.unref();
  }

  private event(code: "o" | "i" | "r" | "m", text: string) {
    if (this.closed || text === "") return;
    const elapsedMs = this.now() - this.options.startedAt;
    const line = JSON.stringify([Number((elapsedMs / 1000).toFixed(6)), code, text]);
    if (this.bufferedBytes > 0 && elapsedMs - this.firstEventMs >= flushEveryMs) this.flush();
    if (this.bufferedBytes === 0) this.firstEventMs = elapsedMs;
    this.lastEventMs = elapsedMs;
    this.lines.push(line);
    this.bufferedBytes += line.length + 1;
    if (this.bufferedBytes >= flushAtBytes) this.flush();
  }

  output(data: Buffer) {
    const text = this.outputDecoder.write(data);
    this.event("o", text);
    this.addToTranscript("output", this.outputLines.write(text, transcriptLinesPerChunk - this.transcript.length));
  }

  input(shown: string, commands: string[]) {
    this.event("i", shown);
    this.addToTranscript("command", commands);
  }

  private addToTranscript(kind: TranscriptLine["kind"], lines: string[]) {
    if (lines.length === 0 || this.closed) return;
    const atMs = this.now() - this.options.startedAt;
    for (const text of lines) if (this.transcript.length < transcriptLinesPerChunk) this.transcript.push({ atMs, kind, text });
  }

  resize({ cols, rows }: TerminalSize) {
    this.event("r", `${cols}x${rows}`);
  }

  private compressionLevel(size: number) {
    const now = Date.now();
    const budget = this.strongBudget;
    budget.bytes = Math.min(strongCompression.burstBytes, budget.bytes + ((now - budget.at) / 1000) * strongCompression.bytesPerSecond);
    budget.at = now;
    if (budget.bytes < size) return constants.Z_BEST_SPEED;
    budget.bytes -= size;
    return constants.Z_DEFAULT_COMPRESSION;
  }

  private flush() {
    if (this.lines.length === 0) return;
    this.unwritten.push({ seq: this.sequence++, body: `${this.lines.join("\n")}\n`, startMs: this.firstEventMs, endMs: this.lastEventMs, transcript: this.transcript });
    this.lines = [];
    this.transcript = [];
    this.bufferedBytes = 0;
    if (!this.writerRunning) this.writing = this.writeUnwritten();
  }

  /**
   * Stores chunks strictly in order — each row names the hash of the one before — but in batches: under a
   * flood of output, many chunks are compressed together and their rows go in one INSERT.
   */
  private async writeUnwritten(): Promise<void> {
    this.writerRunning = true;
    try {
      while (this.unwritten.length > 0) {
        const batch = this.unwritten.splice(0, 64);
        this.storing = batch;
        const blobs = await Promise.all(batch.map((chunk) => compress(chunk.body, { level: this.compressionLevel(chunk.body.length) })));
        const rows = batch.map((chunk, index) => {
          const sha256 = createHash("sha256").update(blobs[index]!).digest("hex");
          const row = { sessionId: this.options.sessionId, seq: chunk.seq, startMs: chunk.startMs, endMs: chunk.endMs, size: blobs[index]!.length, sha256, prevSha256: this.previousHash, blobKey: chunkBlobKey(this.options.sessionId, chunk.seq) };
          this.previousHash = sha256;
          return row;
        });
        for (const [index, row] of rows.entries()) await this.options.blobStore.put(row.blobKey, blobs[index]!);
        await this.options.db.insert(recordingChunks).values(rows);
        // Indexing text costs PostgreSQL far more than storing chunks (a line of random text is hundreds of
        // trigrams): while chunks are waiting behind this batch, a flood's lines are left out of search so the
        // recording itself keeps up and nothing piles up in memory.
        const lines = this.unwritten.length > 0 ? [] : batch.flatMap((chunk) => chunk.transcript.map((line) => ({ sessionId: this.options.sessionId, ...line })));
        if (lines.length > 0) await this.options.db.insert(transcriptLines).values(lines);
        for (const [index, row] of rows.entries()) this.options.keyframes.stored({ seq: row.seq, endMs: row.endMs, gzip: blobs[index]! });
        this.lastStoredSeq = rows.at(-1)!.seq;
        this.storing = [];
      }
    } catch (error) {
      console.error(`recording of session ${this.options.sessionId} could not store a chunk:`, error);
    } finally {
      this.writerRunning = false;
    }
  }

  /** The stored recording up to its last stored chunk (from the newest keyframe), then what is still in memory. */
  async catchUp(): Promise<WatchFrame[]> {
    const pending = [...this.storing, ...this.unwritten].map(({ seq, body }) => ({ seq, body }));
    if (this.lines.length > 0) pending.push({ seq: this.sequence, body: this.lines.join("\n") });
    const { sessionId } = this.options;
    const stored = this.lastStoredSeq >= 0 ? await readScreenThrough(this.options.db, this.options.blobStore, sessionId, this.lastStoredSeq) : { size: null, screen: null, events: [] };
    let size = stored.size;
    const events = stored.events;
    for (const chunk of pending) {
      const { header, events: more } = parseChunk(chunk.body, chunk.seq);
      if (header) size = { cols: header.width, rows: header.height };
      events.push(...more);
    }
    return terminalScreenFrames(size ?? this.options.size, stored.screen, events);
  }

  /** Settles when every chunk flushed so far is stored. */
  async stored(): Promise<void> {
    await this.writing;
  }

  async close() {
    if (this.closed) return;
    this.event("o", this.outputDecoder.end());
    this.addToTranscript("output", this.outputLines.end());
    this.closed = true;
    clearInterval(this.timer);
    this.flush();
    await this.writing;
    this.options.keyframes.finish(this.lastStoredSeq);
  }
}
