// The sessions this node is carrying, so that a shutdown can end each one properly (row, audit, notice to
// the user) before the process exits.
import type { Session } from "./session";

const liveSessions = new Set<Session>();

export const sessionRegistry = {
  add(session: Session) {
    liveSessions.add(session);
  },
  delete(session: Session) {
    liveSessions.delete(session);
  },
  get size() {
    return liveSessions.size;
  },
  async endAll(message: string) {
    await Promise.all([...liveSessions].map((session) => session.end("interrupted", message)));
  },
};
