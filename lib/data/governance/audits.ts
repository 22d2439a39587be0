// Sessions given to auditors (senhasegura's "sessions for audit"): a policy with auditors and a sample share
// assigns sessions of its targets as they start; auditors take them into review and mark them reviewed or
// flagged, with notes; flagged sessions show on the live dashboard. Every step is audited.
import { randomInt } from "node:crypto";
import { and, count, desc, eq, inArray } from "drizzle-orm";
import { audit, type Actor } from "../audit";
import type { SignedInUser } from "../../auth/current-user";
import type { Database } from "../client";
import { accessPolicies, sessionAudits, sessions, users } from "../schema";
import { notFound } from "../../domain/errors";
import { isUuid } from "../../domain/ids";
import { loadPolicies } from "./access";
import { policyAuditor, policyCovers, type Reachable } from "../../domain/governance/decide";

export type AuditStatus = (typeof sessionAudits.$inferSelect)["status"];

/** At a session's start: each policy covering its target that samples sessions takes it with its share's chance. */
export async function assignAuditors(db: Database, sessionId: string, target: Pick<Reachable, "name" | "tags">) {
  const sampling = (await loadPolicies(db)).filter((policy) => policy.auditSamplePercent > 0 && policyCovers(policy, target));
  const chosen = sampling.filter((policy) => randomInt(100) < policy.auditSamplePercent);
  if (chosen.length > 0) await db.insert(sessionAudits).values(chosen.map((policy) => ({ sessionId, policyId: policy.id }))).onConflictDoNothing();
}

/** The assignments this person audits (through the policies naming them as auditors), open ones first. */
export async function auditQueue(db: Database, person: SignedInUser) {
  const mine = (await loadPolicies(db)).filter((policy) => policyAuditor(policy, person)).map((policy) => policy.id);
  if (mine.length === 0) return [];
  const rows = await db
    .select({
      sessionId: sessionAudits.sessionId,
      policyId: sessionAudits.policyId,
      policyName: accessPolicies.name,
      status: sessionAudits.status,
      notes: sessionAudits.notes,
      reviewedBy: sessionAudits.reviewedBy,
      reviewedAt: sessionAudits.reviewedAt,
      username: users.username,
      targetName: sessions.targetName,
      protocol: sessions.protocol,
      startedAt: sessions.startedAt,
      sessionStatus: sessions.status,
    })
    .from(sessionAudits)
    .innerJoin(accessPolicies, eq(accessPolicies.id, sessionAudits.policyId))
    .innerJoin(sessions, eq(sessions.id, sessionAudits.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(inArray(sessionAudits.policyId, mine))
    .orderBy(desc(sessions.startedAt))
    .limit(500);
  const open = (status: AuditStatus) => status === "pending" || status === "in_review";
  return rows.sort((a, b) => Number(open(b.status)) - Number(open(a.status)));
}

/** An auditor's step: into review, reviewed or flagged, with notes; only an auditor of the assigning policy. */
export async function updateAudit(db: Database, actor: Actor, person: SignedInUser, sessionId: string, policyId: string, change: { status: Exclude<AuditStatus, "pending">; notes: string }) {
  if (!isUuid(sessionId) || !isUuid(policyId)) throw notFound("Audit");
  const [policy] = (await loadPolicies(db)).filter((candidate) => candidate.id === policyId);
  if (!policy || !policyAuditor(policy, person)) {
    await audit(db, actor, { action: "session.audit", outcome: "refused", objectType: "session", objectId: sessionId, details: { policyId, status: change.status } });
    throw notFound("Audit");
  }
  const done = change.status !== "in_review";
  const [updated] = await db
    .update(sessionAudits)
    .set({ status: change.status, notes: change.notes, reviewedBy: person.username, reviewedAt: done ? new Date() : null })
    .where(and(eq(sessionAudits.sessionId, sessionId), eq(sessionAudits.policyId, policyId)))
    .returning({ status: sessionAudits.status });
  if (!updated) throw notFound("Audit");
  await audit(db, actor, { action: "session.audit", objectType: "session", objectId: sessionId, details: { policy: policy.name, status: change.status, notes: change.notes } });
  return updated;
}

/** Sessions an auditor flagged, newest first: the live dashboard shows them. */
export async function flaggedSessions(db: Database, limit = 20) {
  return db
    .select({ sessionId: sessionAudits.sessionId, notes: sessionAudits.notes, reviewedBy: sessionAudits.reviewedBy, reviewedAt: sessionAudits.reviewedAt, username: users.username, targetName: sessions.targetName })
    .from(sessionAudits)
    .innerJoin(sessions, eq(sessions.id, sessionAudits.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessionAudits.status, "flagged"))
    .orderBy(desc(sessionAudits.reviewedAt))
    .limit(limit);
}

/** Assignments waiting for this auditor: the badge in the navigation, so only a count. */
export async function pendingAudits(db: Database, person: SignedInUser) {
  const mine = (await loadPolicies(db)).filter((policy) => policyAuditor(policy, person)).map((policy) => policy.id);
  if (mine.length === 0) return 0;
  const [row] = await db.select({ count: count() }).from(sessionAudits).where(and(inArray(sessionAudits.policyId, mine), eq(sessionAudits.status, "pending")));
  return row?.count ?? 0;
}
