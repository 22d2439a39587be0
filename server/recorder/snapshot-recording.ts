// What web and desktop recordings share: their entries (rrweb events, Guacamole instructions) stored in chunks of
// about a second or 256 KiB as a hash chain (./chunk-writer.ts), where every full snapshot (a page load, a
// keyframe from the desktop engine) opens a chunk of its own, flagged `snapshot`, so playback can start there;
// and what is shown now (the entries since the last snapshot), kept for a watcher joining.
import type { BlobStore } from "../../lib/infra/blob-store";
import type { Database } from "../../lib/data/client";
import type { RecordingFormat } from "../../lib/data/recordings";
import { ChunkWriter, type ChunkDraft } from "./chunk-writer";
import { ChunkBody } from "./chunk-body";

const flushEveryMs = 1000;
const flushAtLength = 256 * 1024;
/** What is shown now is kept up to this size; past it, a fresh snapshot is asked for. */
const shownNowLimit = 32 * 1024 * 1024;

export interface SnapshotRecordingOptions {
  db: Database;
  blobStore: BlobStore;
  sessionId: string;
  format: RecordingFormat;
  /** False for a target recorded by policy exception: what is shown is kept for watchers, nothing is stored. */
  store: boolean;
  /** Where the recording's chain ends, when it is taken up again (a web session's pages reaching another node). */
  after?: { seq: number; sha256: string };
  /** Whether the first entry is a full snapshot (a desktop's stream is; a web session says so with a page load). */
  opensWithSnapshot: boolean;
  /** What is shown now grew too large to keep: a fresh snapshot is wanted. */
  wantSnapshot: () => void;
  /** Bytes of entries the recording stores at most; past it, it stores nothing more and calls `quotaReached`. */
  quotaBytes?: number;
  quotaReached?: () => void;
}

export class SnapshotRecording {
  private readonly body = new ChunkBody();
  private firstMs = 0;
  private lastMs = 0;
  private nextChunkOpensWithSnapshot: boolean;
  /** The entries from the last snapshot on; null before the first one, or once they grew too large. */
  private shown: { entries: string[]; length: number } | null;
  private readonly chunks: ChunkWriter<ChunkDraft>;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private storedLength = 0;
  private storing: boolean;

  constructor(private readonly options: SnapshotRecordingOptions) {
    const { db, blobStore, sessionId, format, after } = options;
    this.chunks = new ChunkWriter({ db, blobStore, sessionId, format, after });
    this.nextChunkOpensWithSnapshot = options.opensWithSnapshot;
    this.shown = options.opensWithSnapshot ? { entries: [], length: 0 } : null;
    this.storing = options.store;
    this.timer = setInterval(() => this.flush(), flushEveryMs);
    this.timer.unref();
  }

  /**
   * The next entry is a full snapshot: what is shown now starts over with it, and (as a seek point) it opens a
   * chunk of its own. One that is not a seek point is stored inline, replayed in order like any entry.
   */
  startSnapshot({ seekPoint }: { seekPoint: boolean }) {
    if (seekPoint) {
      this.flush();
      this.nextChunkOpensWithSnapshot = true;
    }
    this.shown = { entries: [], length: 0 };
  }

  /** An entry, `atMs` from the session's start. */
  add(entry: string, atMs: number) {
    if (this.closed) return;
    this.keepAsShown(entry);
    if (!this.storing) return;
    this.storedLength += entry.length;
    if (this.options.quotaBytes !== undefined && this.storedLength > this.options.quotaBytes) {
      this.flush();
      this.storing = false;
      this.options.quotaReached?.();
      return;
    }
    if (this.body.length > 0 && atMs - this.firstMs >= flushEveryMs) this.flush();
    if (this.body.length === 0) this.firstMs = atMs;
    this.lastMs = Math.max(this.lastMs, atMs);
    this.body.append(entry);
    if (this.body.length >= flushAtLength) this.flush();
  }

  private keepAsShown(entry: string) {
    if (!this.shown) return;
    this.shown.entries.push(entry);
    this.shown.length += entry.length;
    if (this.shown.length <= shownNowLimit) return;
    this.shown = null;
    this.options.wantSnapshot();
  }

  /** What is shown now, as the entries from the last snapshot on; null when they are not at hand. */
  shownNow(): string | null {
    return this.shown ? this.shown.entries.join("") : null;
  }

  private flush() {
    if (this.body.length === 0) return;
    this.chunks.add({ seq: this.chunks.nextSeq, bytes: this.body.take(), startMs: this.firstMs, endMs: this.lastMs, snapshot: this.nextChunkOpensWithSnapshot });
    this.nextChunkOpensWithSnapshot = false;
  }

  /** Entries handed over and not stored yet: what a writer that falls behind holds in memory. */
  unstoredLength(): number {
    return this.body.length + this.chunks.pendingBytes;
  }

  /** Whether more waits to be stored than it may hold (./chunk-writer.ts `behind`). */
  behind(onCaughtUp: () => void): boolean {
    return this.chunks.behind(onCaughtUp);
  }

  /** Settles when every chunk flushed so far is stored. */
  async stored(): Promise<void> {
    await this.chunks.stored();
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.flush();
    await this.chunks.seal();
  }
}
