// Records a terminal session as asciicast v2 events — output, input, resizes — in chunks of about a second
// or 64 KiB (256 KiB under a flood), stored as a hash chain (./chunk-writer.ts). The first chunk starts with the asciicast header, so
// the chunks in order are a .cast file.
import { isAscii } from "node:buffer";
import { StringDecoder } from "node:string_decoder";
import type { BlobStore } from "../../lib/infra/blob-store";
import type { Database } from "../../lib/data/client";
import { indexTranscriptLines } from "../../lib/data/transcripts";
import { parseChunk, parseResize, type CastEvent } from "../../lib/protocol/recordings";
import { readScreenThrough } from "../../lib/data/recordings";
import type { TerminalSize } from "../protocols/adapter";
import type { WatchFrame } from "../live/watchers";
import type { StreamRecorder } from "./session-recorder";
import { ChunkWriter, type ChunkDraft } from "./chunk-writer";
import { ChunkBody } from "./chunk-body";
import type { KeyframeFeed } from "./keyframer";
import { OutputLineTracker, type TranscriptLine } from "../../lib/domain/transcript-lines";

const flushEveryMs = 1000;
const flushAtBytes = 64 * 1024;
/**
 * A flood (a chunk's worth within a quarter of a second) goes on filling its chunk up to this: each chunk costs a
 * blob, a row, a hash and a compressor of its own, which at 64 KiB came to most of what recording a flood cost.
 */
const floodChunkBytes = 256 * 1024;
const floodWithinMs = 250;
/** Bytes waiting to be stored past which a recording is taken to be behind a flood (four flood chunks). */
const floodWaitingBytes = 4 * floodChunkBytes;
/** Transcript lines kept per chunk: a flood of output is searchable by its first lines, not all of them. */
const transcriptLinesPerChunk = 200;

/** What a session keeps of itself: a recording, or (for an unrecorded target) just its current screen. */
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

type TerminalChunk = ChunkDraft & { transcript: TranscriptLine[] };

export class TerminalRecorder implements StreamRecorder {
  /** The chunk being filled: its event lines, each followed by a line end. */
  private readonly body = new ChunkBody();
  private firstEventMs = 0;
  private lastEventMs = 0;
  private readonly chunks: ChunkWriter<TerminalChunk>;
  private transcript: TranscriptLine[] = [];
  private readonly outputLines = new OutputLineTracker();
  private readonly outputDecoder = new StringDecoder("utf8");
  private readonly timer: NodeJS.Timeout;
  private closed = false;
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
    const { db, blobStore, sessionId, keyframes } = options;
    this.chunks = new ChunkWriter<TerminalChunk>({
      db,
      blobStore,
      sessionId,
      format: "cast",
      afterBatch: async (batch, stored, waitingBytes) => {
        // Indexing text costs PostgreSQL far more than storing chunks (a line of random text is hundreds of
        // trigrams): while a flood's chunks queue up behind this batch, its lines are left out of search so the
        // recording itself keeps up. Not for a chunk or two waiting: a session's last command, typed just before it
        // closed, was lost that way.
        const lines = waitingBytes > floodWaitingBytes ? [] : batch.flatMap((chunk) => chunk.transcript.map((line) => ({ sessionId, ...line })));
        if (lines.length > 0) await indexTranscriptLines(db, lines);
        for (const chunk of stored) keyframes.stored(chunk);
      },
    });
    this.body.append(`${JSON.stringify(header)}\n`);
    this.timer = setInterval(() => this.flush(), flushEveryMs);
    this.timer.unref();
  }

  /** `ascii`: the text is known to be ASCII, so its line is copied rather than encoded. */
  private event(code: "o" | "i" | "r" | "m", text: string, ascii = false) {
    if (this.closed || text === "") return;
    const elapsedMs = this.now() - this.options.startedAt;
    if (this.body.length > 0 && elapsedMs - this.firstEventMs >= flushEveryMs) this.flush();
    if (this.body.length === 0) this.firstEventMs = elapsedMs;
    this.lastEventMs = elapsedMs;
    // The line JSON.stringify([seconds, code, text]) gives, written in three parts: no array, no joined string.
    this.body.appendAscii(`[${Number((elapsedMs / 1000).toFixed(6))},"${code}",`);
    if (ascii) this.body.appendAscii(JSON.stringify(text));
    else this.body.append(JSON.stringify(text));
    this.body.appendAscii("]\n");
    const length = this.body.length;
    if (length >= floodChunkBytes || (length >= flushAtBytes && elapsedMs - this.firstEventMs >= floodWithinMs)) this.flush();
  }

  output(data: Buffer) {
    const text = this.outputDecoder.write(data);
    // ASCII bytes decode to as many characters, unless the decoder had a broken sequence to end first.
    this.event("o", text, text.length === data.length && isAscii(data));
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

  private flush() {
    if (this.body.length === 0) return;
    this.chunks.add({ seq: this.chunks.nextSeq, bytes: this.body.take(), startMs: this.firstEventMs, endMs: this.lastEventMs, transcript: this.transcript });
    this.transcript = [];
  }

  /** The stored recording up to its last stored chunk (from the newest keyframe), then what is still in memory. */
  async catchUp(): Promise<WatchFrame[]> {
    // Parsed before anything is awaited: a chunk's buffer is reused once it is stored.
    const pending = this.chunks.pending().map((chunk) => parseChunk(chunk.bytes, chunk.seq));
    if (this.body.length > 0) pending.push(parseChunk(this.body.written(), this.chunks.nextSeq));
    const { sessionId } = this.options;
    const lastStoredSeq = this.chunks.lastStoredSeq;
    const stored = lastStoredSeq >= 0 ? await readScreenThrough(this.options.db, this.options.blobStore, sessionId, lastStoredSeq) : { size: null, screen: null, events: [] };
    let size = stored.size;
    const events = stored.events;
    for (const { header, events: more } of pending) {
      if (header) size = { cols: header.width, rows: header.height };
      events.push(...more);
    }
    return terminalScreenFrames(size ?? this.options.size, stored.screen, events);
  }

  behind(onCaughtUp: () => void): boolean {
    return this.chunks.behind(onCaughtUp);
  }

  /** Settles when every chunk flushed so far is stored. */
  async stored(): Promise<void> {
    await this.chunks.stored();
  }

  async close() {
    if (this.closed) return;
    this.event("o", this.outputDecoder.end());
    this.addToTranscript("output", this.outputLines.end());
    this.closed = true;
    clearInterval(this.timer);
    this.flush();
    await this.chunks.seal();
    this.options.keyframes.finish(this.chunks.lastStoredSeq);
  }
}
