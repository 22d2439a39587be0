// The one access decision: may this person use this target at this moment from this address, and if so until
// when and under which request. Pure: the caller loads the facts (lib/data/governance/access.ts), so the ticket API, the
// gate, the pages and the sweep that re-checks live sessions all decide alike.
import { canReach } from "../access";
import type { PolicyRow } from "../../data/governance/policies";
import type { RequestRow } from "../../data/governance/requests";
import { addressIn, networkList } from "../../infra/http/client-address";
import type { Role } from "../../protocol/domain";
import { describeWindows, isInWindow, windowEnd } from "./windows";

export interface Person {
  id: string;
  username: string;
  email: string | null;
  groups: string[];
}

export interface Reachable {
  id: string;
  name: string;
  tags: string[];
  allowedUsers: string[];
  allowedGroups: string[];
}

export type DenialCode = "not_listed" | "cancelled" | "outside_window" | "network" | "concurrency" | "needs_request" | "request_pending" | "request_scheduled" | "notice_not_accepted";

export type AccessDecision =
  | {
      allowed: true;
      /** The policies that bound this access (empty: the target's own allow lists). */
      policies: string[];
      requestId: string | null;
      /** When the access ends (the request's window, a weekly window, a policy's end date); null: no end. */
      endsAt: Date | null;
      /** How far the time limit may be extended within the policies; null: as far as the target allows. */
      extendableUntil: Date | null;
      recordingRequired: boolean;
      /** The person may be shown the target's password: only under a request, and only where every policy allows it. */
      mayRevealCredential: boolean;
      /** A password shown is marked for rotation. */
      rotateAfterCheckout: boolean;
      /** The logon notice must be accepted before connecting. */
      noticeRequired: boolean;
    }
  | { allowed: false; code: DenialCode; reason: string; /** A request would make it possible. */ requestable: boolean };

export interface Cancellation {
  by: string;
  at: Date;
  reason: string;
}

export interface DecisionFacts {
  person: Person;
  target: Reachable;
  at: Date;
  /** As the gateway established it; null where it is unknown (a re-check of a session opened before it was kept). */
  clientAddress: string | null;
  policies: PolicyRow[];
  /** Security cancelled this person's access to the target: who, when and why (null: not cancelled). */
  cancelled: Cancellation | null;
  /** The person's open sessions, for the concurrency limits; omitted when re-checking a session already open. */
  openSessions?: { targetName: string; tags: string[] }[];
  /** Whether the person has accepted the logon notice as it reads now (true where there is none to accept). */
  noticeAccepted: boolean;
  /** The person's pending and approved requests that name this target. */
  requests: Pick<RequestRow, "id" | "status" | "windowStartsAt" | "windowEndsAt" | "extendableUntil">[];
}

const lower = (values: string[]) => values.map((value) => value.toLowerCase());

export function policyCovers(policy: Pick<PolicyRow, "targetNames" | "targetTags">, target: Pick<Reachable, "name" | "tags">): boolean {
  return lower(policy.targetNames).includes(target.name.toLowerCase()) || policy.targetTags.some((tag) => target.tags.includes(tag));
}

/** Whether a list of usernames or e-mails (any case) and a list of groups name the person. */
export function namesPerson(people: string[], groups: string[], person: Person): boolean {
  const own = [person.username, person.email].filter((name): name is string => Boolean(name)).map((name) => name.toLowerCase());
  return lower(people).some((name) => own.includes(name)) || groups.some((group) => person.groups.includes(group));
}

export const policyNames = (policy: Pick<PolicyRow, "subjectUsers" | "subjectGroups">, person: Person) => namesPerson(policy.subjectUsers, policy.subjectGroups, person);

/** Whether the person may decide requests under this policy (never their own: the caller checks that). */
export function policyApprover(policy: Pick<PolicyRow, "approverUsers" | "approverGroups" | "approverRoles">, person: Person & { roles: Role[] }): boolean {
  return namesPerson(policy.approverUsers, policy.approverGroups, person) || policy.approverRoles.some((role) => person.roles.includes(role));
}

export const policyReviewer = (policy: Pick<PolicyRow, "reviewerUsers" | "reviewerGroups">, person: Person) => namesPerson(policy.reviewerUsers, policy.reviewerGroups, person);
export const policyAuditor = (policy: Pick<PolicyRow, "auditorUsers" | "auditorGroups">, person: Person) => namesPerson(policy.auditorUsers, policy.auditorGroups, person);

/** The policies that bind this person on this target. */
export function applicablePolicies(policies: PolicyRow[], person: Person, target: Reachable): PolicyRow[] {
  return policies.filter((policy) => policyCovers(policy, target) && policyNames(policy, person)).sort((a, b) => a.name.localeCompare(b.name));
}

/** The policies a request for this activity on this target is made under: they bind the requester there and need a request. */
export function requestPolicies(policies: PolicyRow[], activity: { policyIds: string[] }, requester: Person, target: Reachable): PolicyRow[] {
  return applicablePolicies(policies, requester, target).filter((policy) => activity.policyIds.includes(policy.id) && policy.access !== "standing");
}

/**
 * Whether `person` may decide a request, never their own. Access to targets: an approver of a policy needing
 * approval it is made under, for every target. A recording: an approver of a policy covering its target.
 */
export function mayApprove(
  policies: PolicyRow[],
  request: { kind: "access" | "recording"; activity: { policyIds: string[] } | undefined },
  requester: Person,
  requested: Reachable[],
  person: Person & { roles: Role[] },
): boolean {
  if (person.id === requester.id || requested.length === 0) return false;
  if (request.kind === "recording") return requested.some((target) => policies.some((policy) => policyCovers(policy, target) && policyApprover(policy, person)));
  const { activity } = request;
  return activity !== undefined && requested.every((target) => requestPolicies(policies, activity, requester, target).some((policy) => policy.access === "approval" && policyApprover(policy, person)));
}

/** "2026-11-30 10:00 UTC": how the gateway writes a moment in a reason. */
export const utcMinute = (date: Date) => date.toISOString().replace("T", " ").slice(0, 16) + " UTC";

const earliest = (...dates: (Date | null)[]) => dates.reduce<Date | null>((soonest, date) => (date && (!soonest || date < soonest) ? date : soonest), null);

export function decide(facts: DecisionFacts): AccessDecision {
  const { person, target, at } = facts;
  if (facts.cancelled) {
    const { by, at, reason } = facts.cancelled;
    return { allowed: false, code: "cancelled", reason: `your access to ${target.name} was cancelled by ${by} at ${utcMinute(at)} (${reason}); ask ${by} or an administrator to restore it`, requestable: false };
  }
  const policies = applicablePolicies(facts.policies, person, target);
  if (policies.length === 0) {
    return canReach(person, target)
      ? { allowed: true, policies: [], requestId: null, endsAt: null, extendableUntil: null, recordingRequired: false, mayRevealCredential: false, rotateAfterCheckout: false, noticeRequired: false }
      : { allowed: false, code: "not_listed", reason: "you may not reach this target", requestable: false };
  }
  const requestable = policies.some((policy) => policy.access !== "standing");
  const deny = (code: DenialCode, reason: string): AccessDecision => ({ allowed: false, code, reason, requestable });

  // Every condition of every policy that binds the person must hold: the most restrictive wins.
  let endsAt: Date | null = null;
  for (const policy of policies) {
    if (policy.validFrom && at < policy.validFrom) return deny("outside_window", `policy ${policy.name} allows access from ${utcMinute(policy.validFrom)}`);
    if (policy.validUntil && at >= policy.validUntil) return deny("outside_window", `policy ${policy.name} allowed access until ${utcMinute(policy.validUntil)}`);
    if (!isInWindow(policy.weeklyWindows, at, policy.timeZone)) return deny("outside_window", `policy ${policy.name} allows access ${describeWindows(policy.weeklyWindows, policy.timeZone)} only`);
    if (policy.sourceNetworks.length > 0) {
      const networks = networkList(policy.sourceNetworks);
      if ("problem" in networks || !facts.clientAddress || !addressIn(networks, facts.clientAddress)) {
        return deny("network", `your address ${facts.clientAddress ?? "(unknown)"} is not in the networks policy ${policy.name} allows`);
      }
    }
    endsAt = earliest(endsAt, policy.validUntil, policy.weeklyWindows.length > 0 ? windowEnd(policy.weeklyWindows, at, policy.timeZone) : null);
  }
  if (facts.openSessions) {
    for (const policy of policies.filter((candidate) => candidate.maxConcurrentSessions > 0)) {
      const open = facts.openSessions.filter((session) => policyCovers(policy, { name: session.targetName, tags: session.tags })).length;
      if (open >= policy.maxConcurrentSessions) {
        return deny("concurrency", `policy ${policy.name} allows ${policy.maxConcurrentSessions} session${policy.maxConcurrentSessions === 1 ? "" : "s"} at once on its targets, and you have ${open} open`);
      }
    }
  }
  const recordingRequired = policies.some((policy) => policy.requireRecording);
  const terms = {
    recordingRequired,
    rotateAfterCheckout: policies.some((policy) => policy.rotateAfterCheckout),
    noticeRequired: policies.some((policy) => policy.requireNoticeAcceptance),
  };
  const names = policies.map((policy) => policy.name);
  const shortest = policies.filter((policy) => policy.maxDurationMinutes > 0).map((policy) => policy.maxDurationMinutes);
  if (terms.noticeRequired && !facts.noticeAccepted) return deny("notice_not_accepted", `accept the logon notice before connecting to ${target.name}`);
  if (!requestable) {
    // Standing access under a longest duration: each session is held to it.
    const limit = shortest.length > 0 ? new Date(at.getTime() + Math.min(...shortest) * 60_000) : null;
    const end = earliest(endsAt, limit);
    return { allowed: true, policies: names, requestId: null, endsAt: end, extendableUntil: end, ...terms, mayRevealCredential: false };
  }
  const current = facts.requests.find((request) => request.status === "approved" && request.windowStartsAt && request.windowEndsAt && request.windowStartsAt <= at && at < request.windowEndsAt);
  if (!current) {
    if (facts.requests.some((request) => request.status === "pending")) return deny("request_pending", `your access request for ${target.name} is waiting for approval`);
    const next = facts.requests.find((request) => request.status === "approved" && request.windowStartsAt && request.windowStartsAt > at);
    if (next) return deny("request_scheduled", `your approved access to ${target.name} starts at ${utcMinute(next.windowStartsAt!)}`);
    return deny("needs_request", `${target.name} needs an approved access request (${names.join(", ")})`);
  }
  return {
    allowed: true,
    policies: names,
    requestId: current.id,
    endsAt: earliest(endsAt, current.windowEndsAt),
    extendableUntil: earliest(endsAt, current.extendableUntil),
    ...terms,
    mayRevealCredential: policies.every((policy) => policy.allowCredentialReveal),
  };
}

export type RecordingAccess =
  | { allowed: true; via: "role" | "policy" | "audit" | "request"; requestId: string | null }
  | { allowed: false; reason: string; /** A recording access request could open it. */ requestable: boolean };

/**
 * Who may open a session's recording. Where no policy covers its target, the reviewer and admin roles (as before
 * policies). Where policies do: a reviewer or admin those policies name as reviewers; an auditor the session was
 * assigned to; or whoever holds an approved recording access request for it, in its window.
 */
export function decideRecordingAccess(facts: {
  person: Person & { roles: Role[] };
  target: Pick<Reachable, "name" | "tags">;
  policies: PolicyRow[];
  /** The policies that assigned this session to auditors. */
  auditedUnder: string[];
  /** The person's approved recording requests for this session. */
  requests: Pick<RequestRow, "id" | "windowStartsAt" | "windowEndsAt">[];
  at: Date;
}): RecordingAccess {
  const { person, target, at } = facts;
  const reviewerRole = person.roles.includes("reviewer") || person.roles.includes("admin");
  const assigning = facts.policies.filter((policy) => facts.auditedUnder.includes(policy.id));
  if (assigning.some((policy) => policyAuditor(policy, person))) return { allowed: true, via: "audit", requestId: null };
  const covering = facts.policies.filter((policy) => policyCovers(policy, target));
  if (covering.length === 0) {
    return reviewerRole ? { allowed: true, via: "role", requestId: null } : { allowed: false, reason: "opening recordings needs the reviewer role", requestable: false };
  }
  if (!reviewerRole) return { allowed: false, reason: "opening recordings needs the reviewer role", requestable: false };
  if (covering.some((policy) => policyReviewer(policy, person))) return { allowed: true, via: "policy", requestId: null };
  const granted = facts.requests.find((request) => request.windowStartsAt && request.windowEndsAt && request.windowStartsAt <= at && at < request.windowEndsAt);
  if (granted) return { allowed: true, via: "request", requestId: granted.id };
  return {
    allowed: false,
    reason: `recordings of ${target.name} open to the reviewers of ${covering.map((policy) => policy.name).join(", ")}, or with an approved justification`,
    requestable: covering.some((policy) => policy.approverUsers.length + policy.approverGroups.length + policy.approverRoles.length > 0),
  };
}
