// Node to node: watchers connected to one node see a session that runs on another through one internal
// WebSocket per session from the owning node, fanned out here (server/cluster/relayed-session.ts). Links arrive
// on the node's internal listener only (never the public one), authenticated with the nodes' shared secret: an
// HMAC over the session, the asking node, a 30-second expiry and a nonce the owning node accepts once.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { Actor } from "../../lib/data/audit";
import type { Runtime } from "../../lib/infra/runtime";
import type { WatchServerMessage } from "../../lib/protocol/live";
import { sessionRegistry } from "../live/session-registry";
import { guardSocket } from "../socket-guard";
import { recordWatching } from "../../lib/data/session-events";
import { RelayedSession, type WatchedSession } from "./relayed-session";

export const nodeLinkPath = "/internal/watch";
const linkValidityMs = 30_000;
/** The owning node's frames are a turn of a session's output or a catch-up's piece: more is not a node speaking. */
const relayFrameLimit = 32 * 1024 * 1024;

function nodeSecretOf(runtime: Runtime): Buffer {
  const { nodeSecret, authSecret } = runtime.config;
  if (nodeSecret) return Buffer.from(nodeSecret);
  return Buffer.from(hkdfSync("sha256", authSecret, "gatehouse", "node link", 32));
}

const signature = (secret: Buffer, fields: string[]) => createHmac("sha256", secret).update(fields.join("\n")).digest("base64url");

function refuseUpgrade(socket: Duplex, status: number, reason: string) {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function createNodeLink(runtime: Runtime) {
  const secret = nodeSecretOf(runtime);
  const server = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const relayedSessions = new Map<string, RelayedSession>();
  const usedNonces = new Map<string, number>();

  return {
    /** The owning node's side: admits a link from another node and serves it the session's live view. */
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
      const url = new URL(request.url ?? "/", "http://node");
      const sessionId = url.searchParams.get("session") ?? "";
      const fromNode = url.searchParams.get("from") ?? "";
      const expires = url.searchParams.get("expires") ?? "";
      const nonce = url.searchParams.get("nonce") ?? "";
      const given = Buffer.from(String(request.headers.authorization ?? "").replace(/^Gatehouse-Node /, ""));
      const expected = Buffer.from(signature(secret, [sessionId, fromNode, expires, nonce]));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuseUpgrade(socket, 401, "Unauthorized");
      if (!(Number(expires) > Date.now() && Number(expires) <= Date.now() + linkValidityMs)) return refuseUpgrade(socket, 401, "Unauthorized");
      // Seen nonces are kept until their links expire: a recorded request cannot be replayed meanwhile.
      for (const [seen, until] of usedNonces) if (until <= Date.now()) usedNonces.delete(seen);
      if (!/^[\w-]{16,64}$/.test(nonce) || usedNonces.has(nonce)) return refuseUpgrade(socket, 401, "Unauthorized");
      usedNonces.set(nonce, Number(expires));
      server.handleUpgrade(request, socket, head, (link) => {
        guardSocket(link, `node link for session ${sessionId.slice(0, 36)}`);
        const session = sessionRegistry.find(sessionId);
        if (!session) {
          link.send(JSON.stringify({ type: "ended", reason: "interrupted", message: `the session is no longer running on ${runtime.config.nodeName}` } satisfies WatchServerMessage));
          return link.close(1000, "no such session");
        }
        session.relayTo(link);
      });
    },

    /** The watcher's node: joins the browser to this node's relay of the session, opening the link if it is the first. */
    relay(browser: WebSocket, owner: { name: string; internalUrl: string }, session: WatchedSession, viewer: Actor) {
      let relayed = relayedSessions.get(session.id);
      if (!relayed) {
        const expires = String(Date.now() + linkValidityMs);
        const nonce = randomBytes(18).toString("base64url");
        const url = new URL(nodeLinkPath, owner.internalUrl.replace(/^http/, "ws"));
        url.search = new URLSearchParams({ session: session.id, from: runtime.config.nodeName, expires, nonce }).toString();
        const upstream = new WebSocket(url, { headers: { authorization: `Gatehouse-Node ${signature(secret, [session.id, runtime.config.nodeName, expires, nonce])}` }, maxPayload: relayFrameLimit });
        const created: RelayedSession = new RelayedSession(upstream, owner.name, (kind, who, watched) => void recordWatching(runtime.db, kind, who, watched), () => {
          if (relayedSessions.get(session.id) === created) relayedSessions.delete(session.id);
        });
        relayedSessions.set(session.id, created);
        relayed = created;
      }
      relayed.add(browser, viewer, session);
    },

    closeAll() {
      for (const client of server.clients) client.close(1001, "gateway shutting down");
      server.close();
    },
  };
}

export type NodeLink = ReturnType<typeof createNodeLink>;
