// Which rules of the command policy bear on a session (their scopes), who acts when one does, and which action
// wins when several match.
import type { Actor } from "../../data/audit";
import type { CommandRuleRow } from "../../data/command-policy/rules";
import { namesPerson, type Person } from "../governance/decide";
import type { RuleAction } from "../../protocol/command-rules";
import type { Protocol } from "../../protocol/domain";

/** Who and what a session is, for the rules' scopes. */
export interface RuleScope {
  person: Person;
  target: { name: string; tags: string[] };
  protocol: Protocol;
  /** The access policies the session runs under (their names). */
  policyNames: string[];
}

const lower = (values: string[]) => values.map((value) => value.toLowerCase());

/** Each list of the rule's scope, when not empty, must name the session. */
export function ruleApplies(rule: CommandRuleRow, scope: RuleScope): boolean {
  if (!rule.enabled) return false;
  const targetNamed = rule.targetNames.length + rule.targetTags.length === 0 || lower(rule.targetNames).includes(scope.target.name.toLowerCase()) || rule.targetTags.some((tag) => scope.target.tags.includes(tag));
  const personNamed = rule.subjectUsers.length + rule.subjectGroups.length === 0 || namesPerson(rule.subjectUsers, rule.subjectGroups, scope.person);
  const protocolNamed = rule.protocols.length === 0 || rule.protocols.includes(scope.protocol);
  const policyNamed = rule.policyNames.length === 0 || lower(rule.policyNames).some((name) => lower(scope.policyNames).includes(name));
  return targetNamed && personNamed && protocolNamed && policyNamed;
}

/** Who acts when a rule locks, pauses or ends a session, in the audit log and the session's timeline. */
export const policyActor: Actor = { id: null, name: "command policy", sourceIp: null };

/** Which action wins when several rules match: the one that does most. */
const actionStrength: RuleAction[] = ["alert", "hold", "block", "pause", "lock", "terminate", "terminate_and_cancel"];

export function strongestRule<Rule extends Pick<CommandRuleRow, "action">>(rules: Rule[]): Rule {
  return rules.reduce((best, rule) => (actionStrength.indexOf(rule.action) > actionStrength.indexOf(best.action) ? rule : best));
}
