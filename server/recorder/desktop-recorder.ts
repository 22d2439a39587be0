// Records an RDP or VNC session: the Guacamole instructions the user's browser got, as they came (a `.guac`
// stream that Guacamole.SessionRecording plays), stored by ./snapshot-recording.ts. Every full frame from the
// engine (a keyframe) opens a chunk, so playback can start there; the engine is asked for one after every minute
// of changing screen, and the instructions since the last one are kept for a watcher joining. Frames are recorded
// at most five a second: watchers get every frame live, the record keeps what the screen showed at each fifth.
import type { BlobStore } from "../../lib/blob-store";
import type { Database } from "../../lib/db/client";
import { condenseFrames } from "../../lib/guacamole-overdraw";
import type { WatchFrame } from "../watchers";
import { SnapshotRecording } from "./snapshot-recording";
import type { SessionRecorder } from "./terminal-recorder";

/** A keyframe is asked for once this much time has passed since the last one… */
const keyframeEveryMs = 60_000;
/** …and the screen changed by at least this much (a still screen needs none: its last keyframe shows it). */
const keyframeAfterBytes = 64 * 1024;
/**
 * A flood of drawing gets one sooner, so that a seek or a joining watcher never reads more than this from the
 * last one (a full frame costs far less: at 1280×800, tens to hundreds of KiB).
 */
const keyframeAtBytes = 4 * 1024 * 1024;
/**
 * Frames drawn closer together than this are recorded as one, without the images later ones paint over: a
 * screen redrawn 40 times a second (scrolling text) is stored as 5 exact pictures a second, lossless and a
 * fraction of the size, and a seek has that much less to draw. Typing and pointer moves stay smooth at 5.
 */
const recordedFrameMs = 200;
/** Past this much drawing held, it is recorded at once whatever the time. */
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

export class DesktopRecorder implements SessionRecorder {
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
  private holdTimer: NodeJS.Timeout | null = null;

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
    this.recordHeld({ all: true });
    this.recording.startSnapshot({ seekPoint: true });
    this.keyframeAsked = false;
    this.lastKeyframeMs = this.elapsedMs();
    this.bytesSinceKeyframe = 0;
  }

  /** Whole instructions, as the user's browser got them. */
  output(data: Buffer) {
    const atMs = this.elapsedMs();
    this.hold(data.toString("utf8"), atMs);
    this.bytesSinceKeyframe += data.length;
    const changedForAMinute = atMs - this.lastKeyframeMs >= keyframeEveryMs && this.bytesSinceKeyframe >= keyframeAfterBytes;
    if (changedForAMinute || this.bytesSinceKeyframe >= keyframeAtBytes) this.askForKeyframe();
  }

  private hold(instructions: string, atMs: number) {
    this.held.push(instructions);
    this.heldLength += instructions.length;
    this.heldAtMs = atMs;
    const sinceFrameMs = atMs - this.lastFrameAtMs;
    if (sinceFrameMs >= recordedFrameMs || this.heldLength >= heldLimit) this.recordHeld({ all: false });
    else if (!this.holdTimer) {
      this.holdTimer = setTimeout(() => this.recordHeld({ all: false }), recordedFrameMs - sinceFrameMs);
      this.holdTimer.unref();
    }
  }

  /** Records the whole frames held as one; with `all`, also what follows them (a keyframe or a watcher is next). */
  private recordHeld({ all }: { all: boolean }) {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (this.heldLength === 0) return;
    const { frame, rest } = condenseFrames(this.held.join(""));
    this.held = [];
    this.heldLength = 0;
    if (frame) {
      this.recording.add(frame, this.heldAtMs);
      this.lastFrameAtMs = this.heldAtMs;
    }
    if (!rest) return;
    if (all || rest.length >= heldLimit) this.recording.add(rest, this.heldAtMs);
    else {
      this.held = [rest];
      this.heldLength = rest.length;
    }
  }

  /** A desktop's keystrokes are not recorded (./protocols/guac/desktop-stream.ts says why). */
  input() {}

  private askForKeyframe() {
    if (this.keyframeAsked) return;
    this.keyframeAsked = this.options.requestKeyframe();
  }

  async catchUp(): Promise<WatchFrame[]> {
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
