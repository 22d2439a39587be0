// The sessions this node is carrying: found by id for watchers and controls, and ended properly (row, audit,
// notice to the user) by a shutdown before the process exits.
import type { Session } from "./session";

const liveSessions = new Set<Session>();

export const sessionRegistry = {
  add(session: Session) {
    liveSessions.add(session);
  },
  delete(session: Session) {
    liveSessions.delete(session);
  },
  find(sessionId: string): Session | undefined {
    for (const session of liveSessions) if (session.sessionId === sessionId) return session;
    return undefined;
  },
  all(): Iterable<Session> {
    return liveSessions;
  },
  get size() {
    return liveSessions.size;
  },
  async endAll(message: string) {
    await Promise.all([...liveSessions].map((session) => session.end("interrupted", message)));
  },
};
