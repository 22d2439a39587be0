// Records a web session: the rrweb events of the user's pages, one JSON per line, in chunks of about a second
// or 256 KiB stored as a hash chain (./chunk-writer.ts). Every page load and every periodic full snapshot
// starts a chunk of its own, flagged `snapshot`, so playback can start at any of them. It also keeps the page
// as it is now (the events since the last full snapshot) for a watcher joining.
import type { BlobStore } from "../../lib/blob-store";
import type { Database } from "../../lib/db/client";
import { pageEventType, type PageEvent } from "../../lib/protocol/page-recorder";
import { ChunkWriter, type ChunkDraft } from "./chunk-writer";

const flushEveryMs = 1000;
const flushAtBytes = 256 * 1024;
/** The page as it is now is kept up to this size; past it, the next full snapshot is asked for. */
const currentPageLimit = 32 * 1024 * 1024;

export interface WebRecorderOptions {
  db: Database;
  blobStore: BlobStore;
  sessionId: string;
  startedAt: number;
  /** False for a target recorded by policy exception: the page is kept for watchers, nothing is stored. */
  store: boolean;
  /** Where the recording's chain ends, when pages of this session were recorded on another node before. */
  after?: { seq: number; sha256: string };
  /** The page as it is now could not be kept: the page should send a full snapshot. */
  wantSnapshot: () => void;
}

export class WebRecorder {
  private lines: string[] = [];
  private bufferedBytes = 0;
  private firstEventMs = 0;
  private lastEventMs = 0;
  private opensWithSnapshot = false;
  private readonly chunks: ChunkWriter<ChunkDraft>;
  private readonly timer: NodeJS.Timeout;
  /** The events from the last full snapshot on, or null until there is one (or after it grew too large). */
  private currentPage: { lines: string[]; bytes: number } | null = null;
  private closed = false;

  constructor(private readonly options: WebRecorderOptions) {
    const { db, blobStore, sessionId, after } = options;
    this.chunks = new ChunkWriter({ db, blobStore, sessionId, format: "rrweb", after });
    this.timer = setInterval(() => this.flush(), flushEveryMs);
    this.timer.unref();
  }

  /**
   * Events as the page sent them, their timestamps already on the gateway's clock. Returns them one JSON per
   * line, as watchers are sent them.
   */
  add(events: PageEvent[]): Buffer {
    const lines: string[] = [];
    for (const event of events) {
      const line = JSON.stringify(event);
      lines.push(line, "\n");
      if (this.closed) continue;
      // A full snapshot comes as meta (address, viewport) then the snapshot itself: both open the chunk.
      if (event.type === pageEventType.meta) {
        this.flush();
        this.opensWithSnapshot = true;
        this.currentPage = { lines: [], bytes: 0 };
      }
      this.keepForCurrentPage(line);
      if (!this.options.store) continue;
      const atMs = Math.max(0, Math.round(event.timestamp - this.options.startedAt));
      if (this.bufferedBytes > 0 && atMs - this.firstEventMs >= flushEveryMs) this.flush();
      if (this.bufferedBytes === 0) this.firstEventMs = atMs;
      this.lastEventMs = Math.max(this.lastEventMs, atMs);
      this.lines.push(line);
      this.bufferedBytes += line.length + 1;
      if (this.bufferedBytes >= flushAtBytes) this.flush();
    }
    return Buffer.from(lines.join(""), "utf8");
  }

  private keepForCurrentPage(line: string) {
    if (!this.currentPage) return;
    this.currentPage.lines.push(line);
    this.currentPage.bytes += line.length + 1;
    if (this.currentPage.bytes <= currentPageLimit) return;
    this.currentPage = null;
    this.options.wantSnapshot();
  }

  /** The page as it is now, as events one JSON per line from its last full snapshot; null when there is none. */
  currentPageEvents(): Buffer | null {
    if (!this.currentPage) return null;
    return Buffer.from(this.currentPage.lines.map((line) => `${line}\n`).join(""), "utf8");
  }

  private flush() {
    if (this.lines.length === 0) return;
    this.chunks.add({ seq: this.chunks.nextSeq, body: `${this.lines.join("\n")}\n`, startMs: this.firstEventMs, endMs: this.lastEventMs, snapshot: this.opensWithSnapshot });
    this.lines = [];
    this.bufferedBytes = 0;
    this.opensWithSnapshot = false;
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
    await this.chunks.stored();
  }
}
