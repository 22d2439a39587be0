// The sessions this node is carrying — terminal sessions, and web sessions whose pages are recorded here:
// found by id for watchers and controls, and ended properly (row, audit, notice to the user) by a shutdown
// before the process exits.
import type { WebSocket } from "ws";
import type { Actor } from "../../lib/data/audit";
import type { SessionControlCommand } from "../../lib/protocol/live";
import type { EndReason } from "../../lib/protocol/session-socket";

/** What oversight needs of a live session, whatever its protocol. */
export interface LiveSession {
  readonly sessionId: string;
  /** What it is and where it stands, for the node's figures: its protocol, and active, paused or locked. */
  readonly protocol: string;
  readonly liveState: string;
  /** A read-only view for someone from security on this node. */
  watch(socket: WebSocket, viewer: Actor): void;
  /** The view for another node's watchers, over one link (server/cluster/relayed-session.ts). */
  relayTo(link: WebSocket): void;
  applyControl(command: SessionControlCommand): Promise<{ ok: boolean; message: string }>;
  /** What the dashboard shows of it now, when that changed since the last call. */
  takePreview(): Promise<string | null>;
  /** A picture of its screen for the dashboard, when one is due and the screen changed since the last. */
  takeThumbnail(): Promise<Buffer | null>;
  end(reason: EndReason, message: string): Promise<void>;
}

const liveSessions = new Set<LiveSession>();

export const sessionRegistry = {
  add(session: LiveSession) {
    liveSessions.add(session);
  },
  delete(session: LiveSession) {
    liveSessions.delete(session);
  },
  find(sessionId: string): LiveSession | undefined {
    for (const session of liveSessions) if (session.sessionId === sessionId) return session;
    return undefined;
  },
  all(): Iterable<LiveSession> {
    return liveSessions;
  },
  get size() {
    return liveSessions.size;
  },
  async endAll(message: string) {
    await Promise.all([...liveSessions].map((session) => session.end("interrupted", message)));
  },
};
