// Node to node: a watcher connected to one node sees a session that runs on another through an internal
// WebSocket to the owning node, which serves it exactly as it serves its own watchers. The link is
// authenticated with the nodes' shared secret: an HMAC over the session, the viewer and a 30-second expiry.
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { Actor } from "../../lib/audit";
import type { Runtime } from "../../lib/runtime";
import type { WatchServerMessage } from "../../lib/protocol/live";
import { sessionRegistry } from "../session-registry";

export const nodeLinkPath = "/internal/watch";
const linkValidityMs = 30_000;
/** Above this much unsent data towards the browser, the relay stops reading from the owning node. */
const relayHighWater = 1024 * 1024;

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

  return {
    /** The owning node's side: admits a link from another node and serves it a live view. */
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
      const url = new URL(request.url ?? "/", "http://node");
      const sessionId = url.searchParams.get("session") ?? "";
      const viewer = url.searchParams.get("viewer") ?? "";
      const expires = url.searchParams.get("expires") ?? "";
      const given = Buffer.from(String(request.headers.authorization ?? "").replace(/^Gatehouse-Node /, ""));
      const expected = Buffer.from(signature(secret, [sessionId, viewer, expires]));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuseUpgrade(socket, 401, "Unauthorized");
      if (!(Number(expires) > Date.now() && Number(expires) <= Date.now() + linkValidityMs)) return refuseUpgrade(socket, 401, "Unauthorized");
      let actor: Actor;
      try {
        actor = JSON.parse(Buffer.from(viewer, "base64url").toString("utf8")) as Actor;
      } catch {
        return refuseUpgrade(socket, 400, "Bad Request");
      }
      server.handleUpgrade(request, socket, head, (link) => {
        const session = sessionRegistry.find(sessionId);
        if (!session) {
          link.send(JSON.stringify({ type: "ended", reason: "interrupted", message: `the session is no longer running on ${runtime.config.nodeName}` } satisfies WatchServerMessage));
          return link.close(1000, "no such session");
        }
        session.watch(link, actor);
      });
    },

    /** The watcher's node: relays the owning node's view to the browser, byte for byte, with backpressure. */
    relay(browser: WebSocket, owner: { name: string; internalUrl: string }, sessionId: string, viewer: Actor) {
      const expires = String(Date.now() + linkValidityMs);
      const encodedViewer = Buffer.from(JSON.stringify(viewer)).toString("base64url");
      const url = new URL(nodeLinkPath, owner.internalUrl.replace(/^http/, "ws"));
      url.search = new URLSearchParams({ session: sessionId, viewer: encodedViewer, expires }).toString();
      const upstream = new WebSocket(url, { headers: { authorization: `Gatehouse-Node ${signature(secret, [sessionId, encodedViewer, expires])}` } });
      let drainCheck: NodeJS.Timeout | null = null;
      upstream.on("message", (data: Buffer, isBinary: boolean) => {
        if (browser.readyState !== browser.OPEN) return;
        browser.send(data, { binary: isBinary });
        if (browser.bufferedAmount > relayHighWater && !drainCheck) {
          // The owning node then sees this link fall behind and catches it up later: the user is never slowed.
          upstream.pause();
          drainCheck = setInterval(() => {
            if (browser.bufferedAmount > relayHighWater / 4) return;
            clearInterval(drainCheck!);
            drainCheck = null;
            upstream.resume();
          }, 50);
        }
      });
      upstream.on("error", (error) => {
        console.error(`relay from node ${owner.name} failed:`, error.message);
        if (browser.readyState === browser.OPEN) {
          browser.send(JSON.stringify({ type: "error", message: `node ${owner.name}, which runs this session, cannot be reached` } satisfies WatchServerMessage));
          browser.close(1011, "owning node unreachable");
        }
      });
      upstream.on("close", (code) => {
        if (drainCheck) clearInterval(drainCheck);
        if (browser.readyState === browser.OPEN) browser.close(code === 1005 || code === 1006 ? 1011 : code, "view ended");
      });
      browser.on("message", () => browser.send(JSON.stringify({ type: "error", message: "a watcher cannot send input to the session" } satisfies WatchServerMessage)));
      browser.once("close", () => upstream.close());
    },

    closeAll() {
      for (const client of server.clients) client.close(1001, "gateway shutting down");
      server.close();
    },
  };
}

export type NodeLink = ReturnType<typeof createNodeLink>;
