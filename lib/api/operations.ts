// The gateway's API, one entry per route: what it does, the roles it needs, the scope a token must carry and the
// schemas of what it takes. Routes are declared here and nowhere else (`apiRoute("GET /api/…", handler)`), so the
// OpenAPI document (lib/api/openapi.ts) is the API itself, and a test checks that every route file is listed.
import { z } from "zod";
import { accessRequestInputSchema, activityInputSchema, auditUpdateSchema, policyInputSchema, recordingRequestInputSchema, requestClosingSchema, requestDecisionSchema } from "../protocol/governance";
import { apiTokenInputSchema, apiTokenViewSchema, callerSchema, createdApiTokenSchema, serviceAccountInputSchema, type ApiScope } from "../protocol/api-tokens";
import { credentialInputSchema, credentialUpdateSchema, endSessionsRequestSchema, gatewaySettingsSchema, groupRoleMappingSchema, sessionUpdateSchema, targetInputSchema, userUpdateSchema } from "../protocol/admin";
import { auditExportSchema, auditPageSchema } from "../protocol/audit";
import { commandRuleInputSchema, holdDecisionSchema } from "../protocol/command-rules";
import type { Role } from "../protocol/domain";
import { exportSignatureSchema, signingKeySchema } from "../protocol/export-signature";
import { controlRequestSchema } from "../protocol/live";
import { videoExportRequestSchema, videoExportViewSchema } from "../protocol/video-exports";
import { recordingSearchQuerySchema, recordingWindowQuerySchema } from "../protocol/recordings";
import { sessionFilterSchema } from "../protocol/sessions";
import { targetPageQuerySchema } from "../protocol/target-search";
import { ticketRequestSchema } from "../protocol/tickets";

export interface Operation {
  summary: string;
  description?: string;
  /** Groups operations in the reference. */
  tag: string;
  /** The roles of which the caller must hold one; `anyone` for the few routes open without signing in. */
  role: Role | readonly Role[] | "anyone";
  /**
   * What a token must carry to call it: a scope, or `any` valid token; `null`: only a signed-in person may (issuing
   * tokens, checking out a password, opening a session).
   */
  scope: ApiScope | "any" | null;
  body?: z.ZodType;
  query?: z.ZodType;
  /** The answer's shape, where the route answers JSON that has a schema. */
  response?: z.ZodType;
}

export const operations = {
  "PATCH /api/admin/activities/{id}": {
    summary: "Changes an activity people may request.",
    tag: "Admin: activities",
    role: "admin",
    scope: "admin",
    body: activityInputSchema,
  },
  "DELETE /api/admin/activities/{id}": {
    summary: "Deletes an activity.",
    tag: "Admin: activities",
    role: "admin",
    scope: "admin",
  },
  "GET /api/admin/activities": {
    summary: "Every activity people may request, with the resources it covers.",
    tag: "Admin: activities",
    role: "admin",
    scope: "admin",
  },
  "POST /api/admin/activities": {
    summary: "Creates an activity people may request.",
    tag: "Admin: activities",
    role: "admin",
    scope: "admin",
    body: activityInputSchema,
  },
  "GET /api/admin/audit/export": {
    summary: "Every entry the filters match, oldest first, as CSV or JSON Lines (`format=csv|jsonl`).",
    description: `Every entry the filters match, oldest first, as CSV or JSON Lines (\`format=csv|jsonl\`); the export is audited.`,
    tag: "Admin: audit",
    role: ["admin", "security"],
    scope: "audit:read",
    query: auditExportSchema,
  },
  "GET /api/admin/audit": {
    summary: "A page of entries, newest first, filtered (`action` prefix, `actor`, `objectType`, `objectId`, `outcome`, `from`, `to`), older than `before`.",
    description: `A page of entries, newest first, filtered (\`action\` prefix, \`actor\`, \`objectType\`, \`objectId\`, \`outcome\`, \`from\`, \`to\`), older than \`before\`; with the chain's verification (\`verify=whole\` walks all of it now). Security reads the log as well as admins.`,
    tag: "Admin: audit",
    role: ["admin", "security"],
    scope: "audit:read",
    query: auditPageSchema,
  },
  "PATCH /api/admin/command-rules/{id}": {
    summary: "Changes a command-policy rule.",
    tag: "Admin: command-rules",
    role: "admin",
    scope: "admin",
    body: commandRuleInputSchema,
  },
  "DELETE /api/admin/command-rules/{id}": {
    summary: "Deletes a command-policy rule.",
    tag: "Admin: command-rules",
    role: "admin",
    scope: "admin",
  },
  "GET /api/admin/command-rules": {
    summary: "Every command-policy rule, the built-in pack among them.",
    tag: "Admin: command-rules",
    role: ["admin", "security"],
    scope: "sessions:read",
  },
  "POST /api/admin/command-rules": {
    summary: "Creates a command-policy rule.",
    tag: "Admin: command-rules",
    role: "admin",
    scope: "admin",
    body: commandRuleInputSchema,
  },
  "PATCH /api/admin/credentials/{id}": {
    summary: "Changes a vaulted credential (a new secret replaces the old; secrets are never read back).",
    tag: "Admin: credentials",
    role: "admin",
    scope: "admin",
    body: credentialUpdateSchema,
  },
  "DELETE /api/admin/credentials/{id}": {
    summary: "Deletes a vaulted credential no target uses.",
    tag: "Admin: credentials",
    role: "admin",
    scope: "admin",
  },
  "GET /api/admin/credentials": {
    summary: "The vaulted credentials, without their secrets.",
    tag: "Admin: credentials",
    role: "admin",
    scope: "admin",
  },
  "POST /api/admin/credentials": {
    summary: "Vaults a credential, encrypted at rest.",
    tag: "Admin: credentials",
    role: "admin",
    scope: "admin",
    body: credentialInputSchema,
  },
  "GET /api/admin/event-sinks": {
    summary: "Each SIEM sink (SIEM_SINKS): where it sends, the last event delivered, how many wait, its last error.",
    tag: "Admin: audit",
    role: ["admin", "security"],
    scope: "audit:read",
  },
  "GET /api/admin/nodes": {
    summary: "The fleet.",
    description: `The fleet: every node up, late or retired, with what it reported at its last heartbeat. Security and admins.`,
    tag: "Admin: nodes",
    role: ["admin", "security"],
    scope: "sessions:read",
  },
  "PATCH /api/admin/policies/{id}": {
    summary: "Changes an access policy.",
    tag: "Admin: policies",
    role: "admin",
    scope: "admin",
    body: policyInputSchema,
  },
  "DELETE /api/admin/policies/{id}": {
    summary: "Deletes an access policy.",
    tag: "Admin: policies",
    role: "admin",
    scope: "admin",
  },
  "GET /api/admin/policies": {
    summary: "Every access policy.",
    tag: "Admin: policies",
    role: "admin",
    scope: "admin",
  },
  "POST /api/admin/policies": {
    summary: "Creates an access policy.",
    tag: "Admin: policies",
    role: "admin",
    scope: "admin",
    body: policyInputSchema,
  },
  "GET /api/admin/role-mappings": {
    summary: "Which IdP groups grant which roles.",
    tag: "Admin: role-mappings",
    role: "admin",
    scope: "admin",
  },
  "POST /api/admin/role-mappings": {
    summary: "Maps an IdP group to a role; its members hold the role at once.",
    tag: "Admin: role-mappings",
    role: "admin",
    scope: "admin",
    body: groupRoleMappingSchema,
  },
  "DELETE /api/admin/role-mappings": {
    summary: "Removes a group-to-role mapping; its members lose the role at once.",
    tag: "Admin: role-mappings",
    role: "admin",
    scope: "admin",
    body: groupRoleMappingSchema,
  },
  "GET /api/admin/settings": {
    summary: "The gateway's settings.",
    tag: "Admin: settings",
    role: "admin",
    scope: "admin",
  },
  "PATCH /api/admin/settings": {
    summary: "Changes the gateway's settings.",
    tag: "Admin: settings",
    role: "admin",
    scope: "admin",
    body: gatewaySettingsSchema,
  },
  "DELETE /api/admin/targets/{id}/revocations/{userId}": {
    summary: "An admin restores a user's access to a target that security cancelled.",
    tag: "Admin: targets",
    role: "admin",
    scope: "admin",
  },
  "PATCH /api/admin/targets/{id}": {
    summary: "Changes a target.",
    tag: "Admin: targets",
    role: "admin",
    scope: "admin",
    body: targetInputSchema,
  },
  "DELETE /api/admin/targets/{id}": {
    summary: "Deletes a target.",
    tag: "Admin: targets",
    role: "admin",
    scope: "admin",
  },
  "GET /api/admin/targets": {
    summary: "A page of targets by name (`q`, `tag`, `after`).",
    description: `A page of targets by name (\`q\`, \`tag\`, \`after\`); a Link header names the next page when there is one.`,
    tag: "Admin: targets",
    role: "admin",
    scope: "admin",
    query: targetPageQuerySchema,
  },
  "POST /api/admin/targets": {
    summary: "Creates a target.",
    tag: "Admin: targets",
    role: "admin",
    scope: "admin",
    body: targetInputSchema,
  },
  "POST /api/admin/users/{id}/end-sessions": {
    summary: "Ends every live session of one person, on every node (terminals, desktops, web apps).",
    tag: "Admin: users",
    role: "admin",
    scope: "admin",
    body: endSessionsRequestSchema,
  },
  "PATCH /api/admin/users/{id}": {
    summary: "Grants roles to an account, or disables it (its live sessions end).",
    tag: "Admin: users",
    role: "admin",
    scope: "admin",
    body: userUpdateSchema,
  },
  "GET /api/admin/users": {
    summary: "Every account: people and service accounts.",
    tag: "Admin: users",
    role: "admin",
    scope: "admin",
  },
  "GET /api/approvals": {
    summary: "Requests this person may decide or oversee.",
    tag: "Approvals",
    role: "user",
    scope: "access",
  },
  "PATCH /api/audits/{sessionId}/{policyId}": {
    summary: "Records the caller's audit of a session: its status and comment.",
    tag: "Audits",
    role: "user",
    scope: "recordings:read",
    body: auditUpdateSchema,
  },
  "GET /api/audits": {
    summary: "The sessions assigned to the caller for audit.",
    description: `The sessions assigned to the caller for audit. Auditors are named by policies, not by a role.`,
    tag: "Audits",
    role: "user",
    scope: "recordings:read",
  },
  "POST /api/recordings/{id}/access-requests": {
    summary: "Asks to open this recording, with a justification the approvers read.",
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
    body: recordingRequestInputSchema,
  },
  "GET /api/recordings/{id}/export/signature": {
    summary: "The export's detached signature: its SHA-256 and size, signed (Ed25519) with the gateway's key.",
    description: "`gatehouse recordings verify --file <export>` checks a copy against it and against the gateway's public keys.",
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
    response: exportSignatureSchema,
  },
  "GET /api/recordings/signing-keys": {
    summary: "The public keys exports are signed with: the current one first, then those rotated out.",
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
    response: z.array(signingKeySchema),
  },
  "GET /api/recordings/{id}/video-exports": {
    summary: "The videos made, or being made, of a recording: the caller's own, everyone's for admins; with their progress.",
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
    response: z.array(videoExportViewSchema),
  },
  "POST /api/recordings/{id}/video-exports": {
    summary: "Queues an MP4 or WebM video of a desktop or web recording, rendered in the background; the requester is told when it is ready.",
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
    body: videoExportRequestSchema,
    response: videoExportViewSchema,
  },
  "GET /api/recordings/{id}/video-exports/{exportId}/file": {
    summary: "A ready video export, as a file; audited.",
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
  },
  "GET /api/recordings/{id}/video-exports/{exportId}/signature": {
    summary: "A video export's detached signature: its SHA-256 and size, signed with the gateway's key.",
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
    response: exportSignatureSchema,
  },
  "GET /api/recordings/{id}/export": {
    summary: "The whole recording in the format its players read.",
    description: "asciicast v2 (`.cast`) for terminals, the Guacamole instruction stream (`.guac`) for desktops, rrweb's events as a JSON array (`.json`, for `rrweb-player`) for web apps; streamed, and audited. `X-Recording-Kind` says which.",
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
  },
  "GET /api/recordings/{id}/commands": {
    summary: "The commands typed in a session with their time offsets.",
    description: `The commands typed in a session with their time offsets: the player's markers.`,
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
  },
  "GET /api/recordings/{id}/desktop": {
    summary: "A stretch of a desktop recording for the player.",
    description: `A stretch of a desktop recording for the player: \`?at=<ms>\` to seek (from the full frame before it), \`?seq=<chunk>\` to continue.`,
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
    query: recordingWindowQuerySchema,
  },
  "GET /api/recordings/{id}/page-events": {
    summary: "A stretch of a web recording for the player.",
    description: `A stretch of a web recording for the player: \`?at=<ms>\` to seek (from the full snapshot before it), \`?seq=<chunk>\` to continue.`,
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
    query: recordingWindowQuerySchema,
  },
  "GET /api/recordings/{id}/verify": {
    summary: "Whether the recording is whole and untouched, and if not, the first chunk where it is not.",
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
  },
  "GET /api/recordings/{id}/window": {
    summary: "A stretch of a terminal recording for the player.",
    description: `A stretch of a terminal recording for the player: \`?at=<ms>\` to seek, \`?seq=<chunk>\` to continue.`,
    tag: "Recordings",
    role: "user",
    scope: "recordings:read",
    query: recordingWindowQuerySchema,
  },
  "GET /api/recordings/search": {
    summary: "Commands and output lines matching the words or the text, newest sessions first, of recordings the caller may open.",
    tag: "Recordings",
    role: ["reviewer", "admin"],
    scope: "recordings:read",
    query: recordingSearchQuerySchema,
  },
  "POST /api/requests/{id}/cancel": {
    summary: "The requester withdraws a pending request.",
    tag: "Requests",
    role: "user",
    scope: "access",
    body: requestClosingSchema,
  },
  "POST /api/requests/{id}/decision": {
    summary: "Approvers are named by policies, not by a role.",
    description: `Approvers are named by policies, not by a role: who may decide is checked per request.`,
    tag: "Requests",
    role: "user",
    scope: "access",
    body: requestDecisionSchema,
  },
  "POST /api/requests/{id}/revoke": {
    summary: "An approver revokes an approved request before it ends.",
    tag: "Requests",
    role: "user",
    scope: "access",
    body: requestClosingSchema,
  },
  "GET /api/requests/{id}": {
    summary: "One request, for its requester or someone who may decide it.",
    tag: "Requests",
    role: "user",
    scope: "access",
  },
  "GET /api/requests/options": {
    summary: "The activities this person may request, each with the resources it covers for them.",
    tag: "Requests",
    role: "user",
    scope: "access",
  },
  "GET /api/requests": {
    summary: "The caller's own requests, newest first.",
    tag: "Requests",
    role: "user",
    scope: "access",
  },
  "POST /api/requests": {
    summary: "Asks for access to an activity, for a time window, with a justification.",
    tag: "Requests",
    role: "user",
    scope: "access",
    body: accessRequestInputSchema,
  },
  "POST /api/sessions/{id}/control": {
    summary: "Security locks, unlocks, pauses, resumes or terminates a live session on whichever node runs it.",
    tag: "Sessions",
    role: ["security", "admin"],
    scope: "sessions:control",
    body: controlRequestSchema,
  },
  "POST /api/sessions/{id}/holds/{holdId}": {
    summary: "Security approves or denies a command or request the command policy holds for them.",
    tag: "Sessions",
    role: ["security", "admin"],
    scope: "sessions:control",
    body: holdDecisionSchema,
  },
  "GET /api/sessions/{id}/holds": {
    summary: "What the command policy holds in a session now, waiting for security.",
    tag: "Sessions",
    role: ["security", "admin"],
    scope: "sessions:read",
  },
  "GET /api/sessions/{id}/risk": {
    summary: "A session's risk events, each with the commands around it.",
    tag: "Sessions",
    role: "user",
    scope: "sessions:read",
  },
  "PATCH /api/sessions/{id}": {
    summary: "A reviewer or admin puts a recording on hold (or releases it).",
    description: `A reviewer or admin puts a recording on hold (or releases it): the retention purge then leaves it alone.`,
    tag: "Sessions",
    role: ["reviewer", "admin"],
    scope: "recordings:read",
    body: sessionUpdateSchema,
  },
  "GET /api/sessions/{id}/thumbnail": {
    summary: "A live desktop's latest thumbnail, for the dashboard of those who may watch it.",
    description: `A live desktop's latest thumbnail, for the dashboard of those who may watch it: security and admins.`,
    tag: "Sessions",
    role: ["security", "admin"],
    scope: "sessions:read",
  },
  "GET /api/sessions/over-time": {
    summary: "Sessions started per hour over the last week, by protocol.",
    description: `Sessions started per hour over the last week, by protocol: security's and admins' dashboard chart.`,
    tag: "Sessions",
    role: ["security", "admin"],
    scope: "sessions:read",
  },
  "GET /api/sessions/{id}": {
    summary: "One session as the sessions list shows it: its own for a user, anyone's for reviewers, security and admins.",
    tag: "Sessions",
    role: "user",
    scope: "sessions:read",
  },
  "GET /api/sessions": {
    summary: "A page of sessions.",
    description: `A page of sessions: everyone sees their own; reviewers, security and admins see everyone's. The next page, if there is one, is in the \`Link\` header (\`rel="next"\`), the same filters with \`after=<cursor>\`.`,
    tag: "Sessions",
    role: "user",
    scope: "sessions:read",
    query: sessionFilterSchema,
  },
  "POST /api/targets/{id}/checkout": {
    summary: "The target's password, for a person whose approved request and policies allow it.",
    description: `The target's password, for a person whose approved request and policies allow it; audited.`,
    tag: "Targets",
    role: "user",
    scope: null,
  },
  "POST /api/targets/{id}/notice": {
    summary: "The person accepts the logon notice for a target they may otherwise reach.",
    tag: "Targets",
    role: "user",
    scope: null,
  },
  "GET /api/targets": {
    summary: "The caller's targets, each with whether they may connect now and, if not, why and whether a request would help.",
    tag: "Targets",
    role: "user",
    scope: "access",
  },
  "POST /api/tickets": {
    summary: "A one-use ticket for opening a session WebSocket; with an API token, only for watching.",
    tag: "Tickets",
    role: "user",
    scope: "sessions:read",
    body: ticketRequestSchema,
  },
  "GET /api/me": {
    summary: "Who the caller is: the account, its roles and, for a token, the token.",
    tag: "Tokens",
    role: "user",
    scope: "any",
    response: callerSchema,
  },
  "GET /api/openapi.json": {
    summary: "This document: the gateway's API as OpenAPI 3.1.",
    tag: "Reference",
    role: "anyone",
    scope: "any",
  },
  "GET /api/tokens": {
    summary: "The caller's own API tokens, newest first (never their secrets).",
    tag: "Tokens",
    role: "user",
    scope: null,
    response: z.array(apiTokenViewSchema),
  },
  "POST /api/tokens": {
    summary: "Issues an API token for the caller, or (admins) for a service account; the secret is in this answer only.",
    description: "A token cannot issue tokens: a leaked one cannot outlive its expiry by minting others.",
    tag: "Tokens",
    role: "user",
    scope: null,
    body: apiTokenInputSchema,
    response: createdApiTokenSchema,
  },
  "DELETE /api/tokens/{id}": {
    summary: "Revokes a token at once: the next request made with it is refused. Owners revoke their own, admins any.",
    tag: "Tokens",
    role: "user",
    scope: null,
    response: apiTokenViewSchema,
  },
  "GET /api/admin/tokens": {
    summary: "Every API token of every account, newest first.",
    tag: "Tokens",
    role: "admin",
    scope: "admin",
    response: z.array(apiTokenViewSchema),
  },
  "POST /api/admin/service-accounts": {
    summary: "Creates a service account: it holds the roles given and acts only through tokens issued for it.",
    tag: "Tokens",
    role: "admin",
    scope: null,
    body: serviceAccountInputSchema,
  },
} as const satisfies Record<string, Operation>;

export type OperationKey = keyof typeof operations;
