// The WebSocket gate every protocol uses. A connection gets through only with a valid session cookie, the
// gateway's own Origin (no cross-site WebSocket) and an unused connect ticket minted for this user, this
// target and this purpose. Every decision is audited; refusals close with a code from lib/protocol/gate.ts.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { audit, type Actor } from "../lib/audit";
import { accountIdFromSessionCookie, sessionCookieName } from "../lib/auth/session-cookie";
import { socketPurposeSchema, type SocketPurpose } from "../lib/protocol/domain";
import { gateCloseCodes } from "../lib/protocol/gate";
import { clientAddressHeader } from "../lib/request-context";
import type { Runtime } from "../lib/runtime";
import { findTarget, type TargetRow } from "../lib/targets";
import { redeemConnectTicket } from "../lib/tickets";
import { mayReach } from "../lib/revocations";
import { effectiveRoles, findUserById, type UserRow } from "../lib/users";

export interface GatePass {
  user: UserRow;
  target: TargetRow;
  actor: Actor;
  /** The socket's URL, for route-specific parameters such as the initial terminal size. */
  url: URL;
  /** For `watch`: the live session to show. */
  sessionId: string | null;
}

/** Ends a session socket before a session began, with the reason the page shows. */
export function refuseSession(socket: WebSocket, message: string) {
  socket.send(JSON.stringify({ type: "ended", reason: "error", message }));
  socket.close(1000, "error");
}

/** What serves one purpose once the gate has let a socket through. */
export type SocketRoute = (socket: WebSocket, pass: GatePass) => void;

class Refusal extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? "").split(";")) {
    const separator = part.indexOf("=");
    if (separator > 0 && part.slice(0, separator).trim() === name) return decodeURIComponent(part.slice(separator + 1).trim());
  }
  return null;
}

const ticketRefusals = {
  unknown: "connect ticket is not valid; request a new one",
  used: "connect ticket was already used; request a new one",
  expired: "connect ticket has expired; request a new one",
} as const;

export function createGate(runtime: Runtime, routes: Record<SocketPurpose, SocketRoute>) {
  const { config, db } = runtime;
  const cookieName = sessionCookieName(config.publicUrl);
  const server = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

  async function admit(socket: WebSocket, request: IncomingMessage, url: URL, actor: Actor): Promise<{ purpose: SocketPurpose; pass: GatePass }> {
    const purpose = socketPurposeSchema.safeParse(url.pathname.slice("/ws/".length));
    if (!purpose.success) throw new Refusal(gateCloseCodes.notFound, "no such WebSocket route");
    if (request.headers.origin !== config.publicUrl.origin) throw new Refusal(gateCloseCodes.forbidden, "origin not allowed");

    const cookie = readCookie(request.headers.cookie, cookieName);
    const accountId = cookie ? await accountIdFromSessionCookie(cookie, cookieName, config.authSecret) : null;
    const user = accountId ? await findUserById(db, accountId) : undefined;
    if (!user || user.disabled) throw new Refusal(gateCloseCodes.unauthenticated, "sign in first");
    Object.assign(actor, { id: user.id, name: user.username });

    const redemption = await redeemConnectTicket(db, url.searchParams.get("ticket") ?? "");
    if (!redemption.ok) throw new Refusal(gateCloseCodes.ticketInvalid, ticketRefusals[redemption.reason]);
    const { binding } = redemption;
    if (binding.userId !== user.id) throw new Refusal(gateCloseCodes.forbidden, "connect ticket belongs to another user");
    const requested: string = purpose.data;
    if (binding.purpose !== requested) throw new Refusal(gateCloseCodes.forbidden, `connect ticket is for ${binding.purpose}, not ${requested}`);

    // Access is checked again: it may have been revoked since the ticket was minted.
    const target = await findTarget(db, binding.targetId);
    if (!target) throw new Refusal(gateCloseCodes.forbidden, "you may not reach this target");
    if (purpose.data === "watch") {
      // Watching needs the role, not reach to the target: security oversees every target.
      if (!effectiveRoles(user).some((role) => role === "security" || role === "admin")) throw new Refusal(gateCloseCodes.forbidden, "watching sessions needs the security or admin role");
    } else if (!(await mayReach(db, user, target))) throw new Refusal(gateCloseCodes.forbidden, "you may not reach this target");
    return { purpose: purpose.data, pass: { user, target, actor, url, sessionId: binding.sessionId ?? null } };
  }

  function onConnection(socket: WebSocket, request: IncomingMessage) {
    // Frames that arrive while the gate decides wait in the socket, not in a listener that might drop them.
    socket.pause();
    const url = new URL(request.url ?? "/", config.publicUrl);
    const actor: Actor = { id: null, name: "anonymous", sourceIp: (request.headers[clientAddressHeader] as string | undefined) ?? null };
    admit(socket, request, url, actor).then(
      async ({ purpose, pass }) => {
        await audit(db, actor, { action: "connect", objectType: "target", objectId: pass.target.id, details: { purpose, target: pass.target.name } });
        routes[purpose](socket, pass);
        socket.resume();
      },
      async (error: unknown) => {
        const refusal = error instanceof Refusal ? error : new Refusal(1011, "the gateway could not check this connection");
        if (!(error instanceof Refusal)) console.error("WebSocket gate failed:", error);
        await audit(db, actor, { action: "connect", outcome: "refused", details: { path: url.pathname, reason: refusal.reason } }).catch((auditError) =>
          console.error("audit failed:", auditError),
        );
        // Reading must resume for the close handshake to complete.
        socket.resume();
        socket.close(refusal.code, refusal.reason);
      },
    );
  }

  return {
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
      server.handleUpgrade(request, socket, head, (webSocket) => onConnection(webSocket, request));
    },
    /** Ends every open socket with "going away", for a graceful shutdown. */
    closeAll() {
      for (const client of server.clients) client.close(1001, "gateway shutting down");
      server.close();
    },
  };
}
