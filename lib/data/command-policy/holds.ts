// Commands and web requests held for security's decision. The node that holds one waits for it in memory; the
// row in `policy_holds` names that node (the control bus carries the decision there), lets the watch page on
// any node list what waits, and keeps what was decided. A hold nobody decides in time is denied.
import { and, asc, eq, gt, isNull } from "drizzle-orm";
import { audit } from "../audit";
import type { Database } from "../client";
import { policyHolds } from "../schema";
import { isUuid } from "../../domain/ids";
import type { HeldCommand, Severity } from "../../protocol/command-rules";
import { policyActor } from "../../domain/command-policy/rule-scope";

export type HoldOutcome = "approved" | "denied" | "timed_out";

export class PolicyHolds {
  private readonly waiting = new Map<string, { sessionId: string; settle(outcome: HoldOutcome, by: string): void }>();

  constructor(
    private readonly db: Database,
    private readonly nodeName: string,
  ) {}

  /** Waits until security decides, the rule's time runs out, or the session ends. */
  async hold(sessionId: string, rule: { name: string; severity: Severity; holdSeconds: number }, subject: string): Promise<{ outcome: HoldOutcome; by: string }> {
    const expiresAt = new Date(Date.now() + rule.holdSeconds * 1000);
    const [row] = await this.db
      .insert(policyHolds)
      .values({ sessionId, node: this.nodeName, ruleName: rule.name, severity: rule.severity, subject: subject.slice(0, 2000), expiresAt })
      .returning({ id: policyHolds.id });
    const holdId = row!.id;
    const decision = await new Promise<{ outcome: HoldOutcome; by: string }>((resolve) => {
      const timer = setTimeout(() => settle("timed_out", policyActor.name), rule.holdSeconds * 1000);
      const settle = (outcome: HoldOutcome, by: string) => {
        clearTimeout(timer);
        this.waiting.delete(holdId);
        resolve({ outcome, by });
      };
      this.waiting.set(holdId, { sessionId, settle });
    });
    await this.db.update(policyHolds).set({ outcome: decision.outcome, decidedBy: decision.by }).where(eq(policyHolds.id, holdId));
    if (decision.outcome === "timed_out") {
      await audit(this.db, policyActor, { action: "session.hold_timed_out", outcome: "refused", objectType: "session", objectId: sessionId, details: { rule: rule.name, subject, reason: `no one decided within ${rule.holdSeconds} s` } });
    }
    return decision;
  }

  /** Security's answer, delivered to this node by the control bus. */
  decide(holdId: string, outcome: "approved" | "denied", by: string): { ok: boolean; message: string } {
    const waiting = this.waiting.get(holdId);
    if (!waiting) return { ok: false, message: "nothing waits for that decision any more (decided, timed out or ended)" };
    waiting.settle(outcome, by);
    return { ok: true, message: outcome === "approved" ? "it was approved" : "it was denied" };
  }

  /** The session ended: what it still held is denied. */
  releaseSession(sessionId: string) {
    for (const waiting of [...this.waiting.values()]) if (waiting.sessionId === sessionId) waiting.settle("denied", "the end of the session");
  }
}

/** What a session holds now, for the watch page. */
export async function openHolds(db: Database, sessionId: string): Promise<HeldCommand[]> {
  if (!isUuid(sessionId)) return [];
  const rows = await db
    .select()
    .from(policyHolds)
    .where(and(eq(policyHolds.sessionId, sessionId), isNull(policyHolds.outcome), gt(policyHolds.expiresAt, new Date())))
    .orderBy(asc(policyHolds.createdAt));
  return rows.map((row) => ({ holdId: row.id, ruleName: row.ruleName, severity: row.severity, subject: row.subject, expiresAt: row.expiresAt.toISOString() }));
}

export async function findHold(db: Database, holdId: string) {
  const [row] = await db.select().from(policyHolds).where(eq(policyHolds.id, holdId));
  return row;
}
