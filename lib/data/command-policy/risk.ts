// Risk events: each match of a rule in a session, with what the gateway did about it. Each adds its weight to
// the session's risk score, is audited as the user's act, and tells security (the notification outbox).
import { and, asc, eq, isNotNull, sql } from "drizzle-orm";
import { audit, type Actor } from "../audit";
import type { Database } from "../client";
import { riskEvents, sessions, users } from "../schema";
import { queueNotification } from "../notifications";
import { severityWeight, type RiskEventView, type RiskOutcome, type RuleAction, type Severity } from "../../protocol/command-rules";
import { listCommands } from "../transcripts";
import { effectiveRoles } from "../users";

export interface RiskEventInput {
  sessionId: string;
  rule: { id: string | null; name: string; severity: Severity; action: RuleAction };
  outcome: RiskOutcome;
  subject: string;
  decidedBy?: string;
}

/** Subjects are kept to this length: a pasted script matched as one line is evidence, not storage. */
const longestSubject = 2000;

async function securityEmails(db: Database): Promise<string[]> {
  const candidates = await db.select().from(users).where(and(eq(users.disabled, false), isNotNull(users.email)));
  return candidates.filter((user) => effectiveRoles(user).includes("security")).map((user) => user.email!);
}

export async function recordRiskEvent(db: Database, actor: Actor, event: RiskEventInput): Promise<number> {
  const subject = event.subject.slice(0, longestSubject);
  const [row] = await db
    .insert(riskEvents)
    .values({ sessionId: event.sessionId, ruleId: event.rule.id, ruleName: event.rule.name, severity: event.rule.severity, action: event.rule.action, outcome: event.outcome, subject, decidedBy: event.decidedBy ?? null })
    .returning({ id: riskEvents.id });
  await db
    .update(sessions)
    .set({ riskScore: sql`${sessions.riskScore} + ${severityWeight[event.rule.severity]}` })
    .where(eq(sessions.id, event.sessionId));
  const details = { rule: event.rule.name, severity: event.rule.severity, action: event.rule.action, outcome: event.outcome, subject };
  await audit(db, actor, { action: "session.policy_match", outcome: event.outcome === "blocked" ? "refused" : "success", objectType: "session", objectId: event.sessionId, details });
  const headline = `${event.rule.severity} risk in a session of ${actor.name}: ${event.rule.name} (${event.outcome})`;
  await queueNotification(db, {
    kind: "risk.event",
    recipients: await securityEmails(db),
    subject: headline,
    body: [`${headline}.`, "", `Matched: ${subject}`, `Action: ${event.rule.action}`, `Session: /live/${event.sessionId}`].join("\n"),
    payload: { kind: "risk.event", at: new Date().toISOString(), user: actor.name, sessionId: event.sessionId, ...details, link: `/sessions/${event.sessionId}/risk` },
  });
  return row!.id;
}

/** A held command or request was decided (or its time ran out); whoever decided audits it. */
export async function settleRiskEvent(db: Database, id: number, outcome: RiskOutcome, decidedBy: string) {
  await db.update(riskEvents).set({ outcome, decidedBy }).where(eq(riskEvents.id, id));
}

export async function listRiskEvents(db: Database, sessionId: string, startedAt: Date): Promise<RiskEventView[]> {
  const rows = await db.select().from(riskEvents).where(eq(riskEvents.sessionId, sessionId)).orderBy(asc(riskEvents.id));
  return rows.map((row) => ({
    id: row.id,
    at: row.at.toISOString(),
    offsetSeconds: Math.max(0, (row.at.getTime() - startedAt.getTime()) / 1000),
    ruleName: row.ruleName,
    severity: row.severity,
    action: row.action,
    outcome: row.outcome,
    subject: row.subject,
    decidedBy: row.decidedBy,
  }));
}

/** How many commands before and after an event the risk view shows. */
const commandsAround = 3;

/** The risk analysis of a session: each event with the commands typed around it. */
export async function riskAnalysis(db: Database, session: { id: string; startedAt: Date }) {
  const [events, commands] = await Promise.all([listRiskEvents(db, session.id, session.startedAt), listCommands(db, session.id)]);
  return events.map((event) => {
    const atMs = event.offsetSeconds * 1000;
    const next = commands.findIndex((command) => command.atMs > atMs);
    const split = next === -1 ? commands.length : next;
    return { ...event, before: commands.slice(Math.max(0, split - commandsAround), split).map((command) => command.text), after: commands.slice(split, split + commandsAround).map((command) => command.text) };
  });
}
