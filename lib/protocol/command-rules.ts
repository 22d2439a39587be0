// Command and request policy: the rules that watch what a person does in a live session, and the risk events
// their matches leave. Shared by the rules page, the watch page, the risk view and the route handlers.
import { z } from "zod";
import { protocolSchema } from "./domain";

/**
 * What a rule looks at. `command`: the line a terminal user is about to run, as the screen shows it at Enter;
 * `output`: a line the target printed; `web_request`: a proxied request, as `METHOD /path/*` (METHOD may be `*`);
 * `web_status`: a proxied response's status, as `403`, `5xx` or a comma-separated list of them; `clipboard`: a
 * desktop's clipboard transfer, as `paste`, `copy` or `any`, with a least size (`paste >= 4k`); `window_title`:
 * the title a desktop window takes, where the desktop reports it (RDP targets that run a RemoteApp program).
 */
export const ruleKindSchema = z.enum(["command", "output", "web_request", "web_status", "clipboard", "window_title"]);
export type RuleKind = z.infer<typeof ruleKindSchema>;

/** `regex`: a regular expression, case-insensitive; `words`: words or phrases, one per line, matched whole. */
export const matchModeSchema = z.enum(["regex", "words"]);
export type MatchMode = z.infer<typeof matchModeSchema>;

/**
 * What happens on a match. Every match is a risk event; `alert` also tells security. `block` withholds the Enter
 * (or answers a web request with 403); `hold` waits for someone in security to approve or deny it live. The
 * rest act on the whole session as a person from security would.
 */
export const ruleActionSchema = z.enum(["alert", "block", "hold", "lock", "pause", "terminate", "terminate_and_cancel"]);
export type RuleAction = z.infer<typeof ruleActionSchema>;

export const severitySchema = z.enum(["low", "medium", "high", "critical"]);
export type Severity = z.infer<typeof severitySchema>;

/** What one match adds to a session's risk score. */
export const severityWeight: Record<Severity, number> = { low: 1, medium: 5, high: 20, critical: 50 };

/** Which actions each kind of rule can take: output and status come after the fact, so nothing can be withheld. */
export const actionsByKind: Record<RuleKind, readonly RuleAction[]> = {
  command: ruleActionSchema.options,
  output: ["alert", "lock", "pause", "terminate", "terminate_and_cancel"],
  web_request: ["alert", "block", "hold", "terminate", "terminate_and_cancel"],
  web_status: ["alert", "terminate", "terminate_and_cancel"],
  // Only a paste can be blocked (it waits at the gateway until its end); a copy is on its way when it is seen.
  clipboard: ["alert", "block", "lock", "pause", "terminate", "terminate_and_cancel"],
  // A window is open when its title is seen: the session can be stopped, the window not withheld.
  window_title: ["alert", "lock", "pause", "terminate", "terminate_and_cancel"],
};

const nameList = z
  .union([z.array(z.string()), z.string()])
  .transform((value) => (Array.isArray(value) ? value : value.split(",")).map((item) => item.trim()).filter(Boolean))
  .pipe(z.array(z.string().max(128)).max(200));

const testLines = z
  .union([z.array(z.string()), z.string()])
  .transform((value) => (Array.isArray(value) ? value : value.split("\n")).map((line) => line.trim()).filter(Boolean))
  .pipe(z.array(z.string().max(1000, "A test line has at most 1000 characters")).max(50, "At most 50 test lines"));

/** Body of POST /api/admin/command-rules and PATCH …/<id>. The pattern and test lines are checked by lib/command-policy. */
export const commandRuleInputSchema = z
  .object({
    name: z.string().trim().min(1, "Name is required").max(80, "At most 80 characters"),
    description: z.string().trim().max(500, "At most 500 characters").default(""),
    enabled: z.boolean().default(true),
    kind: ruleKindSchema,
    matchMode: matchModeSchema.default("regex"),
    /** Not trimmed: a regular expression's blanks are part of it. */
    pattern: z
      .string()
      .max(2000, "At most 2000 characters")
      .refine((pattern) => pattern.trim() !== "", "A pattern is required"),
    action: ruleActionSchema,
    severity: severitySchema,
    /** How long a held command or request waits for a decision before it is denied. */
    holdSeconds: z.coerce.number({ message: "Must be a number" }).int("Must be whole").min(10, "At least 10 seconds").max(3600, "At most an hour").default(120),
    targetNames: nameList.default([]),
    targetTags: nameList.default([]),
    subjectUsers: nameList.default([]),
    subjectGroups: nameList.default([]),
    protocols: z.array(protocolSchema).max(4).default([]),
    policyNames: nameList.default([]),
    /** Lines the rule must match, and lines it must not: checked on every save. */
    testMatch: testLines.default([]),
    testNoMatch: testLines.default([]),
  })
  .refine((rule) => actionsByKind[rule.kind].includes(rule.action), { message: "This kind of rule cannot take that action", path: ["action"] })
  .refine((rule) => !(rule.kind === "clipboard" && rule.action === "block" && !/^\s*paste\b/i.test(rule.pattern)), {
    message: "Only a paste can be blocked: a copy is on its way to the browser when the gateway sees it",
    path: ["action"],
  });
export type CommandRuleInput = z.infer<typeof commandRuleInputSchema>;

/** What became of the matched command or request. */
export const riskOutcomeSchema = z.enum(["alerted", "blocked", "held", "approved", "denied", "timed_out", "locked", "paused", "terminated"]);
export type RiskOutcome = z.infer<typeof riskOutcomeSchema>;

export const riskEventSchema = z.object({
  id: z.number(),
  at: z.string(),
  /** Seconds into the session: where the player opens. */
  offsetSeconds: z.number(),
  ruleName: z.string(),
  severity: severitySchema,
  action: ruleActionSchema,
  outcome: riskOutcomeSchema,
  subject: z.string(),
  decidedBy: z.string().nullable(),
});
export type RiskEventView = z.infer<typeof riskEventSchema>;

/** A command or request waiting for security, as the watch page shows it. */
export const heldCommandSchema = z.object({ holdId: z.string(), ruleName: z.string(), severity: severitySchema, subject: z.string(), expiresAt: z.string() });
export type HeldCommand = z.infer<typeof heldCommandSchema>;

/** Body of POST /api/sessions/<id>/holds/<holdId>: security's answer to a held command or request. */
export const holdDecisionSchema = z.object({
  decision: z.enum(["approve", "deny"]),
  reason: z.string().trim().min(1, "Say why: the reason goes to the audit log").max(500, "At most 500 characters"),
});
export type HoldDecision = z.infer<typeof holdDecisionSchema>;
