// The command policy of web visits: each proxied request is matched against the session's web_request rules
// before it reaches the app (a block answers 403 with the reason; a hold waits for security), and its status
// against web_status rules after. Paths are matched as sent and as the app will read them (dot segments resolved, escapes decoded), so
// `/api/users/7/../7/delete` or `%64elete` cannot walk around a rule.
import { audit, type Actor } from "../../lib/data/audit";
import type { SessionRules } from "../../lib/domain/command-policy/rule-book";
import { recordRiskEvent, settleRiskEvent } from "../../lib/data/command-policy/risk";
import { policyActor, strongestRule } from "../../lib/domain/command-policy/rule-scope";
import type { CommandRuleRow } from "../../lib/data/command-policy/rules";
import type { RiskOutcome } from "../../lib/protocol/command-rules";
import type { Runtime } from "../../lib/infra/runtime";
import { controlSession } from "../../lib/domain/session-control";
import type { WebSessionRow } from "../../lib/data/web-sessions";
import { log } from "../../lib/infra/log";

/** Sessions whose compiled rules are kept; older ones are compiled again when they come back. */
const sessionsKept = 1000;

/** The request as sent and as the app will read it. */
export function requestSubjects(method: string, path: string): string[] {
  const rawPath = path.split("?")[0]!;
  let readPath = rawPath;
  try {
    readPath = decodeURIComponent(new URL(rawPath, "http://app").pathname);
  } catch {
    // A malformed escape: the app will not decode it either; the raw path is matched.
  }
  return [...new Set([`${method.toUpperCase()} ${rawPath}`, `${method.toUpperCase()} ${readPath.replace(/\/{2,}/g, "/")}`])];
}

export type RequestVerdict = { allowed: true } | { allowed: false; reason: string };

export function createRequestPolicy(runtime: Runtime) {
  const { db, ruleBook, holds } = runtime;
  const rulesOfSession = new Map<string, SessionRules>();

  function rulesOf(visit: WebSessionRow): SessionRules {
    let rules = rulesOfSession.get(visit.session.id);
    if (!rules) {
      if (rulesOfSession.size >= sessionsKept) rulesOfSession.delete(rulesOfSession.keys().next().value!);
      const person = { id: visit.session.userId, username: visit.username, email: visit.email, groups: visit.groups };
      rules = ruleBook.forSession({ person, target: visit.target, protocol: "web", policyNames: [] });
      rulesOfSession.set(visit.session.id, rules);
    }
    return rules;
  }

  const actorOf = (visit: WebSessionRow): Actor => ({ id: visit.session.userId, name: visit.username, sourceIp: visit.session.clientAddress });

  async function record(visit: WebSessionRow, rule: CommandRuleRow, outcome: RiskOutcome, subject: string): Promise<number | null> {
    return recordRiskEvent(db, actorOf(visit), { sessionId: visit.session.id, rule, outcome, subject }).catch((error) => {
      log.error({ err: error }, `recording a risk event of session ${visit.session.id} failed`);
      return null;
    });
  }

  /** The request waits for security's decision on the watch page; no answer in time refuses it. */
  async function hold(visit: WebSessionRow, rule: CommandRuleRow, subject: string): Promise<RequestVerdict> {
    const eventId = await record(visit, rule, "held", subject);
    const { outcome, by } = await holds.hold(visit.session.id, rule, subject);
    if (eventId !== null) await settleRiskEvent(db, eventId, outcome, by).catch((error) => log.error({ err: error }, `settling a hold in session ${visit.session.id} failed`));
    if (outcome === "approved") return { allowed: true };
    return { allowed: false, reason: outcome === "denied" ? `security (${by}) denied this request (${rule.name})` : `no one from security approved this request in time (${rule.name})` };
  }

  /** Terminates as security would, through the control bus; the rule is the reason. */
  async function terminate(visit: WebSessionRow, rule: CommandRuleRow, subject: string) {
    const action = rule.action === "terminate_and_cancel" ? "terminate_and_cancel" : "terminate";
    await controlSession(runtime, policyActor, visit.session.id, { action, reason: `rule ${rule.name} matched: ${subject.slice(0, 200)}` }).catch((error) =>
      log.error({ err: error }, `the command policy could not end web session ${visit.session.id}`),
    );
  }

  /** Every match is recorded; the strongest rule's action is taken. */
  async function act(visit: WebSessionRow, matched: CommandRuleRow[], subject: string): Promise<RequestVerdict> {
    const strongest = strongestRule(matched);
    for (const rule of matched) if (rule !== strongest) await record(visit, rule, "alerted", subject);
    if (strongest.action === "alert") {
      await record(visit, strongest, "alerted", subject);
      return { allowed: true };
    }
    if (strongest.action === "hold") return hold(visit, strongest, subject);
    await record(visit, strongest, strongest.action === "block" ? "blocked" : "terminated", subject);
    if (strongest.action !== "block") await terminate(visit, strongest, subject);
    return { allowed: false, reason: `the command policy does not allow this request (${strongest.name})` };
  }

  return {
    /** Before the request goes to the app. */
    async check(visit: WebSessionRow, method: string, path: string): Promise<RequestVerdict> {
      const rules = rulesOf(visit).of("web_request");
      if (rules.size === 0) return { allowed: true };
      const subjects = requestSubjects(method, path);
      const matched = await rules.match(subjects);
      if (matched === "undecided") {
        if (rules.rules.every((rule) => rule.action === "alert")) return { allowed: true };
        await audit(db, actorOf(visit), { action: "session.policy_match", outcome: "refused", objectType: "session", objectId: visit.session.id, details: { subject: subjects[0], problem: "the rules could not check the request in time" } });
        return { allowed: false, reason: "the command policy could not check this request in time" };
      }
      return matched.length === 0 ? { allowed: true } : act(visit, matched, subjects[0]!.slice(0, 2000));
    },

    /** After the app answered: its status against the web_status rules. */
    async answered(visit: WebSessionRow, method: string, path: string, status: number) {
      const rules = rulesOf(visit).of("web_status");
      if (rules.size === 0) return;
      const matched = await rules.match([String(status)]);
      if (matched !== "undecided" && matched.length > 0) await act(visit, matched, `${status} ${requestSubjects(method, path)[0]}`.slice(0, 2000));
    },
  };
}
