// The web sessions' background job: every couple of seconds, visits idle past their app's timeout are ended (by
// whichever node gets there first), and this node's open WebSockets and recorded pages of sessions that ended
// anywhere (terminated, signed out, idle) are closed here too.
import { endedSessions } from "../../lib/sessions";
import type { Database } from "../../lib/db/client";
import type { EndReason } from "../../lib/protocol/terminal";
import { endIdleWebSessions } from "../../lib/web-apps";

const sweepEveryMs = 2000;

export function startWebSessionSweep(db: Database, open: () => string[], endHere: (sessionId: string, reason: EndReason) => Promise<void>) {
  async function sweep() {
    await endIdleWebSessions(db);
    const ids = open();
    if (ids.length === 0) return;
    for (const { id, endReason } of await endedSessions(db, ids)) await endHere(id, endReason ?? "expired");
  }
  const timer = setInterval(() => sweep().catch((error) => console.error("checking web sessions failed:", error)), sweepEveryMs).unref();
  return { stop: () => clearInterval(timer) };
}
