// The window an approved request grants: it counts from the later of its approval and its scheduled start, so a
// slow approver does not eat into it, and a policy's longest duration caps how far it can be extended.
import type { PolicyRow } from "../../data/governance/policies";
import type { RequestRow } from "../../data/governance/requests";

export function approvedWindow(request: Pick<RequestRow, "startsAt" | "durationMinutes">, policies: PolicyRow[], approvedAt: Date) {
  const windowStartsAt = new Date(Math.max(approvedAt.getTime(), request.startsAt.getTime()));
  const limits = policies.filter((policy) => policy.maxDurationMinutes > 0).map((policy) => policy.maxDurationMinutes);
  return {
    windowStartsAt,
    windowEndsAt: new Date(windowStartsAt.getTime() + request.durationMinutes * 60_000),
    extendableUntil: limits.length > 0 ? new Date(windowStartsAt.getTime() + Math.min(...limits) * 60_000) : null,
  };
}

/** What a person reading a request sees of its state: an approved request is scheduled, available, active or over. */
export function requestPhase(request: Pick<RequestRow, "status" | "windowStartsAt" | "windowEndsAt">, openSessions: number, at = new Date()) {
  if (request.status !== "approved") return { pending: "Waiting for approval", denied: "Denied", cancelled: "Cancelled", revoked: "Revoked", expired: "Expired" }[request.status];
  if (request.windowStartsAt && at < request.windowStartsAt) return "Approved";
  if (request.windowEndsAt && at >= request.windowEndsAt) return "Expired";
  return openSessions > 0 ? "Active" : "Available";
}
