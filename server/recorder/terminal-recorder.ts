// Records a terminal session as asciicast v2 events — output, input, resizes — in chunks of about a second
// or 64 KiB, gzip-compressed into the blob store, each chunk's SHA-256 chained to the one before it in
// recording_chunks. The first chunk starts with the asciicast header, so the chunks in order are a .cast file.
import { createHash } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import type { BlobStore } from "../../lib/blob-store";
import type { Database } from "../../lib/db/client";
import { recordingChunks } from "../../lib/db/schema";
import { chunkBlobKey, recordingGenesisHash } from "../../lib/recordings";
import type { TerminalSize } from "../protocols/adapter";
import { InputMasker } from "./input-masker";

const compress = promisify(gzip);
const flushEveryMs = 1000;
const flushAtBytes = 64 * 1024;

export interface SessionRecorder {
  output(data: Buffer): void;
  input(data: Buffer): void;
  resize(size: TerminalSize): void;
  /** Writes what is buffered and waits until every chunk is stored. */
  close(): Promise<void>;
}

export interface TerminalRecorderOptions {
  db: Database;
  blobStore: BlobStore;
  sessionId: string;
  startedAt: number;
  size: TerminalSize;
  title: string;
}

export class TerminalRecorder implements SessionRecorder {
  private lines: string[] = [];
  private bufferedBytes = 0;
  private firstEventMs = 0;
  private lastEventMs = 0;
  private sequence = 0;
  private previousHash = recordingGenesisHash;
  private writing: Promise<void> = Promise.resolve();
  private readonly outputDecoder = new StringDecoder("utf8");
  private readonly inputDecoder = new StringDecoder("utf8");
  private readonly masker = new InputMasker();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: TerminalRecorderOptions) {
    const header = {
      version: 2,
      width: options.size.cols,
      height: options.size.rows,
      timestamp: Math.floor(options.startedAt / 1000),
      title: options.title,
      env: { TERM: "xterm-256color" },
    };
    this.lines.push(JSON.stringify(header));
    this.timer = setInterval(() => this.flush(), flushEveryMs);
    this.timer.unref();
  }

  private event(code: "o" | "i" | "r" | "m", text: string) {
    if (this.closed || text === "") return;
    const elapsedMs = Date.now() - this.options.startedAt;
    const line = JSON.stringify([Number((elapsedMs / 1000).toFixed(6)), code, text]);
    if (this.bufferedBytes === 0) this.firstEventMs = elapsedMs;
    this.lastEventMs = elapsedMs;
    this.lines.push(line);
    this.bufferedBytes += line.length + 1;
    if (this.bufferedBytes >= flushAtBytes) this.flush();
  }

  output(data: Buffer) {
    const text = this.outputDecoder.write(data);
    this.masker.observeOutput(text);
    this.event("o", text);
  }

  input(data: Buffer) {
    this.event("i", this.masker.maskInput(this.inputDecoder.write(data)));
  }

  resize({ cols, rows }: TerminalSize) {
    this.event("r", `${cols}x${rows}`);
  }

  private flush() {
    if (this.lines.length === 0) return;
    const body = `${this.lines.join("\n")}\n`;
    const range = { startMs: this.firstEventMs, endMs: this.lastEventMs };
    this.lines = [];
    this.bufferedBytes = 0;
    const seq = this.sequence++;
    // Chunks are stored strictly one after another: each one's row names the hash of the one before.
    this.writing = this.writing.then(async () => {
      const blob = await compress(body);
      const sha256 = createHash("sha256").update(blob).digest("hex");
      const blobKey = chunkBlobKey(this.options.sessionId, seq);
      await this.options.blobStore.put(blobKey, blob);
      await this.options.db.insert(recordingChunks).values({
        sessionId: this.options.sessionId,
        seq,
        ...range,
        size: blob.length,
        sha256,
        prevSha256: this.previousHash,
        blobKey,
      });
      this.previousHash = sha256;
    });
    this.writing.catch((error) => console.error(`recording of session ${this.options.sessionId} lost chunk ${seq}:`, error));
  }

  async close() {
    if (this.closed) return;
    this.event("o", this.outputDecoder.end());
    this.closed = true;
    clearInterval(this.timer);
    this.flush();
    await this.writing;
  }
}
