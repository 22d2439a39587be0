// The WebSocket gate every protocol uses. A connection gets through only with a valid session cookie, the
// gateway's own Origin (no cross-site WebSocket) and an unused connect ticket minted for this user, this
// target and this purpose. Every decision is audited; refusals close with a code from lib/protocol/gate.ts.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { authenticateToken, bearerSecret } from "../lib/data/api-tokens";
import { audit, type Actor } from "../lib/data/audit";
import { accountIdFromCookies } from "../lib/auth/session-cookie";
import { socketPurposeSchema, type SocketPurpose } from "../lib/protocol/domain";
import { gateCloseCodes } from "../lib/protocol/gate";
import { clientAddressHeader } from "../lib/infra/request-context";
import type { Runtime } from "../lib/infra/runtime";
import { decideAccess } from "../lib/data/governance/access";
import type { AccessDecision } from "../lib/domain/governance/decide";
import { findTarget, type TargetRow } from "../lib/data/targets";
import { redeemConnectTicket } from "../lib/data/tickets";
import { effectiveRoles, findUserById, type UserRow } from "../lib/data/users";
import { guardSocket } from "./socket-guard";
import { log } from "../lib/infra/log";

export interface GatePass {
  user: UserRow;
  target: TargetRow;
  actor: Actor;
  /** The socket's URL, for route-specific parameters such as the initial terminal size. */
  url: URL;
  /** For `watch`: the live session to show. */
  sessionId: string | null;
  /** What the access decision granted: until when, under which request (none for `watch`). */
  access: Extract<AccessDecision, { allowed: true }> | null;
  /** The API token a program watches with; its revocation ends the watch. */
  tokenId: string | null;
}

/** Ends a session socket before a session began, with the reason the page shows. */
export function refuseSession(socket: WebSocket, message: string) {
  socket.send(JSON.stringify({ type: "ended", reason: "error", message }));
  socket.close(1000, "error");
}

/** A close frame's reason holds 123 bytes: longer ones (a policy's refusal may be) are cut on a character boundary. */
export function closeReason(reason: string): string {
  const bytes = Buffer.from(reason);
  if (bytes.length <= 123) return reason;
  return new TextDecoder().decode(bytes.subarray(0, 120)).replace(/\uFFFD+$/, "") + "…";
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

const ticketRefusals = {
  unknown: "connect ticket is not valid; request a new one",
  used: "connect ticket was already used; request a new one",
  expired: "connect ticket has expired; request a new one",
} as const;

export function createGate(runtime: Runtime, routes: Record<SocketPurpose, SocketRoute>) {
  const { config, db } = runtime;
  const server = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const url = (request: IncomingMessage) => new URL(request.url ?? "/", config.publicUrl);

  async function admit(socket: WebSocket, request: IncomingMessage, url: URL, actor: Actor): Promise<{ purpose: SocketPurpose; pass: GatePass }> {
    const purpose = socketPurposeSchema.safeParse(url.pathname.slice("/ws/".length));
    if (!purpose.success) throw new Refusal(gateCloseCodes.notFound, "no such WebSocket route");
    const { user, tokenId } = await identify(request, purpose.data, actor);
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
      return { purpose: purpose.data, pass: { user, target, actor, url, sessionId: binding.sessionId ?? null, access: null, tokenId } };
    }
    const decision = await decideAccess(db, user, target, actor.sourceIp);
    if (!decision.allowed) throw new Refusal(gateCloseCodes.forbidden, decision.code === "not_listed" ? "you may not reach this target" : decision.reason);
    return { purpose: purpose.data, pass: { user, target, actor, url, sessionId: binding.sessionId ?? null, access: decision, tokenId } };
  }

  /**
   * A browser is known by its session cookie, and must come from the gateway's own page (no cross-site WebSocket);
   * a program by its API token, which may only watch (sessions are opened by people, in the browser).
   */
  async function identify(request: IncomingMessage, purpose: SocketPurpose, actor: Actor): Promise<{ user: UserRow; tokenId: string | null }> {
    if (request.headers.authorization !== undefined) {
      const secret = bearerSecret(request.headers.authorization);
      const found = secret ? await authenticateToken(db, secret, actor.sourceIp) : null;
      if (!found) throw new Refusal(gateCloseCodes.unauthenticated, "the API token is not valid");
      if (purpose !== "watch") throw new Refusal(gateCloseCodes.forbidden, "an API token may only watch sessions; open sessions in the browser");
      if (!found.token.scopes.includes("sessions:read")) throw new Refusal(gateCloseCodes.forbidden, "watching needs a token with the sessions:read scope");
      return { user: found.user, tokenId: found.token.id };
    }
    if (request.headers.origin !== config.publicUrl.origin) throw new Refusal(gateCloseCodes.forbidden, "origin not allowed");
    const accountId = await accountIdFromCookies(request.headers.cookie, config.publicUrl, config.authSecret);
    const user = accountId ? await findUserById(db, accountId) : undefined;
    if (!user || user.disabled) throw new Refusal(gateCloseCodes.unauthenticated, "sign in first");
    return { user, tokenId: null };
  }

  function onConnection(socket: WebSocket, request: IncomingMessage) {
    // Frames that arrive while the gate decides wait in the socket, not in a listener that might drop them.
    socket.pause();
    const socketUrl = url(request);
    guardSocket(socket, `WebSocket ${socketUrl.pathname}`);
    const actor: Actor = { id: null, name: "anonymous", sourceIp: (request.headers[clientAddressHeader] as string | undefined) ?? null };
    const refuse = async (refusal: Refusal) => {
      await audit(db, actor, { action: "connect", outcome: "refused", details: { path: socketUrl.pathname, reason: refusal.reason } }).catch((auditError) => log.error({ err: auditError }, "audit failed"));
      // Reading must resume for the close handshake to complete.
      socket.resume();
      socket.close(refusal.code, closeReason(refusal.reason));
    };
    void (async () => {
      let admitted: Awaited<ReturnType<typeof admit>>;
      try {
        admitted = await admit(socket, request, socketUrl, actor);
      } catch (error) {
        if (!(error instanceof Refusal)) log.error({ err: error }, "WebSocket gate failed");
        return refuse(error instanceof Refusal ? error : new Refusal(1011, "the gateway could not check this connection"));
      }
      const { purpose, pass } = admitted;
      await audit(db, actor, { action: "connect", objectType: "target", objectId: pass.target.id, details: { purpose, target: pass.target.name } });
      routes[purpose](socket, pass);
      socket.resume();
    })().catch((error: unknown) => {
      log.error({ err: error }, "WebSocket gate failed after admitting a connection");
      socket.resume();
      socket.close(1011, "internal error");
    });
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
