// What the live-session core keeps of a session beyond this process: its status for every node's requests and
// lists, its timeline, who watched it, and the texts security has set for its user. The gateway's store is the
// database; the core's unit tests run on one in memory.
import type { Actor } from "../../lib/data/audit";
import type { Database } from "../../lib/data/client";
import type { LiveState } from "../../lib/protocol/live";
import { addSessionEvent, recordWatching, type SessionEventInput } from "../../lib/data/session-events";
import { setSessionStatus } from "../../lib/data/sessions";
import { sessionTexts } from "../../lib/data/settings";

export interface WatchedSession {
  id: string;
  username: string;
  targetName: string;
}

export interface SessionStore {
  setStatus(sessionId: string, status: Exclude<LiveState, "connecting">): Promise<void>;
  addEvent(event: SessionEventInput): Promise<void>;
  recordWatching(kind: "watch.join" | "watch.leave", viewer: Actor, session: WatchedSession): Promise<void>;
  /** What the user is told when locked, and what when terminated (null: the built-in wording). */
  texts(): Promise<{ lockMessage: string; terminationMessage: string | null }>;
}

export function databaseSessionStore(db: Database): SessionStore {
  return {
    setStatus: (sessionId, status) => setSessionStatus(db, sessionId, status),
    addEvent: (event) => addSessionEvent(db, event),
    recordWatching: (kind, viewer, session) => recordWatching(db, kind, viewer, session),
    texts: () => sessionTexts(db),
  };
}
