// Records an RDP or VNC session: the Guacamole instructions the user's browser got (a `.guac` stream that
// Guacamole.SessionRecording plays), stored by ./snapshot-recording.ts. Every full frame from the engine (a
// keyframe) opens a chunk, so playback can start there; the engine is asked for one after every minute of changing
// screen, or sooner once the drawing since the last is eight times its size, and the instructions since the last one
// are kept for a watcher joining. Watchers get every frame live;
// the record keeps at most five pictures a second, and fewer under a flood of drawing (see `recordedFrameMs` and
// `recordedPerSecond`).
import type { BlobStore } from "../../lib/infra/blob-store";
import type { Database } from "../../lib/data/client";
import { condenseFrames, withoutScreenDrawing } from "../../lib/player/guacamole-overdraw";
import type { WatchFrame } from "../live/watchers";
import { SnapshotRecording } from "./snapshot-recording";
import type { StreamRecorder } from "./session-recorder";

/** A keyframe is asked for once this much time has passed since the last one… */
const keyframeEveryMs = 60_000;
/** …and the screen changed by at least this much (a still screen needs none: its last keyframe shows it). */
const keyframeAfterBytes = 64 * 1024;
/**
 * A flood of drawing gets one sooner, so that a seek or a joining watcher never reads more than this recorded
 * from the last one (a full frame costs far less: at 1280×800, tens to hundreds of KiB).
 */
const keyframeAtBytes = 4 * 1024 * 1024;
/**
 * …and so does drawing that comes to this many times the last keyframe's size: a seek then draws at most that
 * much besides one full frame (scrolling by copies cannot be condensed away, and the player replays every copy),
 * for at most an eighth more storage.
 */
const keyframeAfterKeyframes = 8;
/**
 * Frames drawn closer together than this are recorded as one, without the images later ones paint over: each
 * stored picture is exactly what the screen showed at its moment (lossless), a screen redrawn 40 times a second
 * is stored as 5 pictures, and a seek has that much less to draw. Typing and pointer moves stay smooth at 5.
 */
const recordedFrameMs = 200;
/**
 * Past five pictures a second, what is recorded is also held to this many characters a second (~360 MB an hour
 * before compression), with bursts up to `recordedBurst`: a screen that changes faster than that (a full-screen
 * flood of text) is recorded as fewer pictures, each still exact, one at least every `longestHoldMs`. Where the
 * drawing held for the next picture grows larger than a full frame (text scrolled by copies of what was already
 * there cannot be condensed), the engine is asked for a keyframe when the picture is due, and it replaces that
 * drawing: the lines that scrolled past in between are not in the record.
 */
const recordedPerSecond = 100_000;
const recordedBurst = 2 * 1024 * 1024;
const longestHoldMs = 5000;
/** Past this much drawing held, it is condensed where it is; what cannot be made smaller is recorded at once. */
const heldLimit = 4 * 1024 * 1024;

export interface DesktopRecorderOptions {
  db: Database;
  blobStore: BlobStore;
  sessionId: string;
  startedAt: number;
  /** False for a target recorded by policy exception: the screen is kept for watchers, nothing is stored. */
  store: boolean;
  /** Asks the engine for a full frame; false where it cannot give one (an Apache guacd). */
  requestKeyframe: () => boolean;
  /** The clock, in ms since the epoch; replaced only by benchmarks that synthesize hours of recording. */
  now?: () => number;
}

export class DesktopRecorder implements StreamRecorder {
  private readonly recording: SnapshotRecording;
  private readonly now: () => number;
  private lastKeyframeMs = 0;
  private bytesSinceKeyframe = 0;
  private keyframeAsked = false;
  /** Instructions not recorded yet, the last of them arrived at `heldAtMs`. */
  private held: string[] = [];
  private heldLength = 0;
  private heldAtMs = 0;
  private lastFrameAtMs = -Infinity;
  private nextFrameAtMs = -Infinity;
  /** What the record may still take at once (characters): refilled at `recordedPerSecond`, up to `recordedBurst`. */
  private budget = recordedBurst;
  private budgetAtMs = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  /** What the last keyframe cost in the record (0 before the engine sent one, or where it sends none). */
  private keyframeLength = 0;
  private measuringKeyframe = false;
  /** The drawing held is to be replaced by a keyframe asked for when the next picture is due. */
  private replacing = false;

  constructor(private readonly options: DesktopRecorderOptions) {
    const { db, blobStore, sessionId, store } = options;
    // The stream's start draws the whole screen: the first chunk is a starting point too.
    this.recording = new SnapshotRecording({ db, blobStore, sessionId, format: "guac", store, opensWithSnapshot: true, wantSnapshot: () => this.askForKeyframe() });
    this.now = options.now ?? Date.now;
  }

  private elapsedMs() {
    return Math.max(0, this.now() - this.options.startedAt);
  }

  /** A full frame starts with the next output. */
  keyframe() {
    if (this.replacing) {
      const kept = withoutScreenDrawing(this.held.join(""));
      this.held = kept ? [kept] : [];
      this.heldLength = kept.length;
      this.replacing = false;
    }
    this.recordHeld({ all: true });
    this.recording.startSnapshot({ seekPoint: true });
    this.keyframeAsked = false;
    this.lastKeyframeMs = this.elapsedMs();
    this.bytesSinceKeyframe = 0;
    // The full frame is recorded as soon as it is whole, and measured.
    this.nextFrameAtMs = -Infinity;
    this.keyframeLength = 0;
    this.measuringKeyframe = true;
  }

  /** Whole instructions, as the user's browser got them. */
  output(data: Buffer) {
    this.hold(data.toString("utf8"), this.elapsedMs());
  }

  private hold(instructions: string, atMs: number) {
    this.held.push(instructions);
    this.heldLength += instructions.length;
    this.heldAtMs = atMs;
    const heldForBudget = this.nextFrameAtMs - this.lastFrameAtMs > recordedFrameMs;
    if (!this.replacing && heldForBudget && this.keyframeLength > 0 && this.heldLength > this.keyframeLength) this.replacing = true;
    // Held drawing to be replaced stays whole until the keyframe comes (a watcher joining or the end may need it).
    if (this.heldLength >= heldLimit && !(this.replacing && this.askForKeyframe())) this.condenseHeld();
    if (atMs >= this.nextFrameAtMs) this.frameDue();
    else if (!this.holdTimer) {
      this.holdTimer = setTimeout(() => this.frameDue(), this.nextFrameAtMs - atMs);
      this.holdTimer.unref();
    }
  }

  private frameDue() {
    if (!(this.replacing && this.askForKeyframe())) this.recordHeld({ all: false });
  }

  /** Makes the frames held one where they are; drawing that cannot be made smaller so is recorded now. */
  private condenseHeld() {
    const { frame, rest } = condenseFrames(this.held.join(""));
    const condensed = frame + rest;
    if (condensed.length >= heldLimit) return this.recordHeld({ all: false });
    this.held = [condensed];
    this.heldLength = condensed.length;
  }

  /** Records the whole frames held as one; with `all`, also what follows them (a keyframe or a watcher is next). */
  private recordHeld({ all }: { all: boolean }) {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    this.replacing = false;
    if (this.heldLength === 0) return;
    const { frame, rest } = condenseFrames(this.held.join(""));
    this.held = [];
    this.heldLength = 0;
    if (frame) this.record(frame, { endsFrame: true });
    if (!rest) return;
    if (all || rest.length >= heldLimit) this.record(rest, { endsFrame: false });
    else {
      this.held = [rest];
      this.heldLength = rest.length;
    }
  }

  private record(instructions: string, { endsFrame }: { endsFrame: boolean }) {
    const atMs = this.heldAtMs;
    this.recording.add(instructions, atMs);
    this.bytesSinceKeyframe += instructions.length;
    if (this.measuringKeyframe) {
      this.keyframeLength += instructions.length;
      this.measuringKeyframe = !endsFrame;
    }
    const changedForAMinute = atMs - this.lastKeyframeMs >= keyframeEveryMs && this.bytesSinceKeyframe >= keyframeAfterBytes;
    const drawnPastKeyframes = !this.measuringKeyframe && this.keyframeLength > 0 && this.bytesSinceKeyframe >= Math.max(keyframeAfterBytes, (keyframeAfterKeyframes + 1) * this.keyframeLength);
    if (changedForAMinute || drawnPastKeyframes || this.bytesSinceKeyframe >= keyframeAtBytes) this.askForKeyframe();
    this.budget = Math.min(recordedBurst, this.budget + ((atMs - this.budgetAtMs) * recordedPerSecond) / 1000) - instructions.length;
    this.budgetAtMs = atMs;
    if (!endsFrame) return;
    this.lastFrameAtMs = atMs;
    const refillMs = this.budget < 0 ? (-this.budget * 1000) / recordedPerSecond : 0;
    this.nextFrameAtMs = atMs + Math.min(longestHoldMs, Math.max(recordedFrameMs, refillMs));
  }

  /** A desktop's keystrokes are not recorded (./protocols/guac/desktop-stream.ts says why). */
  input() {}

  /** Whether a keyframe is on its way. */
  private askForKeyframe(): boolean {
    if (!this.keyframeAsked) this.keyframeAsked = this.options.requestKeyframe();
    return this.keyframeAsked;
  }

  behind(onCaughtUp: () => void): boolean {
    return this.recording.behind(onCaughtUp);
  }

  async catchUp(): Promise<WatchFrame[]> {
    // Drawing a keyframe is to replace is shown to the watcher without being recorded.
    const shownBefore = this.replacing ? this.recording.shownNow() : null;
    if (shownBefore !== null) return [{ type: "desktop" }, Buffer.from(shownBefore + this.held.join(""), "utf8")];
    this.recordHeld({ all: true });
    const shown = this.recording.shownNow();
    if (shown === null) {
      this.askForKeyframe();
      return [{ type: "desktop" }];
    }
    return [{ type: "desktop" }, Buffer.from(shown, "utf8")];
  }

  /** Settles when every chunk flushed so far is stored. */
  stored(): Promise<void> {
    return this.recording.stored();
  }

  close(): Promise<void> {
    this.recordHeld({ all: true });
    return this.recording.close();
  }
}
