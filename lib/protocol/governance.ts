// Payloads of the governance API (access policies, activities, access requests and their decisions), shared by
// the pages' forms and the route handlers.
import { z } from "zod";
import { parseNetwork } from "../infra/http/client-address";
import { roleNames } from "./domain";

/** standing: the people named may connect within the conditions; approval: each use needs an approved request; auto_approve: requests are approved at once, still capped by the longest duration. */
export const accessModeSchema = z.enum(["standing", "approval", "auto_approve"]);
export type AccessMode = z.infer<typeof accessModeSchema>;

/** What is stored; `available`, `active` and `scheduled` are read off an approved request's window (requestPhase). */
export const requestStatusSchema = z.enum(["pending", "approved", "denied", "cancelled", "revoked", "expired"]);
export type RequestStatus = z.infer<typeof requestStatusSchema>;

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, "Use a time such as 08:00 (24-hour)");

/** ISO days: 1 is Monday, 7 is Sunday. A window that crosses midnight is written as two. */
export const weeklyWindowSchema = z
  .object({
    days: z.array(z.number().int().min(1).max(7)).min(1, "Pick at least one day").max(7),
    from: clock,
    to: clock,
  })
  .refine((window) => window.from < window.to, { message: "The window must end after it starts (write one crossing midnight as two)", path: ["to"] });
export type WeeklyWindow = z.infer<typeof weeklyWindowSchema>;

const name = z
  .string()
  .trim()
  .min(1, "Name is required")
  .max(64, "Name must be at most 64 characters")
  .regex(/^[a-z0-9][a-z0-9 ._-]*$/i, "Use letters, digits, spaces, dots, dashes and underscores");

/** A list or a comma-separated string, so a form's text field and an API array both work. */
const nameList = z
  .union([z.array(z.string()), z.string()])
  .transform((value) => (Array.isArray(value) ? value : value.split(",")).map((item) => item.trim()).filter(Boolean))
  .pipe(z.array(z.string().max(128)).max(200));

const timeZone = z
  .string()
  .trim()
  .max(64, "Not a time zone; use an IANA name such as Europe/Berlin or UTC")
  .default("UTC")
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat("en", { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, "Not a time zone; use an IANA name such as Europe/Berlin or UTC");

const optionalDate = z
  .union([z.iso.datetime({ offset: true, message: "Use a date and time such as 2026-12-01T08:00:00Z" }), z.literal(""), z.null()])
  .transform((value) => (value ? new Date(value) : null))
  .default(null);

const minutes = (max: number) => z.coerce.number({ message: "Must be a number" }).int("Must be whole").min(0, "Cannot be negative").max(max, `At most ${max}`);

export const policyInputSchema = z
  .object({
    name,
    description: z.string().trim().max(500).default(""),
    targetNames: nameList.default([]),
    targetTags: nameList.default([]),
    subjectUsers: nameList.default([]),
    subjectGroups: nameList.default([]),
    access: accessModeSchema,
    approverUsers: nameList.default([]),
    approverGroups: nameList.default([]),
    approverRoles: z.array(z.enum(roleNames)).max(4).default([]),
    requiredApprovals: z.coerce.number().int().min(1, "At least one approval").max(10, "At most 10").default(1),
    reviewerUsers: nameList.default([]),
    reviewerGroups: nameList.default([]),
    auditorUsers: nameList.default([]),
    auditorGroups: nameList.default([]),
    auditSamplePercent: z.coerce.number({ message: "Must be a number" }).int("Must be whole").min(0, "0 to 100").max(100, "0 to 100").default(0),
    weeklyWindows: z.array(weeklyWindowSchema).max(21).default([]),
    timeZone,
    validFrom: optionalDate,
    validUntil: optionalDate,
    sourceNetworks: nameList.pipe(z.array(z.string().refine((entry) => parseNetwork(entry) !== null, "Use networks such as 10.0.0.0/8 or 2001:db8::/32"))).default([]),
    maxDurationMinutes: minutes(30 * 24 * 60).default(0),
    maxConcurrentSessions: minutes(1000).default(0),
    allowCredentialReveal: z.boolean().default(false),
    rotateAfterCheckout: z.boolean().default(true),
    requireNoticeAcceptance: z.boolean().default(false),
    requireRecording: z.boolean().default(false),
  })
  .superRefine((policy, context) => {
    if (policy.targetNames.length === 0 && policy.targetTags.length === 0) context.addIssue({ code: "custom", path: ["targetTags"], message: "Name at least one target or tag" });
    if (policy.subjectUsers.length === 0 && policy.subjectGroups.length === 0) context.addIssue({ code: "custom", path: ["subjectGroups"], message: "Name at least one user or group" });
    if (policy.access === "approval" && policy.approverUsers.length + policy.approverGroups.length + policy.approverRoles.length === 0) {
      context.addIssue({ code: "custom", path: ["approverGroups"], message: "Name who approves: users, groups or a role" });
    }
    if (policy.auditSamplePercent > 0 && policy.auditorUsers.length + policy.auditorGroups.length === 0) {
      context.addIssue({ code: "custom", path: ["auditorGroups"], message: "Name the auditors the sessions go to" });
    }
    if (policy.validFrom && policy.validUntil && policy.validUntil <= policy.validFrom) context.addIssue({ code: "custom", path: ["validUntil"], message: "Must be after the start" });
  });
export type PolicyInput = z.output<typeof policyInputSchema>;

export const activityInputSchema = z.object({
  name,
  description: z.string().trim().max(500).default(""),
  policyIds: z.array(z.uuid()).min(1, "Tie the activity to at least one policy").max(50),
  ticketPattern: z
    .union([z.string().trim().max(200), z.null()])
    .transform((value) => value || null)
    .refine((pattern) => {
      if (pattern === null) return true;
      try {
        new RegExp(pattern, "u");
        return true;
      } catch {
        return false;
      }
    }, "Not a regular expression")
    .default(null),
});
export type ActivityInput = z.output<typeof activityInputSchema>;

export const accessRequestInputSchema = z.object({
  activityId: z.uuid("Pick an activity"),
  targetIds: z.array(z.uuid()).min(1, "Pick at least one resource").max(20, "At most 20 resources in one request"),
  notes: z.string().trim().max(2000).default(""),
  ticket: z
    .union([z.string().trim().max(64), z.null()])
    .transform((value) => value || null)
    .default(null),
  /** Empty or absent: now. */
  startsAt: optionalDate,
  durationMinutes: z.coerce.number({ message: "Must be a number" }).int("Must be whole").min(5, "At least 5 minutes").max(30 * 24 * 60, "At most 30 days"),
});
export type AccessRequestInput = z.output<typeof accessRequestInputSchema>;

export const requestDecisionSchema = z.object({
  decision: z.enum(["approve", "deny"]),
  comment: z.string().trim().max(1000).default(""),
});

/** Closing a request: its requester cancels, security or an approver revokes. */
export const requestClosingSchema = z.object({ reason: z.string().trim().max(500).default("") });

/** Asking to open one session's recording: why, and for how long. */
export const recordingRequestInputSchema = z.object({
  justification: z.string().trim().min(10, "Say why, in a sentence: approvers read it").max(2000),
  durationMinutes: z.coerce.number({ message: "Must be a number" }).int("Must be whole").min(5, "At least 5 minutes").max(7 * 24 * 60, "At most 7 days").default(24 * 60),
});

/** An auditor's step on an assigned session. */
export const auditUpdateSchema = z.object({
  status: z.enum(["in_review", "reviewed", "flagged"]),
  notes: z.string().trim().max(4000).default(""),
});
