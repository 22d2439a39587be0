// Keyframes for terminal recordings: every ~30 s of a recording, the screen as it was, so that the player can
// seek anywhere by replaying at most ~30 s of output. The emulation runs in a child process at low priority
// (keyframer-process.ts); here each recording gets a feed that hands it the stored chunks in order, holding
// recent ones in memory and re-reading older ones from the blob store when the child has fallen behind.
// Progress is kept in sessions.keyframed_seq, so recordings left unfinished by a crash are completed at start.
import { fork, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { setPriority } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { constants, gzip } from "node:zlib";
import type { BlobStore } from "../../lib/infra/blob-store";
import type { Database } from "../../lib/data/client";
import { keyframeSchema, type Keyframe } from "../../lib/protocol/recordings";
import { recordingCipher } from "../../lib/infra/recording-cipher";
import { chunkBlobKey, findChunk, keyframeBlobKey, lastKeyframe, markKeyframed, openRecordingBlob, recordingsLackingKeyframes, saveKeyframe } from "../../lib/data/recordings";
import type { KeyframerReply, KeyframerRequest } from "./keyframer-process";
import { log } from "../../lib/infra/log";

const compress = promisify(gzip);
/** A keyframe every 30 s of recording, or every 4 MiB of events under a flood of output (or 64 chunks). */
export const keyframeEveryMs = 30_000;
const keyframeEveryBytes = 4 * 1024 * 1024;
const keyframeEveryChunks = 64;

/** The size of a chunk's events, as its gzip trailer states it (the length modulo 2³², ample for a chunk). */
const eventBytesOf = (gzip: Buffer) => (gzip.length >= 4 ? gzip.readUInt32LE(gzip.length - 4) : 0);
/** Compressed chunk bytes handed to the child and not yet done: above this, feeds wait. */
const inFlightLimit = 16 * 1024 * 1024;
/** Stored chunks a feed keeps in memory while the child is busy; past this they are re-read from the store. */
const heldLimitPerFeed = 8 * 1024 * 1024;
const childPath = path.join(path.dirname(fileURLToPath(import.meta.url)), "keyframer-process.ts");

interface StoredChunk {
  seq: number;
  endMs: number;
  gzip: Buffer;
}

/** One recording's way to the keyframer: the recorder reports stored chunks, then that no more will come. */
export class KeyframeFeed {
  private storedThrough = -1;
  private sentThrough = -1;
  private doneThrough = -1;
  private lastSnapshotMs = 0;
  /** Chunks and bytes of events sent since the last snapshot was asked for. */
  private sinceSnapshot = { chunks: 0, bytes: 0 };
  private begun = false;
  private finished = false;
  private pumping = false;
  /** Bumped by a restart: a pump that was under way when the child died stops and starts over. */
  private generation = 0;
  private readonly held = new Map<number, StoredChunk>();
  /** Chunks sent with a snapshot request, and the moment their keyframe stands for. */
  private readonly snapshotsDue = new Map<number, number>();
  private heldBytes = 0;
  private resolveDone!: () => void;
  /** Settles when every chunk has been keyframed and the progress is saved. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(
    private readonly keyframer: Keyframer,
    readonly sessionId: string,
    /** Where to start: the last stored keyframe, for a recording keyframed in part before. */
    private resumeFrom: { afterSeq: number; atMs: number; blobKey: string } | null = null,
  ) {
    if (resumeFrom) {
      this.sentThrough = this.doneThrough = resumeFrom.afterSeq;
      this.lastSnapshotMs = resumeFrom.atMs;
    }
  }

  stored(chunk: StoredChunk): void {
    this.storedThrough = chunk.seq;
    if (this.heldBytes + chunk.gzip.length <= heldLimitPerFeed) {
      this.held.set(chunk.seq, chunk);
      this.heldBytes += chunk.gzip.length;
    }
    void this.pump();
  }

  /** No more chunks: `lastSeq` is the recording's last (or -1 when it has none). */
  finish(lastSeq = this.storedThrough): void {
    this.storedThrough = lastSeq;
    this.finished = true;
    void this.pump();
  }

  /** The child restarted: start again from the last keyframe stored. */
  restart(from: { afterSeq: number; atMs: number; blobKey: string } | null): void {
    this.generation++;
    this.resumeFrom = from;
    this.begun = false;
    this.sentThrough = this.doneThrough = from?.afterSeq ?? -1;
    this.lastSnapshotMs = from?.atMs ?? 0;
    this.sinceSnapshot = { chunks: 0, bytes: 0 };
    this.snapshotsDue.clear();
    void this.pump();
  }

  async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    const generation = this.generation;
    const current = () => generation === this.generation;
    try {
      if (!this.begun) {
        const from = this.resumeFrom ? await this.keyframer.loadKeyframe(this.sessionId, this.resumeFrom.blobKey) : null;
        if (!current() || !this.keyframer.send({ type: "begin", sessionId: this.sessionId, from })) return;
        this.begun = true;
      }
      while (this.sentThrough < this.storedThrough) {
        if (!this.keyframer.hasRoom()) return this.keyframer.waitForRoom(this);
        const chunk = this.held.get(this.sentThrough + 1) ?? (await this.keyframer.loadChunk(this.sessionId, this.sentThrough + 1));
        if (!current()) return;
        const since = { chunks: this.sinceSnapshot.chunks + 1, bytes: this.sinceSnapshot.bytes + eventBytesOf(chunk.gzip) };
        const snapshot = chunk.endMs - this.lastSnapshotMs >= keyframeEveryMs || since.chunks >= keyframeEveryChunks || since.bytes >= keyframeEveryBytes;
        if (!this.keyframer.send({ type: "chunk", sessionId: this.sessionId, seq: chunk.seq, gzip: chunk.gzip, snapshot }, chunk.gzip.length)) return;
        this.sinceSnapshot = snapshot ? { chunks: 0, bytes: 0 } : since;
        if (snapshot) {
          this.lastSnapshotMs = chunk.endMs;
          this.snapshotsDue.set(chunk.seq, chunk.endMs);
        }
        this.sentThrough = chunk.seq;
        if (this.held.delete(chunk.seq)) this.heldBytes -= chunk.gzip.length;
      }
      await this.completeIfDone();
    } catch (error) {
      // A chunk that cannot be read (its blob is gone): keyframes stop here; the next start tries again.
      log.error({ err: error, sessionId: this.sessionId }, `keyframes of session ${this.sessionId}: stopped`);
      this.abandon();
    } finally {
      this.pumping = false;
      if (!current()) void this.pump();
    }
  }

  /** Stops keyframing this recording; the next start tries it again. */
  abandon() {
    this.keyframer.forget(this.sessionId);
    this.keyframer.send({ type: "end", sessionId: this.sessionId });
    this.resolveDone();
  }

  async chunkDone(seq: number, keyframe: Keyframe | null): Promise<void> {
    const atMs = this.snapshotsDue.get(seq);
    this.snapshotsDue.delete(seq);
    try {
      if (keyframe && atMs !== undefined) await this.keyframer.storeKeyframe(this.sessionId, seq, atMs, keyframe);
    } catch (error) {
      // Seeking falls back to the keyframe before; the recording itself is whole.
      log.error({ err: error, sessionId: this.sessionId }, `keyframes of session ${this.sessionId}: could not store the keyframe after chunk ${seq}`);
    }
    // Only now: a recording marked keyframed must already have every keyframe it will get.
    this.doneThrough = Math.max(this.doneThrough, seq);
    await this.completeIfDone();
  }

  private async completeIfDone() {
    if (!this.finished || this.doneThrough < this.storedThrough || !this.keyframer.feeds.has(this.sessionId)) return;
    this.keyframer.forget(this.sessionId);
    this.keyframer.send({ type: "end", sessionId: this.sessionId });
    await markKeyframed(this.keyframer.db, this.sessionId, this.storedThrough);
    this.resolveDone();
  }
}

export class Keyframer {
  readonly feeds = new Map<string, KeyframeFeed>();
  private child: ChildProcess | null = null;
  private inFlight = 0;
  private readonly inFlightSizes = new Map<string, number>();
  private stopped = false;
  /** Child exits since a chunk last came back done: a recording that crashes the emulator must not loop. */
  private exitsWithoutProgress = 0;
  /** Feeds that stopped for want of room in the child's queue. */
  private readonly waiting = new Set<KeyframeFeed>();
  /** Replies are handled one after another: a keyframe is stored before the recording is marked done. */
  private replies: Promise<void> = Promise.resolve();

  private inService = false;
  /** Set while the child is asked to exit for want of work: its exit is no crash. */
  private idleExit = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly db: Database,
    private readonly blobStore: BlobStore,
    /** How long a recording stays quiet before the child swaps its terminal for the serialized screen. */
    private readonly hibernateAfterMs = 60_000,
    /**
     * How long the child is kept with no recording to emulate. It then exits, and with it the memory a busy
     * hour left in its heap (a terminal per recording, which a process does not give back), until the next recording.
     */
    private readonly idleExitAfterMs = 60_000,
  ) {}

  /** Whether the emulating process is up now (it is started with the first recording after an idle exit). */
  get running(): boolean {
    return this.child !== null;
  }

  /** Puts the keyframer in service: its child runs while there are recordings to emulate, and a while after. */
  start(): void {
    this.inService = true;
    this.spawn();
    this.armIdleExit();
  }

  private spawn(): void {
    if (this.child) return;
    // The child is TypeScript like the rest of the server; tsx loads it whatever started this process.
    const child = fork(childPath, [String(this.hibernateAfterMs)], { execArgv: ["--import", "tsx"], serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child = child;
    // Emulation is catch-up work: sessions and their relaying come first.
    if (child.pid) setPriority(child.pid, 19);
    child.on("message", (reply: KeyframerReply) => {
      this.replies = this.replies.then(() => this.received(reply));
    });
    // A send to a child that has just died fails here; its exit (below) restarts it.
    child.on("error", (error) => log.error(`keyframer: ${error.message}`));
    child.once("exit", (code, signal) => {
      const inFlight = new Set([...this.inFlightSizes.keys()].map((key) => key.split("/")[0]!));
      this.child = null;
      this.inFlight = 0;
      this.inFlightSizes.clear();
      this.waiting.clear();
      if (this.stopped) return;
      if (this.idleExit) {
        this.idleExit = false;
        // A recording that began while the child was on its way out starts it again at once.
        if (this.feeds.size > 0) void this.restartFeeds();
        return;
      }
      log.error(`keyframer exited (${signal ?? code}); restarting it`);
      // Twice in a row with no progress: the recordings it was emulating are set aside (logged) so the rest go on.
      if (++this.exitsWithoutProgress >= 2) {
        for (const sessionId of inFlight) {
          log.error({ sessionId }, `keyframes of session ${sessionId}: set aside, its recording stopped the emulator twice`);
          this.feeds.get(sessionId)?.abandon();
        }
        this.exitsWithoutProgress = 0;
      }
      setTimeout(() => this.restartFeeds(), 1000).unref();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.child?.kill();
  }

  /** A feed for a new recording. */
  feed(sessionId: string): KeyframeFeed {
    return this.register(new KeyframeFeed(this, sessionId));
  }

  private register(feed: KeyframeFeed): KeyframeFeed {
    this.feeds.set(feed.sessionId, feed);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    // After an idle exit; while the child is still exiting, its exit starts the next one.
    if (this.inService && !this.child && !this.stopped) this.spawn();
    return feed;
  }

  /** A recording is done with (keyframed, or set aside): with none left, the child exits after a while. */
  forget(sessionId: string): void {
    this.feeds.delete(sessionId);
    this.armIdleExit();
  }

  private armIdleExit(): void {
    if (this.feeds.size > 0 || this.idleTimer || this.stopped) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.feeds.size > 0 || !this.child) return;
      this.idleExit = true;
      this.child.kill();
    }, this.idleExitAfterMs);
    this.idleTimer.unref();
  }

  /** Completes the keyframes of this node's ended recordings that a crash or a restart left unfinished, one at a time. */
  async catchUp(node: string): Promise<number> {
    const unfinished = await recordingsLackingKeyframes(this.db, node);
    for (const { id, lastSeq: last } of unfinished) {
      const feed = this.register(new KeyframeFeed(this, id, await lastKeyframe(this.db, id)));
      feed.finish(last);
      await feed.done;
    }
    return unfinished.length;
  }

  hasRoom(): boolean {
    return this.child !== null && this.inFlight < inFlightLimit;
  }

  /** Recording bytes sent to the keyframer and not yet turned into keyframes. */
  get backlogBytes(): number {
    return this.inFlight;
  }

  waitForRoom(feed: KeyframeFeed): void {
    this.waiting.add(feed);
  }

  /** False when the child is not running; the feed goes on once it is back. */
  send(request: KeyframerRequest, size = 0): boolean {
    if (!this.child?.connected) return false;
    this.child.send(request);
    if (request.type === "chunk") {
      this.inFlight += size;
      this.inFlightSizes.set(`${request.sessionId}/${request.seq}`, size);
    }
    return true;
  }

  async loadChunk(sessionId: string, seq: number): Promise<StoredChunk> {
    const row = await findChunk(this.db, sessionId, seq);
    const blobKey = row?.blobKey ?? chunkBlobKey(sessionId, seq, "cast");
    const cipher = await recordingCipher(this.db, sessionId, { create: false });
    return { seq, endMs: row?.endMs ?? 0, gzip: cipher.open(blobKey, await this.blobStore.get(blobKey)) };
  }

  async loadKeyframe(sessionId: string, blobKey: string): Promise<Keyframe> {
    const cipher = await recordingCipher(this.db, sessionId, { create: false });
    return keyframeSchema.parse(JSON.parse(await openRecordingBlob(cipher, blobKey, await this.blobStore.get(blobKey))));
  }

  async storeKeyframe(sessionId: string, afterSeq: number, atMs: number, keyframe: Keyframe): Promise<void> {
    const blobKey = keyframeBlobKey(sessionId, afterSeq);
    const cipher = await recordingCipher(this.db, sessionId, { create: true });
    const blob = cipher.seal(blobKey, await compress(JSON.stringify(keyframe), { level: constants.Z_BEST_COMPRESSION }));
    await this.blobStore.put(blobKey, blob);
    const row = { sessionId, afterSeq, atMs, size: blob.length, sha256: createHash("sha256").update(blob).digest("hex"), blobKey };
    await saveKeyframe(this.db, row);
  }

  private async received(reply: KeyframerReply) {
    if (reply.type === "chunk-done") this.exitsWithoutProgress = 0;
    const key = `${reply.sessionId}/${reply.seq}`;
    this.inFlight -= this.inFlightSizes.get(key) ?? 0;
    this.inFlightSizes.delete(key);
    const feed = this.feeds.get(reply.sessionId);
    try {
      if (reply.type === "chunk-failed") log.error({ sessionId: reply.sessionId }, `keyframes of session ${reply.sessionId}: chunk ${reply.seq}: ${reply.problem}`);
      await feed?.chunkDone(reply.seq, reply.type === "chunk-done" ? reply.keyframe : null);
    } catch (error) {
      log.error({ err: error, sessionId: reply.sessionId }, `keyframes of session ${reply.sessionId}: could not mark chunk ${reply.seq} done`);
    }
    if (!this.hasRoom()) return;
    const ready = [...this.waiting];
    this.waiting.clear();
    for (const waiting of ready) void waiting.pump();
  }

  private async restartFeeds() {
    this.spawn();
    for (const feed of this.feeds.values()) feed.restart(await lastKeyframe(this.db, feed.sessionId));
  }
}
