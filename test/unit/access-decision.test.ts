import { describe, expect, it } from "vitest";
import type { PolicyRow } from "@/lib/data/governance/policies";
import { decide, decideRecordingAccess, type DecisionFacts } from "@/lib/domain/governance/decide";
import type { Role } from "@/lib/protocol/domain";
import { parseWindowLines, windowEnd } from "@/lib/domain/governance/windows";

const carol = { id: "u-carol", username: "carol", email: "carol@example.com", groups: ["contractors"] };
const db01 = { id: "t-db01", name: "db-01", tags: ["prod", "db"], allowedUsers: [], allowedGroups: [] };
// Monday 2026-11-30 10:00 UTC is 11:00 in Berlin.
const mondayMorning = new Date("2026-11-30T10:00:00Z");

function policy(overrides: Partial<PolicyRow>): PolicyRow {
  return {
    id: "p-" + (overrides.name ?? "prod"),
    name: "prod",
    description: "",
    targetNames: [],
    targetTags: ["prod"],
    subjectUsers: [],
    subjectGroups: ["contractors"],
    access: "standing",
    approverUsers: [],
    approverGroups: ["dba-leads"],
    approverRoles: [],
    requiredApprovals: 1,
    reviewerUsers: [],
    reviewerGroups: [],
    auditorUsers: [],
    auditorGroups: [],
    auditSamplePercent: 0,
    weeklyWindows: [],
    timeZone: "UTC",
    validFrom: null,
    validUntil: null,
    sourceNetworks: [],
    maxDurationMinutes: 0,
    maxConcurrentSessions: 0,
    allowCredentialReveal: false,
    rotateAfterCheckout: true,
    requireNoticeAcceptance: false,
    requireRecording: false,
    createdAt: mondayMorning,
    updatedAt: mondayMorning,
    ...overrides,
  };
}

const facts = (overrides: Partial<DecisionFacts>): DecisionFacts => ({ person: carol, target: db01, at: mondayMorning, clientAddress: "10.1.2.3", policies: [], cancelled: null, requests: [], noticeAccepted: true, ...overrides });

describe("access decision", () => {
  it("keeps the target's allow lists as standing access where no policy names the person", () => {
    expect(decide(facts({ target: { ...db01, allowedUsers: ["carol"] } }))).toMatchObject({ allowed: true, policies: [], endsAt: null });
    expect(decide(facts({}))).toMatchObject({ allowed: false, code: "not_listed" });
    // A policy for someone else does not bind Carol.
    expect(decide(facts({ target: { ...db01, allowedUsers: ["carol"] }, policies: [policy({ subjectGroups: ["engineers"], access: "approval" })] }))).toMatchObject({ allowed: true });
  });

  it("refuses cancelled access whatever the policies say", () => {
    expect(decide(facts({ policies: [policy({})], cancelled: { by: "sam", at: new Date("2026-11-23T09:05:00Z"), reason: "left the project" } }))).toMatchObject({
      allowed: false,
      code: "cancelled",
      reason: "your access to db-01 was cancelled by sam at 2026-11-23 09:05 UTC (left the project); ask sam or an administrator to restore it",
      requestable: false,
    });
  });

  it("allows inside a weekly window in the policy's time zone and ends access when the window closes", () => {
    const office = policy({ weeklyWindows: [{ days: [1, 2, 3, 4, 5], from: "08:00", to: "18:00" }], timeZone: "Europe/Berlin" });
    const decision = decide(facts({ policies: [office] }));
    expect(decision).toMatchObject({ allowed: true, policies: ["prod"] });
    expect(decision.allowed && decision.endsAt?.toISOString()).toBe("2026-11-30T17:00:00.000Z");
    const evening = decide(facts({ policies: [office], at: new Date("2026-11-30T17:30:00Z") }));
    expect(evening).toMatchObject({ allowed: false, code: "outside_window" });
    expect(!evening.allowed && evening.reason).toBe("policy prod allows access Mon–Fri 08:00–18:00 (Europe/Berlin) only");
    expect(decide(facts({ policies: [office], at: new Date("2026-12-05T10:00:00Z") }))).toMatchObject({ allowed: false, code: "outside_window" });
  });

  it("follows back-to-back windows across midnight to the end of the stretch", () => {
    const windows = [
      { days: [1], from: "20:00", to: "24:00" },
      { days: [2], from: "00:00", to: "06:00" },
    ];
    expect(windowEnd(windows, new Date("2026-11-30T22:15:30Z"), "UTC")?.toISOString()).toBe("2026-12-01T06:00:00.000Z");
  });

  it("checks the client's address against every policy's networks, IPv4-mapped forms included", () => {
    const office = policy({ sourceNetworks: ["10.0.0.0/8", "2001:db8::/32"] });
    expect(decide(facts({ policies: [office] }))).toMatchObject({ allowed: true });
    expect(decide(facts({ policies: [office], clientAddress: "::ffff:10.9.9.9" }))).toMatchObject({ allowed: true });
    const outside = decide(facts({ policies: [office], clientAddress: "192.168.1.5" }));
    expect(!outside.allowed && outside.reason).toBe("your address 192.168.1.5 is not in the networks policy prod allows");
    expect(decide(facts({ policies: [office], clientAddress: null }))).toMatchObject({ allowed: false, code: "network" });
  });

  it("lets the most restrictive policy win: every condition of every applicable policy must hold", () => {
    const anywhere = policy({ name: "anywhere" });
    const vpnOnly = policy({ name: "vpn-only", targetNames: ["DB-01"], targetTags: [], sourceNetworks: ["172.16.0.0/12"] });
    expect(decide(facts({ policies: [anywhere, vpnOnly] }))).toMatchObject({ allowed: false, code: "network" });
    const short = policy({ name: "short", maxDurationMinutes: 30 });
    const long = policy({ name: "long", maxDurationMinutes: 120 });
    const decision = decide(facts({ policies: [long, short] }));
    expect(decision.allowed && decision.endsAt?.toISOString()).toBe("2026-11-30T10:30:00.000Z");
  });

  it("counts open sessions on the policy's targets against its limit", () => {
    const one = policy({ maxConcurrentSessions: 1 });
    expect(decide(facts({ policies: [one], openSessions: [{ targetName: "web-01", tags: ["web"] }] }))).toMatchObject({ allowed: true });
    const refused = decide(facts({ policies: [one], openSessions: [{ targetName: "db-02", tags: ["prod"] }] }));
    expect(!refused.allowed && refused.reason).toBe("policy prod allows 1 session at once on its targets, and you have 1 open");
  });

  it("needs an approved request in its window where a policy says so, and says what stands in the way", () => {
    const approval = policy({ access: "approval" });
    expect(decide(facts({ policies: [approval] }))).toMatchObject({ allowed: false, code: "needs_request", requestable: true });
    const pending = { id: "r1", status: "pending" as const, windowStartsAt: null, windowEndsAt: null, extendableUntil: null };
    expect(decide(facts({ policies: [approval], requests: [pending] }))).toMatchObject({ allowed: false, code: "request_pending" });
    const later = { ...pending, status: "approved" as const, windowStartsAt: new Date("2026-11-30T12:00:00Z"), windowEndsAt: new Date("2026-11-30T13:00:00Z") };
    expect(decide(facts({ policies: [approval], requests: [later] }))).toMatchObject({ allowed: false, code: "request_scheduled" });
    const now = { ...later, windowStartsAt: new Date("2026-11-30T09:30:00Z"), windowEndsAt: new Date("2026-11-30T10:45:00Z"), extendableUntil: new Date("2026-11-30T11:30:00Z") };
    const decision = decide(facts({ policies: [approval], requests: [now] }));
    expect(decision).toMatchObject({ allowed: true, requestId: "r1" });
    expect(decision.allowed && [decision.endsAt?.toISOString(), decision.extendableUntil?.toISOString()]).toEqual(["2026-11-30T10:45:00.000Z", "2026-11-30T11:30:00.000Z"]);
    const over = decide(facts({ policies: [approval], requests: [now], at: new Date("2026-11-30T10:45:00Z") }));
    expect(over).toMatchObject({ allowed: false, code: "needs_request" });
  });

  it("shows a password only under a request and only where every policy allows it", () => {
    const request = { id: "r1", status: "approved" as const, windowStartsAt: new Date("2026-11-30T09:00:00Z"), windowEndsAt: new Date("2026-11-30T11:00:00Z"), extendableUntil: null };
    const revealing = policy({ name: "a", access: "approval", allowCredentialReveal: true });
    expect(decide(facts({ policies: [revealing], requests: [request] }))).toMatchObject({ allowed: true, mayRevealCredential: true, rotateAfterCheckout: true });
    expect(decide(facts({ policies: [revealing, policy({ name: "b", access: "approval" })], requests: [request] }))).toMatchObject({ allowed: true, mayRevealCredential: false });
    expect(decide(facts({ policies: [policy({ allowCredentialReveal: true })] }))).toMatchObject({ allowed: true, mayRevealCredential: false });
  });

  it("asks for the logon notice to be accepted where a policy says so", () => {
    const noticed = policy({ requireNoticeAcceptance: true });
    expect(decide(facts({ policies: [noticed], noticeAccepted: false }))).toMatchObject({ allowed: false, code: "notice_not_accepted" });
    expect(decide(facts({ policies: [noticed] }))).toMatchObject({ allowed: true, noticeRequired: true });
    expect(decide(facts({ policies: [policy({})], noticeAccepted: false }))).toMatchObject({ allowed: true });
  });

  it("requires recording when any applicable policy does", () => {
    const decision = decide(facts({ policies: [policy({ name: "a" }), policy({ name: "b", requireRecording: true })] }));
    expect(decision).toMatchObject({ allowed: true, recordingRequired: true, policies: ["a", "b"] });
  });
});

describe("recording access", () => {
  const reviewer = { ...carol, roles: ["user", "reviewer"] as Role[] };
  const plain = { ...carol, roles: ["user"] as Role[] };
  const covered = policy({ approverGroups: ["dba-leads"] });
  const base = { target: db01, policies: [covered], auditedUnder: [], requests: [], at: mondayMorning };

  it("keeps the reviewer role's access where no policy covers the target", () => {
    expect(decideRecordingAccess({ ...base, person: reviewer, policies: [] })).toMatchObject({ allowed: true, via: "role" });
    expect(decideRecordingAccess({ ...base, person: plain, policies: [] })).toMatchObject({ allowed: false, requestable: false });
  });

  it("opens a covered target's recordings to the reviewers its policy names, others ask with a justification", () => {
    expect(decideRecordingAccess({ ...base, person: reviewer })).toMatchObject({ allowed: false, requestable: true });
    expect(decideRecordingAccess({ ...base, person: reviewer, policies: [policy({ reviewerUsers: ["CAROL"] })] })).toMatchObject({ allowed: true, via: "policy" });
    const granted = { id: "r9", windowStartsAt: new Date("2026-11-30T09:00:00Z"), windowEndsAt: new Date("2026-11-30T11:00:00Z") };
    expect(decideRecordingAccess({ ...base, person: reviewer, requests: [granted] })).toMatchObject({ allowed: true, via: "request", requestId: "r9" });
    expect(decideRecordingAccess({ ...base, person: reviewer, requests: [granted], at: new Date("2026-11-30T11:00:00Z") })).toMatchObject({ allowed: false });
    // Being named a reviewer does not make someone without the role one.
    expect(decideRecordingAccess({ ...base, person: plain, policies: [policy({ reviewerUsers: ["carol"] })] })).toMatchObject({ allowed: false, requestable: false });
  });

  it("opens a session to the auditors of the policy that assigned it, role or not", () => {
    const auditing = policy({ id: "p-audit", auditorGroups: ["contractors"], auditSamplePercent: 100 });
    expect(decideRecordingAccess({ ...base, person: plain, policies: [auditing], auditedUnder: ["p-audit"] })).toMatchObject({ allowed: true, via: "audit" });
    expect(decideRecordingAccess({ ...base, person: plain, policies: [auditing], auditedUnder: [] })).toMatchObject({ allowed: false });
  });
});

describe("window lines", () => {
  it("reads day ranges and lists", () => {
    expect(parseWindowLines("Mon-Fri 08:00-18:00\nsat,SUN 09:00–12:00")).toEqual([
      { days: [1, 2, 3, 4, 5], from: "08:00", to: "18:00" },
      { days: [6, 7], from: "09:00", to: "12:00" },
    ]);
  });

  it("says which line it cannot read", () => {
    expect(parseWindowLines("Funday 08:00-18:00")).toEqual({ problem: '"Funday 08:00-18:00": days are Mon, Tue, … Sun, or ranges such as Mon-Fri' });
    expect(parseWindowLines("Mon 8-18")).toMatchObject({ problem: expect.stringContaining("should look like") });
  });
});

describe("gate refusal reasons", () => {
  it("fit a close frame's 123 bytes, cut on a character boundary", async () => {
    const { closeReason } = await import("@/server/gate");
    const long = `policy prod allows access ${"Mon–Fri 08:00–18:00; ".repeat(10)}only`;
    const cut = closeReason(long);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(123);
    expect(cut.endsWith("…")).toBe(true);
    expect(cut).not.toContain("\uFFFD");
    expect(closeReason("short")).toBe("short");
  });
});

describe("ticket formats", () => {
  it("match as regular expressions, and a catastrophic one is cut off instead of stalling the gateway", async () => {
    const { ticketMatches } = await import("@/lib/domain/governance/ticket-pattern");
    expect(ticketMatches("^(INC|CHG)\\d{6}$", "CHG123456")).toBe(true);
    expect(ticketMatches("^(INC|CHG)\\d{6}$", "CHG12345")).toBe(false);
    expect(ticketMatches("^(a+)+$", `${"a".repeat(40)}!`)).toBe("undecided");
  });
});
