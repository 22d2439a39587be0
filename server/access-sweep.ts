// Revocation that reaches live sessions, not only the next sign-in: every two seconds each node decides again,
// for every session it carries, whether its user may still reach its target (lib/data/governance/access.ts), and for
// everyone watching a session here, whether they may still watch. Whatever changed — an account disabled, an
// allow list, group or policy edited, access or its request cancelled, revoked or over, a role mapping removed —
// ends what it no longer allows, with the reason shown to the person and audited, on every node within one sweep.
import type { WebSocket } from "ws";
import { liveTokenIds } from "../lib/data/api-tokens";
import { audit, systemActor } from "../lib/data/audit";
import type { WatchServerMessage } from "../lib/protocol/live";
import type { Runtime } from "../lib/infra/runtime";
import { sessionsNoLongerAllowed } from "../lib/data/governance/access";
import { expireAccessRequests } from "../lib/data/governance/requests";
import { addSessionEvent } from "../lib/data/session-events";
import { effectiveRoles, findUserById } from "../lib/data/users";
import { sessionRegistry } from "./live/session-registry";
import { log } from "../lib/infra/log";

const sweepEveryMs = 2000;

/**
 * People watching sessions on this node, by account (and the API token a program watches with): their sockets
 * close when they may no longer watch.
 */
const viewers = new Map<WebSocket, { userId: string; tokenId: string | null }>();

export function registerViewer(socket: WebSocket, userId: string, tokenId: string | null) {
  viewers.set(socket, { userId, tokenId });
  socket.once("close", () => viewers.delete(socket));
}

export function startAccessSweep({ db, config }: Runtime, endWebVisit: (sessionId: string, message: string) => Promise<void>) {
  async function endSessions() {
    await expireAccessRequests(db);
    for (const { id, protocol, username, targetName, why } of await sessionsNoLongerAllowed(db, config.nodeName)) {
      const message = `access revoked: ${why}`;
      const live = sessionRegistry.find(id);
      if (protocol === "web") await endWebVisit(id, message);
      else if (live) await live.end("terminated", message);
      else continue;
      await addSessionEvent(db, { sessionId: id, kind: "terminate", actorName: "gatehouse", details: { reason: message } });
      await audit(db, systemActor, { action: "session.revoked", objectType: "session", objectId: id, details: { user: username, target: targetName, why } });
    }
  }

  async function closeViewers() {
    const accounts = new Map<string, boolean>();
    const tokens = await liveTokenIds(db, [...new Set([...viewers.values()].flatMap(({ tokenId }) => (tokenId ? [tokenId] : [])))]);
    for (const [socket, { userId, tokenId }] of viewers) {
      if (!accounts.has(userId)) {
        const user = await findUserById(db, userId);
        accounts.set(userId, Boolean(user && !user.disabled && effectiveRoles(user).some((role) => role === "security" || role === "admin")));
      }
      if (accounts.get(userId) && (tokenId === null || tokens.has(tokenId))) continue;
      viewers.delete(socket);
      socket.send(JSON.stringify({ type: "ended", reason: "terminated", message: "you may no longer watch sessions" } satisfies WatchServerMessage));
      socket.close(4403, "watching no longer allowed");
    }
  }

  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    Promise.all([endSessions(), closeViewers()])
      .catch((error) => log.error({ err: error }, "re-checking access of live sessions failed"))
      .finally(() => (sweeping = false));
  }, sweepEveryMs).unref();
  return { stop: () => clearInterval(timer) };
}
