// An app's own WebSockets, through the gateway: the upgrade goes to the app's internal origin (./upstream.ts)
// with the same headers and credential as any request, and once the app switches protocols the two sockets are
// piped to each other, bytes as they are, with backpressure. Tunnels are kept per session so that ending the
// session (terminate, sign-out, idle) closes them.
import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";
import type { Duplex } from "node:stream";
import { guardSocket } from "../socket-guard";
import { appCookieForBrowser } from "./proxy-headers";
import { openUpstream } from "./upstream";
import { log } from "../../lib/infra/log";

export function refuseUpgrade(socket: Duplex, status: number, reason: string) {
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${reason.replace(/[^\x20-\x7e]/g, "")}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  else socket.destroy();
}

/** `gatewayCookieNames`: the gateway's own cookies on app hosts, which no app may set (./proxy-headers.ts). */
export function createTunnels(gatewayCookieNames: readonly string[]) {
  const bySession = new Map<string, Set<Duplex>>();

  return {
    /** Opens the app's WebSocket at `path` and joins it to the browser's socket. */
    open(request: IncomingMessage, socket: Duplex, head: Buffer, to: { internal: URL; path: string; headers: OutgoingHttpHeaders; sessionId: string; label: string }) {
      const upstream = openUpstream(to.internal, to.path, { method: "GET", headers: { ...to.headers, connection: "Upgrade", upgrade: request.headers.upgrade ?? "websocket", origin: to.internal.origin } });
      upstream.on("upgrade", (answer, appSocket, appHead) => {
        guardSocket(appSocket, `${to.label}: app WebSocket`);
        if (socket.destroyed) return void appSocket.destroy();
        const lines = [`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage}`];
        for (let index = 0; index < answer.rawHeaders.length; index += 2) {
          const [name, value] = [answer.rawHeaders[index]!, answer.rawHeaders[index + 1]!];
          const kept = /^set-cookie$/i.test(name) ? appCookieForBrowser(value, gatewayCookieNames) : value;
          if (kept !== null) lines.push(`${name}: ${kept}`);
        }
        socket.write(`${lines.join("\r\n")}\r\n\r\n`);
        if (appHead.length > 0) socket.write(appHead);
        if (head.length > 0) appSocket.write(head);
        appSocket.pipe(socket).pipe(appSocket);
        const open = bySession.get(to.sessionId) ?? new Set();
        bySession.set(to.sessionId, open.add(socket));
        const close = () => {
          open.delete(socket);
          if (open.size === 0 && bySession.get(to.sessionId) === open) bySession.delete(to.sessionId);
          appSocket.destroy();
          socket.destroy();
        };
        socket.once("close", close);
        appSocket.once("close", close);
      });
      upstream.on("response", (answer) => {
        refuseUpgrade(socket, answer.statusCode ?? 502, answer.statusMessage ?? "Bad Gateway");
        answer.resume();
      });
      upstream.on("error", (error) => {
        log.warn(`${to.label}: the app's WebSocket failed: ${error.message}`);
        refuseUpgrade(socket, 502, "Bad Gateway");
      });
      upstream.end();
    },

    /** Sessions with a tunnel open on this node. */
    sessionIds(): string[] {
      return [...bySession.keys()];
    },

    close(sessionId: string) {
      for (const socket of bySession.get(sessionId) ?? []) socket.destroy();
      bySession.delete(sessionId);
    },

    closeAll() {
      for (const sessionId of [...bySession.keys()]) this.close(sessionId);
    },
  };
}

export type Tunnels = ReturnType<typeof createTunnels>;
