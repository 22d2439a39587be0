// Telling people about requests: who should know (approvers of a new request, the requester of every decision),
// written as a notification row; the sender (server/notification-sender.ts) mails and posts it later.
import { and, eq, inArray, isNotNull } from "drizzle-orm";
import type { Database } from "../client";
import { accessRequests, activities, targets, users } from "../schema";
import { queueNotification } from "../notifications";
import { effectiveRoles } from "../users";
import { loadPolicies } from "./access";
import { mayApprove } from "../../domain/governance/decide";

export type RequestEventKind = "request.created" | "request.approved" | "request.denied" | "request.cancelled" | "request.revoked" | "request.expired";

const headlines: Record<RequestEventKind, string> = {
  "request.created": "waits for your approval",
  "request.approved": "was approved",
  "request.denied": "was denied",
  "request.cancelled": "was cancelled",
  "request.revoked": "was revoked",
  "request.expired": "has expired",
};

/** Approvers with an e-mail address who may decide the request: every target must be theirs to approve. */
async function approverEmails(db: Database, request: typeof accessRequests.$inferSelect) {
  const [policies, requester, activity, requested] = await Promise.all([
    loadPolicies(db),
    db.select().from(users).where(eq(users.id, request.requesterId)),
    request.activityId ? db.select().from(activities).where(eq(activities.id, request.activityId)) : [],
    db.select().from(targets).where(inArray(targets.id, request.targetIds)),
  ]);
  if (!requester[0]) return [];
  // Approvers are few; the people with an address are read once and matched here, as a decision matches them.
  const candidates = await db.select().from(users).where(and(eq(users.disabled, false), isNotNull(users.email)));
  return candidates.filter((user) => mayApprove(policies, { kind: request.kind, activity: activity[0] }, requester[0]!, requested, { ...user, roles: effectiveRoles(user) })).map((user) => user.email!);
}

export async function notify(db: Database, event: { kind: RequestEventKind; requestId: string; by: string; comment?: string }) {
  const [request] = await db.select().from(accessRequests).where(eq(accessRequests.id, event.requestId));
  if (!request) return;
  const [requester] = await db.select({ username: users.username, email: users.email }).from(users).where(eq(users.id, request.requesterId));
  const names = (await db.select({ name: targets.name }).from(targets).where(inArray(targets.id, request.targetIds))).map((target) => target.name);
  const recipients = event.kind === "request.created" ? await approverEmails(db, request) : requester?.email ? [requester.email] : [];
  const summary = {
    id: request.id,
    requester: requester?.username ?? null,
    activity: request.activityName,
    targets: names,
    ticket: request.ticket,
    notes: request.notes,
    startsAt: request.startsAt.toISOString(),
    durationMinutes: request.durationMinutes,
    status: request.status,
    windowStartsAt: request.windowStartsAt?.toISOString() ?? null,
    windowEndsAt: request.windowEndsAt?.toISOString() ?? null,
  };
  const subject = `Access request by ${summary.requester} for ${names.join(", ")} ${headlines[event.kind]}`;
  const body = [
    `${subject}.`,
    "",
    `Activity: ${summary.activity}`,
    `Resources: ${names.join(", ")}`,
    summary.ticket ? `Ticket: ${summary.ticket}` : null,
    summary.notes ? `Notes: ${summary.notes}` : null,
    `Asked for: ${summary.durationMinutes} minutes from ${summary.startsAt}`,
    summary.windowStartsAt ? `Granted: ${summary.windowStartsAt} to ${summary.windowEndsAt}` : null,
    `By: ${event.by}${event.comment ? ` (${event.comment})` : ""}`,
  ]
    .filter((line) => line !== null)
    .join("\n");
  await queueNotification(db, {
    kind: event.kind,
    recipients,
    subject,
    body,
    payload: { kind: event.kind, at: new Date().toISOString(), by: event.by, comment: event.comment ?? "", request: summary, link: event.kind === "request.created" ? "/approvals" : "/requests" },
  });
}
