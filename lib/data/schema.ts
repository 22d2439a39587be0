// The Gatehouse data model. One schema serves PostgreSQL (postgres.js) and the embedded PGlite database;
// SQL migrations in drizzle/ are generated from it with `npm run db:generate`.
import { sql } from "drizzle-orm";
import { type AnyPgColumn, bigint, bigserial, boolean, customType, index, integer, jsonb, pgTable, primaryKey, real, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import type { ConnectPurpose, CredentialKind, Protocol, RdpSecurity, Role } from "../protocol/domain";
import type { MatchMode, RiskOutcome, RuleAction, RuleKind, Severity } from "../protocol/command-rules";
import type { AccessMode, RequestStatus, WeeklyWindow } from "../protocol/governance";
import type { NodeStats } from "../protocol/nodes";
import type { ApiScope } from "../protocol/api-tokens";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const textArray = (name: string) => text(name).array().notNull().default(sql`'{}'::text[]`);

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Local accounts sign in with it; for SSO accounts it is the IdP's preferred username or email. */
    username: text("username").notNull(),
    email: text("email"),
    displayName: text("display_name"),
    /** `service`: an account for automation; it never signs in, it acts only through its API tokens. */
    source: text("source").$type<"local" | "oidc" | "service">().notNull(),
    /** `issuer|sub` for SSO accounts: the IdP's stable identity, never the (changeable) email. */
    externalId: text("external_id"),
    passwordHash: text("password_hash"),
    groups: textArray("groups").$type<string[]>(),
    /** Roles from the IdP's groups, recomputed at every sign-in. */
    idpRoles: textArray("idp_roles").$type<Role[]>(),
    /** Roles an admin granted by hand; kept across sign-ins. */
    grantedRoles: textArray("granted_roles").$type<Role[]>(),
    disabled: boolean("disabled").notNull().default(false),
    createdAt: createdAt(),
    lastLoginAt: timestamp("last_login_at", { withTimezone: true }),
  },
  (table) => [uniqueIndex("users_username_key").on(table.username), uniqueIndex("users_external_id_key").on(table.externalId)],
);

export const groupRoleMappings = pgTable(
  "group_role_mappings",
  {
    group: text("group").notNull(),
    role: text("role").$type<Role>().notNull(),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.group, table.role] })],
);

/**
 * Password sign-in attempts, counted before the password is hashed, shared by every node (lib/data/login-throttle.ts).
 * `key` is `address:<ip>` or `account:<name>@<ip>`.
 */
export const loginThrottle = pgTable("login_throttle", {
  key: text("key").primaryKey(),
  attempts: integer("attempts").notNull(),
  windowStartedAt: timestamp("window_started_at", { withTimezone: true }).notNull(),
  /** Windows in a row that ended past the limit: each doubles the next window's length. */
  strikes: integer("strikes").notNull().default(0),
});

/**
 * Each recording's data key (AES-256-GCM for its chunks and keyframes), sealed with the master key. Deleting it
 * makes the recording unreadable wherever its blobs were copied.
 */
export const recordingKeys = pgTable("recording_keys", {
  sessionId: uuid("session_id")
    .primaryKey()
    .references(() => sessions.id, { onDelete: "cascade" }),
  sealedKey: text("sealed_key").notNull(),
  createdAt: createdAt(),
});

/**
 * Reads that were audited, one per reader, subject (a recording, or a search) and hour: the audit log says who
 * looked at what without a row for every window the player fetches (lib/data/read-audit.ts).
 */
export const auditedReads = pgTable(
  "audited_reads",
  {
    reader: text("reader").notNull(),
    subject: text("subject").notNull(),
    hour: timestamp("hour", { withTimezone: true }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.reader, table.subject, table.hour] })],
);

export const setupTokens = pgTable("setup_tokens", {
  tokenHash: text("token_hash").primaryKey(),
  userId: uuid("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  usedAt: timestamp("used_at", { withTimezone: true }),
});

/** API tokens: only a hash of the secret is kept; a token works until it expires or is revoked. */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    scopes: textArray("scopes").$type<ApiScope[]>(),
    tokenHash: text("token_hash").notNull(),
    hint: text("hint").notNull(),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    lastUsedFrom: text("last_used_from"),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (table) => [uniqueIndex("api_tokens_hash_key").on(table.tokenHash), index("api_tokens_user_idx").on(table.userId)],
);

export const credentials = pgTable(
  "credentials",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    kind: text("kind").$type<CredentialKind>().notNull(),
    username: text("username").notNull(),
    /** AES-256-GCM under the master key, bound to this row's id (lib/infra/vault.ts). Never leaves the server. */
    secretCiphertext: text("secret_ciphertext").notNull(),
    /** Set when a person was shown the password (a checkout under a policy that rotates after it); replacing the secret clears it. */
    rotationDueAt: timestamp("rotation_due_at", { withTimezone: true }),
    rotationDueReason: text("rotation_due_reason"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("credentials_name_key").on(table.name)],
);

export const targets = pgTable(
  "targets",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    protocol: text("protocol").$type<Protocol>().notNull(),
    host: text("host").notNull(),
    port: integer("port").notNull(),
    tags: textArray("tags").$type<string[]>(),
    /** Name, address, protocol and tags in lower case, kept by a trigger (migration 0025): what a search reads. */
    searchText: text("search_text").notNull().default(""),
    /** Usernames or emails allowed to connect. */
    allowedUsers: textArray("allowed_users").$type<string[]>(),
    /** IdP groups allowed to connect. */
    allowedGroups: textArray("allowed_groups").$type<string[]>(),
    credentialId: uuid("credential_id").references(() => credentials.id, { onDelete: "set null" }),
    /** `SHA256:…` of the SSH host key. Null: trust on first use, then pinned here. */
    hostKeyFingerprint: text("host_key_fingerprint"),
    /** Offer old key exchanges, ciphers and MACs (SHA-1, CBC) for devices that know no better. */
    legacyAlgorithms: boolean("legacy_algorithms").notNull().default(false),
    /** Session time limit; 0 means none. */
    sessionTtlSeconds: integer("session_ttl_seconds").notNull().default(0),
    /** How much one extension adds, and the longest a session may become with extensions. */
    extensionSeconds: integer("extension_seconds").notNull().default(0),
    maxSessionSeconds: integer("max_session_seconds").notNull().default(0),
    /** Days to keep recordings of sessions on this target; 0 keeps them forever. */
    retentionDays: integer("retention_days").notNull().default(0),
    /** Off only where policy allows unrecorded access; every change to it is audited with the target. */
    recordSessions: boolean("record_sessions").notNull().default(true),
    /** Tell the user when someone from security starts or stops watching their session. */
    announceWatchers: boolean("announce_watchers").notNull().default(true),
    /** Web targets: the app's address inside the network; users reach it as `<name>.<gateway host>`. */
    internalUrl: text("internal_url"),
    /** Web targets with a credential: the request header its secret is sent in; null sends HTTP basic auth. */
    webAuthHeader: text("web_auth_header"),
    /** Web targets: record what is typed into every field as asterisks, not only into password fields. */
    maskAllInputs: boolean("mask_all_inputs").notNull().default(false),
    /** RDP: how the connection is secured (`any` lets the server choose among NLA, TLS and RDP security). */
    rdpSecurity: text("rdp_security").$type<RdpSecurity>().notNull().default("any"),
    /**
     * RDP: the one program the server runs instead of a whole desktop (RemoteApp: a path, or `||alias` for an app
     * a Windows server publishes). Only then does RDP report window titles, which window-title rules read.
     */
    remoteApp: text("remote_app"),
    /** RDP: the keyboard layout the server expects, as a guacd layout name. */
    keyboardLayout: text("keyboard_layout").notNull().default("en-us-qwerty"),
    /** RDP and VNC: text copied on the desktop reaches the user's clipboard panel. */
    clipboardCopy: boolean("clipboard_copy").notNull().default(true),
    /** RDP and VNC: text from the user's clipboard panel reaches the desktop. */
    clipboardPaste: boolean("clipboard_paste").notNull().default(true),
    /** Web targets: a visit ends after this long without the user doing anything (clicks, keys, page loads). */
    idleTimeoutSeconds: integer("idle_timeout_seconds").notNull().default(900),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("targets_name_key").on(table.name)],
);

export const connectTickets = pgTable("connect_tickets", {
  /** SHA-256 of the ticket: a database reader cannot replay one. */
  ticketHash: text("ticket_hash").primaryKey(),
  userId: uuid("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  targetId: uuid("target_id")
    .notNull()
    .references(() => targets.id, { onDelete: "cascade" }),
  purpose: text("purpose").$type<ConnectPurpose>().notNull(),
  /** For `watch`: the live session the ticket opens a view of. */
  sessionId: uuid("session_id"),
  /** For `app`: SHA-256 of the state cookie of the browser that asked; only that browser may redeem it. */
  browserBinding: text("browser_binding"),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  usedAt: timestamp("used_at", { withTimezone: true }),
});

export const sessions = pgTable(
  "sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    targetId: uuid("target_id").references(() => targets.id, { onDelete: "set null" }),
    /** Kept so the row still says what was reached after the target is deleted. */
    targetName: text("target_name").notNull(),
    protocol: text("protocol").$type<Protocol>().notNull(),
    node: text("node").notNull(),
    status: text("status").$type<"connecting" | "active" | "locked" | "paused" | "ended">().notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    endReason: text("end_reason").$type<"user_closed" | "target_closed" | "terminated" | "expired" | "error" | "interrupted">(),
    /** Why, in the words the user was shown. */
    endMessage: text("end_message"),
    bytesFromUser: bigint("bytes_from_user", { mode: "number" }).notNull().default(0),
    bytesToUser: bigint("bytes_to_user", { mode: "number" }).notNull().default(0),
    /** Set by a reviewer or admin: the retention purge leaves this recording alone (legal hold). */
    preventPurge: boolean("prevent_purge").notNull().default(false),
    recordingPurgedAt: timestamp("recording_purged_at", { withTimezone: true }),
    /** The last recording chunk the keyframer has taken in; behind the last chunk means keyframes are still due. */
    keyframedSeq: integer("keyframed_seq"),
    /** The last lines the user saw, refreshed by the owning node every few seconds while the session is live. */
    preview: text("preview"),
    /** Web sessions: SHA-256 of the app-host cookie that carries the visit; ending the session revokes it. */
    appTokenHash: text("app_token_hash"),
    /** Web sessions: when the user last did something in the app; the idle timeout counts from here. */
    lastActiveAt: timestamp("last_active_at", { withTimezone: true }),
    /** Web sessions with a time limit: when the visit ends unless extended (the sweep of any node ends it). */
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    /** The approved access request the session was opened under, when its policy needs one. */
    requestId: uuid("request_id").references(() => accessRequests.id, { onDelete: "set null" }),
    /** Where the user connected from (the address policies' networks are checked against). */
    clientAddress: text("client_address"),
    /** The sum of its risk events' weights (severityWeight), kept beside them for the lists to sort by. */
    riskScore: integer("risk_score").notNull().default(0),
  },
  (table) => [
    index("sessions_request_idx").on(table.requestId),
    index("sessions_user_idx").on(table.userId, table.startedAt),
    index("sessions_status_idx").on(table.status),
    // The sessions list's two orders, paged by their keys.
    index("sessions_started_idx").on(table.startedAt, table.id),
    index("sessions_risk_idx").on(table.riskScore, table.startedAt, table.id),
    uniqueIndex("sessions_app_token_key").on(table.appTokenHash),
  ],
);

export const auditLog = pgTable(
  "audit_log",
  {
    seq: bigserial("seq", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull(),
    actorId: uuid("actor_id"),
    actorName: text("actor_name").notNull(),
    action: text("action").notNull(),
    outcome: text("outcome").$type<"success" | "failure" | "refused">().notNull(),
    objectType: text("object_type"),
    objectId: text("object_id"),
    sourceIp: text("source_ip"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    /**
     * An HMAC (under the evidence key `keyId` names, never stored here) of the previous row's hash and this row's
     * content: editing, inserting or deleting a row breaks the chain, and cannot be hidden without the key. Rows
     * from before the chains were keyed have no `keyId` and a plain SHA-256.
     */
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
    keyId: text("key_id"),
  },
  (table) => [
    index("audit_log_action_idx").on(table.action, table.at),
    index("audit_log_actor_idx").on(table.actorId, table.at),
    // A session's page shows the rows that name it.
    index("audit_log_object_idx").on(table.objectType, table.objectId, table.seq),
  ],
);

/** One stored piece of a session's recording: a gzip blob of asciicast lines, chained to the piece before it. */
export const recordingChunks = pgTable(
  "recording_chunks",
  {
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    /** Milliseconds from the session's start to the first and last event in the chunk. */
    startMs: integer("start_ms").notNull(),
    endMs: integer("end_ms").notNull(),
    /** Web recordings: the chunk opens with a full snapshot of the page, so playback can start from it. */
    snapshot: boolean("snapshot").notNull().default(false),
    size: integer("size").notNull(),
    /** SHA-256 of the blob as stored, and of the chunk before it: the chain. */
    sha256: text("sha256").notNull(),
    prevSha256: text("prev_sha256").notNull(),
    /** An HMAC of the row (session, position, times, both hashes) under the evidence key `keyId` names. */
    mac: text("mac"),
    keyId: text("key_id"),
    blobKey: text("blob_key").notNull(),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.sessionId, table.seq] })],
);

/**
 * The terminal's screen as it was after a chunk (serialized by a headless terminal), every ~30 s of a
 * recording: the player starts from the nearest one instead of replaying from the beginning.
 */
// postgres.js reads bytea as a Buffer, PGlite as a Uint8Array: both become a Buffer.
/** Every tag in use and how many targets carry it, kept by a trigger on targets (migration 0025): the filter's choices. */
export const targetTags = pgTable("target_tags", {
  tag: text("tag").primaryKey(),
  targets: integer("targets").notNull(),
});

const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({ dataType: () => "bytea", fromDriver: (value) => Buffer.from(value) });

/** The latest small picture of a live desktop for the dashboard, replaced a few times a minute and dropped at its end. */
export const sessionThumbnails = pgTable("session_thumbnails", {
  sessionId: uuid("session_id")
    .primaryKey()
    .references(() => sessions.id, { onDelete: "cascade" }),
  takenAt: timestamp("taken_at", { withTimezone: true }).notNull(),
  jpeg: bytea("jpeg").notNull(),
});

export const recordingKeyframes = pgTable(
  "recording_keyframes",
  {
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    /** The screen after every event of this chunk. */
    afterSeq: integer("after_seq").notNull(),
    atMs: integer("at_ms").notNull(),
    size: integer("size").notNull(),
    sha256: text("sha256").notNull(),
    blobKey: text("blob_key").notNull(),
  },
  (table) => [primaryKey({ columns: [table.sessionId, table.afterSeq] })],
);

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

/** What was typed (commands) and shown (output lines) in a session, for search; each line at its time offset. */
export const transcriptLines = pgTable(
  "transcript_lines",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    atMs: integer("at_ms").notNull(),
    kind: text("kind").$type<"command" | "output">().notNull(),
    text: text("text").notNull(),
    searchVector: tsvector("search_vector")
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('simple', "text")`),
  },
  (table) => [
    index("transcript_lines_session_idx").on(table.sessionId, table.id),
    index("transcript_lines_search_idx").using("gin", table.searchVector),
    index("transcript_lines_trigram_idx").using("gin", sql`${table.text} gin_trgm_ops`),
  ],
);

/** What happened during a session besides its bytes: watchers joining and leaving, locks, pauses, terminations. */
/** Videos rendered from desktop and web recordings, asked for by someone and made by a job on whichever node takes it. */
export const videoExports = pgTable(
  "video_exports",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    requestedBy: uuid("requested_by")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    format: text("format").$type<"mp4" | "webm">().notNull(),
    status: text("status").$type<"queued" | "rendering" | "ready" | "failed">().notNull().default("queued"),
    /** How much is rendered, 0 to 1. */
    progress: real("progress").notNull().default(0),
    blobKey: text("blob_key"),
    bytes: bigint("bytes", { mode: "number" }),
    sha256: text("sha256"),
    error: text("error"),
    createdAt: createdAt(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (table) => [index("video_exports_session_idx").on(table.sessionId, table.createdAt)],
);

/**
 * What goes out to SIEMs, in the order it happened: every audit entry and every command typed, written by
 * triggers in the same transaction as their source row (so an event exists if and only if its source does), one
 * writer at a time (so a reader past `seq` never sees an earlier one commit later).
 */
export const streamEvents = pgTable("stream_events", {
  seq: bigserial("seq", { mode: "number" }).primaryKey(),
  at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  kind: text("kind").$type<"audit" | "command">().notNull(),
  payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
});

/** Where each configured sink is in the stream, and which node sends to it now (a lease, renewed while it sends). */
export const streamCursors = pgTable("stream_cursors", {
  sink: text("sink").primaryKey(),
  deliveredSeq: bigint("delivered_seq", { mode: "number" }).notNull(),
  deliveredAt: timestamp("delivered_at", { withTimezone: true }),
  leaseNode: text("lease_node"),
  leaseUntil: timestamp("lease_until", { withTimezone: true }),
  lastError: text("last_error"),
  lastErrorAt: timestamp("last_error_at", { withTimezone: true }),
});

export const sessionEvents = pgTable(
  "session_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    kind: text("kind").notNull(),
    actorName: text("actor_name").notNull(),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
  },
  (table) => [index("session_events_session_idx").on(table.sessionId, table.id)],
);

/** A user whose access to a target was cancelled by security: refused until an admin restores it. */
export const accessRevocations = pgTable(
  "access_revocations",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    targetId: uuid("target_id")
      .notNull()
      .references(() => targets.id, { onDelete: "cascade" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }).notNull().defaultNow(),
    revokedBy: text("revoked_by").notNull(),
    reason: text("reason").notNull(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.targetId] })],
);

/** The gateway nodes sharing this database: each refreshes its heartbeat; a survivor retires a silent one. */
export const nodes = pgTable("nodes", {
  name: text("name").primaryKey(),
  version: text("version").notNull(),
  /** Where the other nodes reach this one to relay a live view. */
  internalUrl: text("internal_url").notNull(),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull(),
  /** What the node reported with its last heartbeat: its sessions, CPU, memory and backlogs (lib/protocol/nodes.ts). */
  stats: jsonb("stats").$type<NodeStats>().notNull().default({ sessions: {} }),
  /**
   * The `application_name` of the node's PostgreSQL connections, null on the embedded database. While the node
   * runs it holds at least its listening connection; once none is left and its heartbeat is late, it is gone
   * (lib/data/nodes.ts). Null also for nodes of versions that did not name their connections.
   */
  connectionName: text("connection_name"),
  /** Set by the survivor that found this node silent; its row stays, for the fleet page, until it starts again. */
  retiredAt: timestamp("retired_at", { withTimezone: true }),
});

/** Gateway-wide settings an admin changes at run time (one row). */
export const gatewaySettings = pgTable("gateway_settings", {
  id: integer("id").primaryKey().default(1),
  /** The red "This session is recorded" dot on the user's page. */
  showRecordingIndicator: boolean("show_recording_indicator").notNull().default(true),
  /** How long a checked-out password stays on screen. */
  revealSeconds: integer("reveal_seconds").notNull().default(20),
  /** The texts people see; null keeps the built-in wording. */
  lockMessage: text("lock_message"),
  /** Shown to someone whose session security ended, before the reason given. */
  terminationMessage: text("termination_message"),
  recordingNotice: text("recording_notice"),
  /** The logon banner / acceptable-use notice that policies may require people to accept before connecting. */
  logonNotice: text("logon_notice"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Reusable access rules (lib/domain/governance/decide.ts): which targets (by name or tag), who may use or request them, who
 * approves, and the conditions (windows, networks, durations, concurrency) that bind those people there.
 */
export const accessPolicies = pgTable(
  "access_policies",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    targetNames: textArray("target_names").$type<string[]>(),
    targetTags: textArray("target_tags").$type<string[]>(),
    /** Who the policy speaks for: usernames or emails, and IdP groups. */
    subjectUsers: textArray("subject_users").$type<string[]>(),
    subjectGroups: textArray("subject_groups").$type<string[]>(),
    access: text("access").$type<AccessMode>().notNull(),
    approverUsers: textArray("approver_users").$type<string[]>(),
    approverGroups: textArray("approver_groups").$type<string[]>(),
    approverRoles: textArray("approver_roles").$type<Role[]>(),
    requiredApprovals: integer("required_approvals").notNull().default(1),
    /** Reviewers (with the reviewer or admin role) who may open recordings of these targets without asking. */
    reviewerUsers: textArray("reviewer_users").$type<string[]>(),
    reviewerGroups: textArray("reviewer_groups").$type<string[]>(),
    /** Auditors assigned sessions of these targets, and the share of sessions they get (100: every one). */
    auditorUsers: textArray("auditor_users").$type<string[]>(),
    auditorGroups: textArray("auditor_groups").$type<string[]>(),
    auditSamplePercent: integer("audit_sample_percent").notNull().default(0),
    /** When access is allowed each week, in `timeZone`; none means at any time. */
    weeklyWindows: jsonb("weekly_windows").$type<WeeklyWindow[]>().notNull().default([]),
    timeZone: text("time_zone").notNull().default("UTC"),
    validFrom: timestamp("valid_from", { withTimezone: true }),
    validUntil: timestamp("valid_until", { withTimezone: true }),
    /** CIDRs the client's address must be in; none means anywhere. */
    sourceNetworks: textArray("source_networks").$type<string[]>(),
    /** The longest a request (or, for standing access, a session) may last; 0 means no limit. */
    maxDurationMinutes: integer("max_duration_minutes").notNull().default(0),
    /** The most sessions one person may have open on the policy's targets at once; 0 means no limit. */
    maxConcurrentSessions: integer("max_concurrent_sessions").notNull().default(0),
    /** During an approved request, the person may see the target's password (never a private key). */
    allowCredentialReveal: boolean("allow_credential_reveal").notNull().default(false),
    /** A password once shown is marked for rotation. */
    rotateAfterCheckout: boolean("rotate_after_checkout").notNull().default(true),
    /** The logon notice (gateway settings) must be accepted before connecting. */
    requireNoticeAcceptance: boolean("require_notice_acceptance").notNull().default(false),
    /** Record sessions under this policy even where the target is set not to. */
    requireRecording: boolean("require_recording").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("access_policies_name_key").on(table.name)],
);

/** What a request is for ("Database maintenance"): the policies it may be made under and the ticket it needs. */
export const activities = pgTable(
  "activities",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    policyIds: uuid("policy_ids").array().notNull().default(sql`'{}'::uuid[]`),
    /** A regular expression the ticket number must match; null: no ticket needed. */
    ticketPattern: text("ticket_pattern"),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex("activities_name_key").on(table.name)],
);

/** A person asking for access to targets for a while; its transitions are audited (lib/data/governance/requests.ts). */
export const accessRequests = pgTable(
  "access_requests",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    requesterId: uuid("requester_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** `access`: to use targets; `recording`: to open one session's recording, with a justification. */
    kind: text("kind").$type<"access" | "recording">().notNull().default("access"),
    /** For a recording request: the session whose recording it opens. */
    // Sessions point at requests and recording requests at sessions: the annotation breaks the type cycle.
    sessionId: uuid("session_id").references((): AnyPgColumn => sessions.id, { onDelete: "cascade" }),
    activityId: uuid("activity_id").references(() => activities.id, { onDelete: "set null" }),
    /** Kept so the request still says what it was for after the activity is deleted. */
    activityName: text("activity_name").notNull(),
    targetIds: uuid("target_ids").array().notNull(),
    notes: text("notes").notNull().default(""),
    ticket: text("ticket"),
    /** What was asked: from when, for how long. */
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    durationMinutes: integer("duration_minutes").notNull(),
    status: text("status").$type<RequestStatus>().notNull(),
    requiredApprovals: integer("required_approvals").notNull(),
    /** The window granted on approval: from the later of approval and start, for the duration asked. */
    windowStartsAt: timestamp("window_starts_at", { withTimezone: true }),
    windowEndsAt: timestamp("window_ends_at", { withTimezone: true }),
    /** How far extensions may push the window: the start plus the policies' longest duration. */
    extendableUntil: timestamp("extendable_until", { withTimezone: true }),
    closedBy: text("closed_by"),
    closedReason: text("closed_reason"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("access_requests_requester_idx").on(table.requesterId, table.createdAt), index("access_requests_status_idx").on(table.status, table.windowEndsAt)],
);

/** One approver's decision on a request; one per approver. */
export const requestDecisions = pgTable(
  "request_decisions",
  {
    requestId: uuid("request_id")
      .notNull()
      .references(() => accessRequests.id, { onDelete: "cascade" }),
    approverId: uuid("approver_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    approverName: text("approver_name").notNull(),
    decision: text("decision").$type<"approve" | "deny">().notNull(),
    comment: text("comment").notNull().default(""),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.requestId, table.approverId] })],
);

/**
 * Notifications waiting to go out (lib/data/governance/notify.ts): written beside the change they tell of, sent by
 * whichever node's sender claims them, retried with backoff, never on the request that caused them.
 */
export const notifications = pgTable(
  "notifications",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    kind: text("kind").notNull(),
    /** E-mail addresses to tell; empty: the webhook only. */
    recipients: textArray("recipients").$type<string[]>(),
    subject: text("subject").notNull(),
    body: text("body").notNull(),
    /** The event as the webhook receives it. */
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    emailSentAt: timestamp("email_sent_at", { withTimezone: true }),
    webhookSentAt: timestamp("webhook_sent_at", { withTimezone: true }),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    lastError: text("last_error"),
    createdAt: createdAt(),
  },
  (table) => [index("notifications_due_idx").on(table.nextAttemptAt)],
);

/** A person accepted the logon notice for a target: good for a while, and only for the notice as it read then. */
export const noticeAcceptances = pgTable(
  "notice_acceptances",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    targetId: uuid("target_id")
      .notNull()
      .references(() => targets.id, { onDelete: "cascade" }),
    /** SHA-256 of the notice accepted: editing the notice asks everyone again. */
    noticeSha256: text("notice_sha256").notNull(),
    acceptedAt: timestamp("accepted_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.targetId] })],
);

/** A session given to auditors by a policy, and what became of the review (lib/data/governance/audits.ts). */
export const sessionAudits = pgTable(
  "session_audits",
  {
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    policyId: uuid("policy_id")
      .notNull()
      .references(() => accessPolicies.id, { onDelete: "cascade" }),
    status: text("status").$type<"pending" | "in_review" | "reviewed" | "flagged">().notNull().default("pending"),
    notes: text("notes").notNull().default(""),
    reviewedBy: text("reviewed_by"),
    reviewedAt: timestamp("reviewed_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.sessionId, table.policyId] }), index("session_audits_status_idx").on(table.status)],
);

/**
 * A command or request policy rule (lib/command-policy). Built-in rules carry the key of their entry in the pack;
 * they can be edited and disabled, not deleted, so a restart does not bring a deleted one back.
 */
export const commandRules = pgTable(
  "command_rules",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    builtinKey: text("builtin_key"),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    enabled: boolean("enabled").notNull().default(true),
    kind: text("kind").$type<RuleKind>().notNull(),
    matchMode: text("match_mode").$type<MatchMode>().notNull().default("regex"),
    pattern: text("pattern").notNull(),
    action: text("action").$type<RuleAction>().notNull(),
    severity: text("severity").$type<Severity>().notNull(),
    holdSeconds: integer("hold_seconds").notNull().default(120),
    /** Scope: each list, when not empty, must name the session's target (or a tag of it), user, protocol or policy. */
    targetNames: textArray("target_names").$type<string[]>(),
    targetTags: textArray("target_tags").$type<string[]>(),
    subjectUsers: textArray("subject_users").$type<string[]>(),
    subjectGroups: textArray("subject_groups").$type<string[]>(),
    protocols: textArray("protocols").$type<string[]>(),
    policyNames: textArray("policy_names").$type<string[]>(),
    testMatch: textArray("test_match").$type<string[]>(),
    testNoMatch: textArray("test_no_match").$type<string[]>(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("command_rules_name_key").on(table.name), uniqueIndex("command_rules_builtin_key").on(table.builtinKey)],
);

/** A rule's match in a session: what was matched, what the gateway did, and who decided a held one. */
export const riskEvents = pgTable(
  "risk_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    ruleId: uuid("rule_id").references(() => commandRules.id, { onDelete: "set null" }),
    /** Kept so the event still says which rule matched after the rule is renamed or deleted. */
    ruleName: text("rule_name").notNull(),
    severity: text("severity").$type<Severity>().notNull(),
    action: text("action").$type<RuleAction>().notNull(),
    outcome: text("outcome").$type<RiskOutcome>().notNull(),
    /** The command line, output line or request that matched. */
    subject: text("subject").notNull(),
    decidedBy: text("decided_by"),
  },
  (table) => [index("risk_events_session_idx").on(table.sessionId, table.id)],
);

/**
 * A command or web request the command policy holds for security's decision. The node that holds it waits in
 * memory; the row says which node that is (the decision is carried there by the control bus), lets any node's
 * watch page list what waits, and keeps the decision.
 */
export const policyHolds = pgTable(
  "policy_holds",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    node: text("node").notNull(),
    ruleName: text("rule_name").notNull(),
    severity: text("severity").$type<Severity>().notNull(),
    subject: text("subject").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    outcome: text("outcome").$type<"approved" | "denied" | "timed_out">(),
    decidedBy: text("decided_by"),
    createdAt: createdAt(),
  },
  (table) => [index("policy_holds_session_idx").on(table.sessionId)],
);
