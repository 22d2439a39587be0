// Access requests, a state machine: pending → approved | denied | cancelled | expired; approved → cancelled |
// revoked | expired. Every transition is audited and told to the people it concerns (lib/data/governance/notify.ts).
// The window a request grants is a rule of its own (lib/domain/governance/request-window.ts).
import { and, arrayOverlaps, count, desc, eq, inArray, lte, ne, or, sql } from "drizzle-orm";
import { audit, systemActor, type Actor } from "../audit";
import type { SignedInUser } from "../../auth/current-user";
import type { Database } from "../client";
import { accessRequests, activities, requestDecisions, sessions, targets, users } from "../schema";
import { ApiError, notFound } from "../../domain/errors";
import { isUuid } from "../../domain/ids";
import type { AccessRequestInput } from "../../protocol/governance";
import { loadPolicies } from "./access";
import { mayApprove, requestPolicies, type Person } from "../../domain/governance/decide";
import { notify } from "./notify";
import { ticketMatches } from "../../domain/governance/ticket-pattern";
import { approvedWindow, requestPhase } from "../../domain/governance/request-window";

type ActivityRow = typeof activities.$inferSelect;
export type RequestRow = typeof accessRequests.$inferSelect;

/** Requests one person may have waiting at once: each one mails the approvers, so a script cannot flood them. */
const mostWaiting = 20;

/** Refuses a new request from someone who already has `mostWaiting` waiting for approval. */
export async function assertRoomToAsk(db: Database, requesterId: string) {
  const [row] = await db.select({ waiting: count() }).from(accessRequests).where(and(eq(accessRequests.requesterId, requesterId), eq(accessRequests.status, "pending")));
  if ((row?.waiting ?? 0) >= mostWaiting) throw new ApiError(429, `You have ${mostWaiting} requests waiting for approval; cancel some or wait for an answer`);
}

/** A start this far in the past still counts as "now" (clocks and forms are not exact). */
const startSkewMs = 60_000;
/** Requests are for work that is planned, not for standing access booked years ahead. */
const longestLeadMs = 365 * 24 * 3600_000;

const minutesText = (minutes: number) => (minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`);
const fieldError = (field: string, message: string) => new ApiError(400, "Some fields need attention", { [field]: message });

/** What a person may ask for: each activity with the targets it covers for them. */
export async function requestOptions(db: Database, person: Person) {
  const [policies, allActivities, allTargets] = await Promise.all([loadPolicies(db), db.select().from(activities).orderBy(activities.name), db.select().from(targets).orderBy(targets.name)]);
  return allActivities
    .map((activity) => ({
      id: activity.id,
      name: activity.name,
      description: activity.description,
      ticketPattern: activity.ticketPattern,
      targets: allTargets
        .map((target) => ({ target, policies: requestPolicies(policies, activity, person, target) }))
        .filter(({ policies }) => policies.length > 0)
        .map(({ target, policies }) => {
          const limits = policies.filter((policy) => policy.maxDurationMinutes > 0).map((policy) => policy.maxDurationMinutes);
          return { id: target.id, name: target.name, protocol: target.protocol, maxDurationMinutes: limits.length > 0 ? Math.min(...limits) : null, autoApproved: policies.every((policy) => policy.access === "auto_approve") };
        }),
    }))
    .filter((activity) => activity.targets.length > 0);
}

async function loadActivity(db: Database, id: string) {
  const [activity] = await db.select().from(activities).where(eq(activities.id, id));
  return activity;
}

export async function createAccessRequest(db: Database, actor: Actor, requester: SignedInUser, input: AccessRequestInput, at = new Date()) {
  await assertRoomToAsk(db, requester.id);
  const activity = await loadActivity(db, input.activityId);
  if (!activity) throw fieldError("activityId", "No such activity");
  if (activity.ticketPattern !== null) {
    if (!input.ticket) throw fieldError("ticket", "This activity needs a ticket number");
    const matches = ticketMatches(activity.ticketPattern, input.ticket);
    if (matches === "undecided") throw fieldError("ticket", "The ticket format of this activity takes too long to check; ask an administrator to simplify it");
    if (!matches) throw fieldError("ticket", `The ticket must match ${activity.ticketPattern}`);
  }
  const startsAt = input.startsAt ?? at;
  if (startsAt.getTime() < at.getTime() - startSkewMs) throw fieldError("startsAt", "The start is in the past");
  if (startsAt.getTime() > at.getTime() + longestLeadMs) throw fieldError("startsAt", "The start may be at most a year ahead");
  const targetIds = [...new Set(input.targetIds)];
  const [policies, requested] = await Promise.all([loadPolicies(db), db.select().from(targets).where(inArray(targets.id, targetIds))]);
  const perTarget = targetIds.map((id) => {
    const target = requested.find((candidate) => candidate.id === id);
    const under = target ? requestPolicies(policies, activity, requester, target) : [];
    // An unknown target and one the person may not request read the same.
    if (!target || under.length === 0) throw fieldError("targetIds", `You may not request ${target?.name ?? "one of these resources"} for ${activity.name}`);
    return { target, policies: under };
  });
  for (const { target, policies: under } of perTarget) {
    for (const policy of under) {
      if (policy.maxDurationMinutes > 0 && input.durationMinutes > policy.maxDurationMinutes) {
        throw fieldError("durationMinutes", `Policy ${policy.name} allows at most ${minutesText(policy.maxDurationMinutes)} on ${target.name}`);
      }
    }
  }
  const endsAt = new Date(startsAt.getTime() + input.durationMinutes * 60_000);
  const overlapping = await db
    .select({ id: accessRequests.id, startsAt: accessRequests.startsAt, targetIds: accessRequests.targetIds })
    .from(accessRequests)
    .where(
      and(
        eq(accessRequests.requesterId, requester.id),
        inArray(accessRequests.status, ["pending", "approved"]),
        arrayOverlaps(accessRequests.targetIds, targetIds),
        sql`coalesce(${accessRequests.windowStartsAt}, ${accessRequests.startsAt}) < ${endsAt.toISOString()}::timestamptz`,
        sql`coalesce(${accessRequests.windowEndsAt}, ${accessRequests.startsAt} + ${accessRequests.durationMinutes} * interval '1 minute') > ${startsAt.toISOString()}::timestamptz`,
      ),
    )
    .limit(1);
  if (overlapping[0]) {
    const shared = perTarget.find(({ target }) => overlapping[0]!.targetIds.includes(target.id))!.target.name;
    throw fieldError("targetIds", `You already have a request for ${shared} in that time`);
  }
  const all = perTarget.flatMap(({ policies: under }) => under);
  const approving = all.filter((policy) => policy.access === "approval");
  const autoApproved = approving.length === 0;
  const requiredApprovals = autoApproved ? 0 : Math.max(...approving.map((policy) => policy.requiredApprovals));
  const [created] = await db
    .insert(accessRequests)
    .values({
      requesterId: requester.id,
      activityId: activity.id,
      activityName: activity.name,
      targetIds,
      notes: input.notes,
      ticket: input.ticket,
      startsAt,
      durationMinutes: input.durationMinutes,
      status: autoApproved ? "approved" : "pending",
      requiredApprovals,
      ...(autoApproved ? approvedWindow({ startsAt, durationMinutes: input.durationMinutes }, all, at) : {}),
    })
    .returning();
  const summary = { activity: activity.name, targets: perTarget.map(({ target }) => target.name), ticket: input.ticket, startsAt: startsAt.toISOString(), durationMinutes: input.durationMinutes };
  await audit(db, actor, { action: "request.create", objectType: "access_request", objectId: created!.id, details: summary });
  if (autoApproved) {
    await audit(db, systemActor, { action: "request.approve", objectType: "access_request", objectId: created!.id, details: { auto: true, policies: [...new Set(all.map((policy) => policy.name))] } });
    await notify(db, { kind: "request.approved", requestId: created!.id, by: "policy (approved automatically)" });
  } else await notify(db, { kind: "request.created", requestId: created!.id, by: requester.username });
  return created!;
}

/** Who may decide which of these requests: the policies, activities, requesters and targets that takes, read once for all. */
async function approverCheck(db: Database, requests: RequestRow[]): Promise<(person: SignedInUser, request: RequestRow) => boolean> {
  if (requests.length === 0) return () => false;
  const activityIds = [...new Set(requests.map((request) => request.activityId).filter((id): id is string => id !== null))];
  const [policies, requesters, named, requested] = await Promise.all([
    loadPolicies(db),
    db.select().from(users).where(inArray(users.id, [...new Set(requests.map((request) => request.requesterId))])),
    activityIds.length > 0 ? db.select().from(activities).where(inArray(activities.id, activityIds)) : [],
    db.select().from(targets).where(inArray(targets.id, [...new Set(requests.flatMap((request) => request.targetIds))])),
  ]);
  return (person, request) => {
    const requester = requesters.find((user) => user.id === request.requesterId);
    const activity = named.find((candidate) => candidate.id === request.activityId);
    return Boolean(requester) && mayApprove(policies, { kind: request.kind, activity }, requester!, requested.filter((target) => request.targetIds.includes(target.id)), person);
  };
}

const mayDecide = async (db: Database, person: SignedInUser, request: RequestRow) => (await approverCheck(db, [request]))(person, request);

async function lockedRequest(tx: Parameters<Parameters<Database["transaction"]>[0]>[0], id: string) {
  const [request] = await tx.select().from(accessRequests).where(eq(accessRequests.id, id)).for("update");
  return request;
}

export async function decideAccessRequest(db: Database, actor: Actor, approver: SignedInUser, id: string, input: { decision: "approve" | "deny"; comment: string }, at = new Date()) {
  if (!isUuid(id)) throw notFound("Access request");
  const [current] = await db.select().from(accessRequests).where(eq(accessRequests.id, id));
  const refuse = async (reason: string, error: ApiError) => {
    await audit(db, actor, { action: `request.${input.decision}`, outcome: "refused", objectType: "access_request", objectId: id, details: { reason } });
    return error;
  };
  if (!current) throw await refuse("not an approver of this request", notFound("Access request"));
  if (current.requesterId === approver.id) throw await refuse("own request", new ApiError(403, "You may not decide your own request"));
  if (!(await mayDecide(db, approver, current))) throw await refuse("not an approver of this request", new ApiError(403, "You may not decide this request"));
  const policies = await loadPolicies(db);
  const outcome = await db.transaction(async (tx) => {
    const request = await lockedRequest(tx, id);
    if (!request || request.status !== "pending") throw new ApiError(409, `This request is ${request?.status ?? "gone"}, not waiting for approval`);
    const inserted = await tx
      .insert(requestDecisions)
      .values({ requestId: id, approverId: approver.id, approverName: approver.username, decision: input.decision, comment: input.comment })
      .onConflictDoNothing()
      .returning();
    if (inserted.length === 0) throw new ApiError(409, "You have already decided this request");
    if (input.decision === "deny") {
      await tx.update(accessRequests).set({ status: "denied", closedBy: approver.username, closedReason: input.comment || null, updatedAt: at }).where(eq(accessRequests.id, id));
      return "denied" as const;
    }
    const approvals = await tx.select({ approverId: requestDecisions.approverId }).from(requestDecisions).where(and(eq(requestDecisions.requestId, id), eq(requestDecisions.decision, "approve")));
    if (approvals.length < request.requiredApprovals) return "recorded" as const;
    const requested = await tx.select().from(targets).where(inArray(targets.id, request.targetIds));
    const [requester] = await tx.select().from(users).where(eq(users.id, request.requesterId));
    const [activity] = request.activityId ? await tx.select().from(activities).where(eq(activities.id, request.activityId)) : [];
    // The window is capped by the policies the request was made under, as its duration was checked against them.
    const under = requester && activity ? requested.flatMap((target) => requestPolicies(policies, activity, requester, target)) : [];
    await tx.update(accessRequests).set({ status: "approved", ...approvedWindow(request, under, at), updatedAt: at }).where(eq(accessRequests.id, id));
    return "approved" as const;
  });
  await audit(db, actor, { action: `request.${input.decision}`, objectType: "access_request", objectId: id, details: { comment: input.comment, result: outcome } });
  if (outcome !== "recorded") await notify(db, { kind: `request.${outcome}`, requestId: id, by: approver.username, comment: input.comment });
  return { status: outcome === "recorded" ? "pending" : outcome };
}

/** The requester withdraws (pending or approved); an approved request's sessions end with it. */
export async function cancelAccessRequest(db: Database, actor: Actor, person: SignedInUser, id: string, reason: string) {
  return closeRequest(db, actor, id, { to: "cancelled", from: ["pending", "approved"], by: person.username, reason, allowed: (request) => request.requesterId === person.id });
}

/** Security, an admin or an approver of the request takes granted access back; its sessions end within a sweep. */
export async function revokeAccessRequest(db: Database, actor: Actor, person: SignedInUser, id: string, reason: string) {
  return closeRequest(db, actor, id, {
    to: "revoked",
    from: ["approved", "pending"],
    by: person.username,
    reason,
    allowed: async (request) => person.roles.includes("security") || person.roles.includes("admin") || (await mayDecide(db, person, request)),
  });
}

/** Security ended a session "and cancelled" its access: the request it ran under is revoked with it. */
export async function revokeRequestOfSession(db: Database, actor: Actor, requestId: string, reason: string) {
  return closeRequest(db, actor, requestId, { to: "revoked", from: ["approved"], by: actor.name, reason, allowed: () => true });
}

async function closeRequest(
  db: Database,
  actor: Actor,
  id: string,
  change: { to: "cancelled" | "revoked"; from: RequestRow["status"][]; by: string; reason: string; allowed: (request: RequestRow) => boolean | Promise<boolean> },
) {
  const [request] = isUuid(id) ? await db.select().from(accessRequests).where(eq(accessRequests.id, id)) : [];
  if (!request || !(await change.allowed(request))) {
    await audit(db, actor, { action: `request.${change.to === "cancelled" ? "cancel" : "revoke"}`, outcome: "refused", objectType: "access_request", objectId: id });
    throw notFound("Access request");
  }
  const [closed] = await db
    .update(accessRequests)
    .set({ status: change.to, closedBy: change.by, closedReason: change.reason || null, updatedAt: new Date() })
    .where(and(eq(accessRequests.id, id), inArray(accessRequests.status, change.from)))
    .returning({ id: accessRequests.id });
  if (!closed) throw new ApiError(409, `This request is ${request.status}; it cannot be ${change.to}`);
  await audit(db, actor, { action: `request.${change.to === "cancelled" ? "cancel" : "revoke"}`, objectType: "access_request", objectId: id, details: { reason: change.reason, was: request.status } });
  await notify(db, { kind: `request.${change.to}`, requestId: id, by: change.by, comment: change.reason });
}

/** Requests whose time is over, approved or still waiting, become expired, once, on whichever node gets there first. */
export async function expireAccessRequests(db: Database, at = new Date()) {
  const expired = await db
    .update(accessRequests)
    .set({ status: "expired", updatedAt: at })
    .where(
      or(
        and(eq(accessRequests.status, "approved"), lte(accessRequests.windowEndsAt, at)),
        and(eq(accessRequests.status, "pending"), sql`${accessRequests.startsAt} + ${accessRequests.durationMinutes} * interval '1 minute' <= ${at.toISOString()}::timestamptz`),
      ),
    )
    .returning({ id: accessRequests.id });
  for (const { id } of expired) {
    await audit(db, systemActor, { action: "request.expire", objectType: "access_request", objectId: id });
    await notify(db, { kind: "request.expired", requestId: id, by: "gatehouse" });
  }
}

/** A session under the request was extended past its window: the window follows, within how far it may go. */
export async function extendRequestWindow(db: Database, actor: Actor, id: string, until: Date) {
  const [extended] = await db
    .update(accessRequests)
    .set({ windowEndsAt: until, updatedAt: new Date() })
    .where(and(eq(accessRequests.id, id), eq(accessRequests.status, "approved"), sql`${accessRequests.windowEndsAt} < ${until.toISOString()}::timestamptz`, sql`(${accessRequests.extendableUntil} is null or ${accessRequests.extendableUntil} >= ${until.toISOString()}::timestamptz)`))
    .returning({ id: accessRequests.id });
  if (extended) await audit(db, actor, { action: "request.extend", objectType: "access_request", objectId: id, details: { windowEndsAt: until.toISOString() } });
}

/** Requests with the names of their targets, their decisions and their open sessions, newest first. */
async function describeRequests(db: Database, rows: RequestRow[], at = new Date()) {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const [names, decisions, requesters, open] = await Promise.all([
    db.select({ id: targets.id, name: targets.name }).from(targets).where(inArray(targets.id, [...new Set(rows.flatMap((row) => row.targetIds))])),
    db.select().from(requestDecisions).where(inArray(requestDecisions.requestId, ids)).orderBy(requestDecisions.at),
    db.select({ id: users.id, username: users.username }).from(users).where(inArray(users.id, [...new Set(rows.map((row) => row.requesterId))])),
    db.select({ requestId: sessions.requestId, id: sessions.id }).from(sessions).where(and(inArray(sessions.requestId, ids), ne(sessions.status, "ended"))),
  ]);
  return rows.map((row) => {
    const openSessions = open.filter((session) => session.requestId === row.id).map((session) => session.id);
    return {
      id: row.id,
      requester: requesters.find((user) => user.id === row.requesterId)?.username ?? "(deleted)",
      activity: row.activityName,
      targets: row.targetIds.map((id) => ({ id, name: names.find((target) => target.id === id)?.name ?? "(removed)" })),
      notes: row.notes,
      ticket: row.ticket,
      startsAt: row.startsAt.toISOString(),
      durationMinutes: row.durationMinutes,
      status: row.status,
      phase: requestPhase(row, openSessions.length, at),
      requiredApprovals: row.requiredApprovals,
      windowStartsAt: row.windowStartsAt?.toISOString() ?? null,
      windowEndsAt: row.windowEndsAt?.toISOString() ?? null,
      closedBy: row.closedBy,
      closedReason: row.closedReason,
      createdAt: row.createdAt.toISOString(),
      decisions: decisions.filter((decision) => decision.requestId === row.id).map((decision) => ({ approver: decision.approverName, decision: decision.decision, comment: decision.comment, at: decision.at.toISOString() })),
      openSessions,
    };
  });
}
export type RequestView = Awaited<ReturnType<typeof describeRequests>>[number];

export async function listOwnRequests(db: Database, person: Pick<Person, "id">) {
  return describeRequests(db, await db.select().from(accessRequests).where(eq(accessRequests.requesterId, person.id)).orderBy(desc(accessRequests.createdAt)).limit(200));
}

/** What an approver sees: requests waiting for them (not their own, not yet decided by them), and the granted ones they may revoke. */
export async function approvalQueue(db: Database, approver: SignedInUser) {
  const open = await db
    .select()
    .from(accessRequests)
    .where(and(inArray(accessRequests.status, ["pending", "approved"]), ne(accessRequests.requesterId, approver.id)))
    .orderBy(desc(accessRequests.createdAt))
    .limit(500);
  const overseer = approver.roles.includes("security") || approver.roles.includes("admin");
  const eligible = await approverCheck(db, open);
  const shown = open.filter((request) => overseer || eligible(approver, request));
  const described = await describeRequests(db, shown);
  return described.map((request, index) => ({
    ...request,
    mayDecide: eligible(approver, shown[index]!) && request.status === "pending" && !request.decisions.some((decision) => decision.approver === approver.username),
  }));
}

/** One request, for its requester, an approver of it, security or an admin; anyone else learns nothing. */
export async function findRequestFor(db: Database, person: SignedInUser, id: string) {
  const [request] = isUuid(id) ? await db.select().from(accessRequests).where(eq(accessRequests.id, id)) : [];
  const visible = request && (request.requesterId === person.id || person.roles.includes("security") || person.roles.includes("admin") || (await mayDecide(db, person, request)));
  if (!visible) throw notFound("Access request");
  return (await describeRequests(db, [request]))[0]!;
}

/** How many requests wait for this approver's decision: the badge in the navigation, on every page, so it only counts. */
export async function pendingForApprover(db: Database, approver: SignedInUser) {
  const pending = await db
    .select()
    .from(accessRequests)
    .where(and(eq(accessRequests.status, "pending"), ne(accessRequests.requesterId, approver.id)))
    .limit(500);
  if (pending.length === 0) return 0;
  const [eligible, decided] = await Promise.all([
    approverCheck(db, pending),
    db
      .select({ requestId: requestDecisions.requestId })
      .from(requestDecisions)
      .where(and(eq(requestDecisions.approverId, approver.id), inArray(requestDecisions.requestId, pending.map((request) => request.id)))),
  ]);
  const done = new Set(decided.map((row) => row.requestId));
  return pending.filter((request) => !done.has(request.id) && eligible(approver, request)).length;
}
