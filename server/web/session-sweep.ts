// The web sessions' background job: every couple of seconds, visits past their end (idle, time limit, longest
// lifetime) are ended (by whichever node gets there first), and this node's open WebSockets and recorded pages
// of sessions that ended anywhere (terminated, signed out, lapsed, revoked) are closed here too.
import { endedSessions } from "../../lib/data/sessions";
import type { Database } from "../../lib/data/client";
import type { EndReason } from "../../lib/protocol/session-socket";
import { endLapsedWebSessions } from "../../lib/data/web-sessions";
import { log } from "../../lib/infra/log";

const sweepEveryMs = 2000;

export function startWebSessionSweep(db: Database, longestMs: number, open: () => string[], endHere: (sessionId: string, reason: EndReason, message: string) => Promise<void>) {
  async function sweep() {
    await endLapsedWebSessions(db, longestMs);
    const ids = open();
    if (ids.length === 0) return;
    for (const { id, endReason, endMessage } of await endedSessions(db, ids)) await endHere(id, endReason ?? "expired", endMessage ?? "it was ended");
  }
  const timer = setInterval(() => sweep().catch((error) => log.error({ err: error }, "checking web sessions failed")), sweepEveryMs).unref();
  return { stop: () => clearInterval(timer) };
}
