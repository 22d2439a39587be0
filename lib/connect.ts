// The access decision that precedes every WebSocket: may this user reach this target now? If so, a ticket.
import { canReach } from "./access";
import { audit, type Actor } from "./audit";
import { ApiError } from "./errors";
import type { SignedInUser } from "./auth/current-user";
import type { Runtime } from "./runtime";
import type { ConnectPurpose } from "./protocol/domain";
import type { TicketResponse } from "./protocol/tickets";
import { findTarget } from "./targets";
import { mintConnectTicket } from "./tickets";

export async function requestConnectTicket(
  { db, config }: Runtime,
  user: SignedInUser,
  actor: Actor,
  request: { targetId: string; purpose: ConnectPurpose },
): Promise<TicketResponse> {
  const target = await findTarget(db, request.targetId);
  // An unknown target and a forbidden one look the same, so ids cannot be probed for existence.
  if (!target || !canReach(user, target)) {
    await audit(db, actor, { action: "connect.ticket", outcome: "refused", objectType: "target", objectId: request.targetId, details: { purpose: request.purpose } });
    throw new ApiError(403, "You may not reach this target");
  }
  const { ticket, expiresAt } = await mintConnectTicket(db, { userId: user.id, targetId: target.id, purpose: request.purpose }, config.connectTicketTtlSeconds);
  await audit(db, actor, { action: "connect.ticket", objectType: "target", objectId: target.id, details: { purpose: request.purpose, target: target.name } });
  return { url: `/ws/${request.purpose}?ticket=${ticket}`, expiresAt: expiresAt.toISOString() };
}
