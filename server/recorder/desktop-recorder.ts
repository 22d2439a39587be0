// Records an RDP or VNC session: the Guacamole instructions the user's browser got, as they came (a `.guac`
// stream that Guacamole.SessionRecording plays), in chunks of about a second or 256 KiB stored as a hash chain
// (./chunk-writer.ts). Every full frame from the engine (a keyframe) opens a chunk of its own, flagged
// `snapshot`, so playback can start there. The engine is asked for one every minute of changing screen, and
// the instructions since the last one are kept for a watcher joining.
import type { BlobStore } from "../../lib/blob-store";
import type { Database } from "../../lib/db/client";
import type { WatchFrame } from "../watchers";
import { ChunkWriter, type ChunkDraft } from "./chunk-writer";
import type { SessionRecorder } from "./terminal-recorder";

const flushEveryMs = 1000;
const flushAtBytes = 256 * 1024;
/** A keyframe is asked for once this much time has passed since the last one… */
const keyframeEveryMs = 60_000;
/** …and the screen changed by at least this much (a still screen needs none: its last keyframe shows it). */
const keyframeAfterBytes = 64 * 1024;
/**
 * A flood of drawing gets one sooner, so that a seek or a joining watcher never replays more than this (and a
 * player's window, at most 8 MiB stored, always reaches from one keyframe to the next).
 */
const keyframeAtBytes = 8 * 1024 * 1024;
/** The screen as it is now is kept up to this size; past it, it waits for the next keyframe. */
const currentScreenLimit = 32 * 1024 * 1024;

export interface DesktopRecorderOptions {
  db: Database;
  blobStore: BlobStore;
  sessionId: string;
  startedAt: number;
  /** False for a target recorded by policy exception: the screen is kept for watchers, nothing is stored. */
  store: boolean;
  /** Asks the engine for a full frame; false where it cannot give one (an Apache guacd). */
  requestKeyframe: () => boolean;
}

export class DesktopRecorder implements SessionRecorder {
  private pending: string[] = [];
  private pendingBytes = 0;
  private firstMs = 0;
  private lastMs = 0;
  /** The stream's start draws the whole screen too: the first chunk is a starting point as well. */
  private opensWithKeyframe = true;
  private lastKeyframeAt = Date.now();
  private bytesSinceKeyframe = 0;
  private keyframeAsked = false;
  private readonly chunks: ChunkWriter<ChunkDraft>;
  private readonly timer: NodeJS.Timeout;
  /** The instructions from the last keyframe (or the start) on; null once they grew too large, until the next keyframe. */
  private currentScreen: { parts: Buffer[]; bytes: number } | null = { parts: [], bytes: 0 };
  private closed = false;

  constructor(private readonly options: DesktopRecorderOptions) {
    const { db, blobStore, sessionId } = options;
    this.chunks = new ChunkWriter({ db, blobStore, sessionId, format: "guac" });
    this.timer = setInterval(() => this.tick(), flushEveryMs);
    this.timer.unref();
  }

  /** A full frame starts with the next output. */
  keyframe() {
    this.flush();
    this.opensWithKeyframe = true;
    this.keyframeAsked = false;
    this.lastKeyframeAt = Date.now();
    this.bytesSinceKeyframe = 0;
    this.currentScreen = { parts: [], bytes: 0 };
  }

  /** Whole instructions, as the user's browser got them. */
  output(data: Buffer) {
    if (this.closed) return;
    this.bytesSinceKeyframe += data.length;
    if (this.currentScreen) {
      this.currentScreen.parts.push(data);
      this.currentScreen.bytes += data.length;
      if (this.currentScreen.bytes > currentScreenLimit) this.currentScreen = null;
    }
    if (this.bytesSinceKeyframe >= keyframeAtBytes) this.askForKeyframe();
    if (!this.options.store) return;
    const atMs = Math.max(0, Date.now() - this.options.startedAt);
    if (this.pendingBytes === 0) this.firstMs = atMs;
    this.lastMs = atMs;
    this.pending.push(data.toString("utf8"));
    this.pendingBytes += data.length;
    if (this.pendingBytes >= flushAtBytes) this.flush();
  }

  /** A desktop's keystrokes are not recorded (./protocols/guac/desktop-stream.ts says why). */
  input() {}

  private askForKeyframe() {
    if (this.keyframeAsked) return;
    this.keyframeAsked = this.options.requestKeyframe();
  }

  private tick() {
    if (this.pendingBytes > 0 && Date.now() - this.options.startedAt - this.firstMs >= flushEveryMs) this.flush();
    if (Date.now() - this.lastKeyframeAt >= keyframeEveryMs && this.bytesSinceKeyframe >= keyframeAfterBytes) this.askForKeyframe();
  }

  async catchUp(): Promise<WatchFrame[]> {
    if (!this.currentScreen) {
      this.askForKeyframe();
      return [{ type: "desktop" }];
    }
    return [{ type: "desktop" }, Buffer.concat(this.currentScreen.parts)];
  }

  private flush() {
    if (this.pendingBytes === 0) return;
    this.chunks.add({ seq: this.chunks.nextSeq, body: this.pending.join(""), startMs: this.firstMs, endMs: this.lastMs, snapshot: this.opensWithKeyframe });
    this.pending = [];
    this.pendingBytes = 0;
    this.opensWithKeyframe = false;
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.flush();
    await this.chunks.stored();
  }
}
