// The facts the access decision reads, loaded from the database: for one connect (the ticket API, the gate, the
// pages), for the list of what a person may open, and for every live session a node re-checks.
import { and, arrayContains, asc, eq, gt, inArray, isNull, ne, or } from "drizzle-orm";
import type { Database } from "../client";
import { accessPolicies, accessRequests, accessRevocations, sessions, targets, users } from "../schema";
import { acceptedNotices } from "./notice";
import { decide, type AccessDecision, type Person, type Reachable } from "../../domain/governance/decide";
import type { PolicyRow } from "./policies";

export async function loadPolicies(db: Database): Promise<PolicyRow[]> {
  return db.select().from(accessPolicies).orderBy(asc(accessPolicies.name));
}

async function openRequests(db: Database, personId: string, at: Date, targetId?: string) {
  return db
    .select({ id: accessRequests.id, status: accessRequests.status, windowStartsAt: accessRequests.windowStartsAt, windowEndsAt: accessRequests.windowEndsAt, extendableUntil: accessRequests.extendableUntil, targetIds: accessRequests.targetIds })
    .from(accessRequests)
    .where(
      and(
        eq(accessRequests.requesterId, personId),
        inArray(accessRequests.status, ["pending", "approved"]),
        or(isNull(accessRequests.windowEndsAt), gt(accessRequests.windowEndsAt, at)),
        targetId ? arrayContains(accessRequests.targetIds, [targetId]) : undefined,
      ),
    );
}

/** What a cancellation says to the person it refuses. */
const cancellation = { by: accessRevocations.revokedBy, at: accessRevocations.revokedAt, reason: accessRevocations.reason };

/** The decision for one connect, including the concurrency limits (the person's open sessions). */
export async function decideAccess(db: Database, person: Person, target: Reachable, clientAddress: string | null, at = new Date()): Promise<AccessDecision> {
  const [policies, cancelled, open, requests, notices] = await Promise.all([
    loadPolicies(db),
    db.select(cancellation).from(accessRevocations).where(and(eq(accessRevocations.userId, person.id), eq(accessRevocations.targetId, target.id))),
    db
      .select({ targetName: sessions.targetName, tags: targets.tags })
      .from(sessions)
      .leftJoin(targets, eq(targets.id, sessions.targetId))
      .where(and(eq(sessions.userId, person.id), ne(sessions.status, "ended"))),
    openRequests(db, person.id, at, target.id),
    acceptedNotices(db, person.id, at),
  ]);
  const openSessions = open.map((row) => ({ targetName: row.targetName, tags: row.tags ?? [] }));
  return decide({ person, target, at, clientAddress, policies, cancelled: cancelled[0] ?? null, openSessions, requests, noticeAccepted: notices.accepted(target.id) });
}

/** Every target the person can see (listed, or named by a policy), each with what they may do with it now. */
export async function accessOverview<T extends Reachable>(db: Database, person: Person, candidates: T[], clientAddress: string | null, at = new Date()) {
  const [policies, cancelled, requests, notices] = await Promise.all([
    loadPolicies(db),
    db.select({ targetId: accessRevocations.targetId, ...cancellation }).from(accessRevocations).where(eq(accessRevocations.userId, person.id)),
    openRequests(db, person.id, at),
    acceptedNotices(db, person.id, at),
  ]);
  const cancelledTargets = new Map(cancelled.map(({ targetId, ...row }) => [targetId, row]));
  return candidates
    .map((target) => ({
      target,
      decision: decide({
        person,
        target,
        at,
        clientAddress,
        policies,
        cancelled: cancelledTargets.get(target.id) ?? null,
        requests: requests.filter((request) => request.targetIds.includes(target.id)),
        noticeAccepted: notices.accepted(target.id),
      }),
    }))
    .filter(({ decision }) => decision.allowed || decision.code !== "not_listed");
}

/**
 * The live sessions on `node` whose user may no longer reach their target, with why: the account was disabled,
 * the target is gone, or the decision now refuses (allow lists or policies edited, access cancelled, the request
 * cancelled, revoked or over). One pass for every protocol; `graceMs` leaves the end of a window to the session's
 * own timer, which warns first.
 */
export async function sessionsNoLongerAllowed(db: Database, node: string, graceMs = 5000): Promise<{ id: string; protocol: string; username: string; targetName: string; why: string }[]> {
  const rows = await db
    .select({
      id: sessions.id,
      protocol: sessions.protocol,
      targetName: sessions.targetName,
      requestId: sessions.requestId,
      clientAddress: sessions.clientAddress,
      user: { id: users.id, username: users.username, email: users.email, groups: users.groups, disabled: users.disabled },
      target: targets,
      cancelledBy: accessRevocations.revokedBy,
      cancelledAt: accessRevocations.revokedAt,
      cancelledFor: accessRevocations.reason,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .leftJoin(targets, eq(targets.id, sessions.targetId))
    .leftJoin(accessRevocations, and(eq(accessRevocations.userId, sessions.userId), eq(accessRevocations.targetId, sessions.targetId)))
    .where(and(eq(sessions.node, node), ne(sessions.status, "ended")));
  if (rows.length === 0) return [];
  const now = new Date();
  const policies = await loadPolicies(db);
  const requestIds = rows.map((row) => row.requestId).filter((id): id is string => id !== null);
  const requests = requestIds.length > 0 ? await db.select().from(accessRequests).where(inArray(accessRequests.id, requestIds)) : [];
  const refused = [];
  for (const { id, protocol, targetName, requestId, clientAddress, user, target, cancelledBy, cancelledAt, cancelledFor } of rows) {
    const cancelled = cancelledBy !== null && cancelledAt !== null ? { by: cancelledBy, at: cancelledAt, reason: cancelledFor ?? "" } : null;
    let why: string | null = null;
    if (user.disabled) why = "the account was disabled";
    else if (!target) why = `${targetName} was removed`;
    else {
      const request = requests.find((candidate) => candidate.id === requestId);
      if (request && request.status !== "approved") why = `the access request was ${request.status}${request.closedReason ? `: ${request.closedReason}` : ""}`;
      else {
        // A notice accepted when the session began holds for all of it.
        const facts = { person: user, target, clientAddress, policies, cancelled, requests: request ? [request] : [], noticeAccepted: true };
        const decision = decide({ ...facts, at: now });
        // Refused a moment ago too: a window that just closed is left to the session's own timer, one that just opened is not refused.
        if (!decision.allowed && !decide({ ...facts, at: new Date(now.getTime() - graceMs) }).allowed) why = decision.code === "not_listed" ? `${targetName} no longer allows this account` : decision.code === "cancelled" ? `access to ${targetName} was cancelled` : decision.reason;
      }
    }
    if (why) refused.push({ id, protocol, username: user.username, targetName, why });
  }
  return refused;
}
