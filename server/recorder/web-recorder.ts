// Records a web session: the rrweb events of the user's pages, one JSON per line (./snapshot-recording.ts stores
// them). Every page load and every periodic full snapshot opens a chunk, so playback can start at any of them;
// the events since the last one are the page as it is now, for a watcher joining.
import type { BlobStore } from "../../lib/infra/blob-store";
import type { Database } from "../../lib/data/client";
import { pageEventType, type PageEvent } from "../../lib/protocol/page-recorder";
import type { WatchFrame } from "../live/watchers";
import type { SessionRecorder } from "./session-recorder";
import { SnapshotRecording } from "./snapshot-recording";

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
  /** Bytes of events the session may store, and what to do when it has (./snapshot-recording.ts). */
  quotaBytes: number;
  quotaReached: () => void;
}

export class WebRecorder implements SessionRecorder {
  private readonly recording: SnapshotRecording;

  constructor(private readonly options: WebRecorderOptions) {
    const { db, blobStore, sessionId, store, after, wantSnapshot, quotaBytes, quotaReached } = options;
    this.recording = new SnapshotRecording({ db, blobStore, sessionId, format: "rrweb", store, after, opensWithSnapshot: false, wantSnapshot, quotaBytes, quotaReached });
  }

  /**
   * Events as the page sent them, their timestamps already on the gateway's clock. Returns them one JSON per
   * line, as watchers are sent them. `seekPointAllowed` says whether a full snapshot may open a chunk of its own
   * (the session's allowance of seek points per minute).
   */
  add(events: PageEvent[], seekPointAllowed: () => boolean): Buffer {
    const lines: string[] = [];
    for (const event of events) {
      const line = `${JSON.stringify(event)}\n`;
      lines.push(line);
      // A full snapshot comes as meta (address, viewport) then the snapshot itself: both open the chunk.
      if (event.type === pageEventType.meta) this.recording.startSnapshot({ seekPoint: seekPointAllowed() });
      this.recording.add(line, Math.max(0, Math.round(event.timestamp - this.options.startedAt)));
    }
    return Buffer.from(lines.join(""), "utf8");
  }

  /** The page as it is now, as events one JSON per line from its last full snapshot; with none, the page is asked for one. */
  async catchUp(): Promise<WatchFrame[]> {
    const shown = this.recording.shownNow();
    if (shown === null) this.options.wantSnapshot();
    return shown === null ? [{ type: "page" }] : [{ type: "page" }, Buffer.from(shown, "utf8")];
  }

  /** Events received and not stored yet. */
  unstoredLength(): number {
    return this.recording.unstoredLength();
  }

  /** Settles when everything received so far is stored. */
  stored(): Promise<void> {
    return this.recording.stored();
  }

  close(): Promise<void> {
    return this.recording.close();
  }
}
