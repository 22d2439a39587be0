// The access decision that precedes every WebSocket: may this user reach this target (or watch this session)
// now? If so, a ticket.
import { audit, type Actor, type AuditEntry } from "../data/audit";
import { hasRole, type SignedInUser } from "../auth/current-user";
import { ApiError } from "./errors";
import type { Runtime } from "../infra/runtime";
import type { TicketRequest, TicketResponse } from "../protocol/tickets";
import { decideAccess } from "../data/governance/access";
import { findSession } from "../data/sessions";
import { findTarget } from "../data/targets";
import { mintConnectTicket, type TicketBinding } from "../data/tickets";

/**
 * A ticket, handed out only once its audit row is written. Both are written at once: a ticket whose row failed
 * is given to no one and expires unused.
 */
async function mintAudited({ db, config }: Runtime, actor: Actor, binding: TicketBinding, entry: AuditEntry): Promise<TicketResponse> {
  const [, { ticket, expiresAt }] = await Promise.all([audit(db, actor, entry), mintConnectTicket(db, binding, config.connectTicketTtlSeconds)]);
  return { url: `/ws/${binding.purpose}?ticket=${ticket}`, expiresAt: expiresAt.toISOString() };
}

export async function requestConnectTicket(runtime: Runtime, user: SignedInUser, actor: Actor, request: TicketRequest): Promise<TicketResponse> {
  const { db } = runtime;
  if (request.purpose === "watch") {
    const session = hasRole(user, ["security", "admin"]) ? await findSession(db, request.sessionId) : undefined;
    // Someone without the role learns nothing about which sessions exist.
    if (!session || !session.targetId) {
      await audit(db, actor, { action: "connect.ticket", outcome: "refused", objectType: "session", objectId: request.sessionId, details: { purpose: "watch" } });
      throw new ApiError(hasRole(user, ["security", "admin"]) ? 404 : 403, hasRole(user, ["security", "admin"]) ? "No such session" : "Watching sessions needs the security or admin role");
    }
    if (session.status === "ended") throw new ApiError(409, "This session has ended; its recording is under Sessions");
    return mintAudited(runtime, actor, { userId: user.id, targetId: session.targetId, purpose: "watch", sessionId: session.id }, { action: "connect.ticket", objectType: "session", objectId: session.id, details: { purpose: "watch", user: session.username, target: session.targetName } });
  }
  const target = await findTarget(db, request.targetId);
  const decision = target ? await decideAccess(db, user, target, actor.sourceIp) : undefined;
  if (!target || !decision?.allowed) {
    // An unknown target and one the person is not listed on look the same, so ids cannot be probed for existence;
    // anyone listed is told why (outside the window, from another network, a request needed…).
    const reason = decision && !decision.allowed && decision.code !== "not_listed" ? decision : undefined;
    await audit(db, actor, { action: "connect.ticket", outcome: "refused", objectType: "target", objectId: request.targetId, details: { purpose: request.purpose, target: target?.name, code: reason?.code, reason: reason?.reason } });
    throw new ApiError(403, reason ? `Access refused: ${reason.reason}` : "You may not reach this target");
  }
  return mintAudited(runtime, actor, { userId: user.id, targetId: target.id, purpose: request.purpose }, { action: "connect.ticket", objectType: "target", objectId: target.id, details: { purpose: request.purpose, target: target.name, requestId: decision.requestId, policies: decision.policies } });
}
