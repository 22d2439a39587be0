// Payloads of the admin API, shared by the admin pages' forms and the route handlers.
import { z } from "zod";
import { credentialKindSchema, keyboardLayoutSchema, protocolSchema, rdpSecuritySchema, roleNames } from "./domain";

const name = z
  .string()
  .trim()
  .min(1, "Name is required")
  .max(64, "Name must be at most 64 characters")
  .regex(/^[a-z0-9][a-z0-9._-]*$/i, "Use letters, digits, dots, dashes and underscores");

/** Accepts a list or a comma-separated string, so a form's text field and an API array both work. */
const nameList = z
  .union([z.array(z.string()), z.string()])
  .transform((value) => (Array.isArray(value) ? value : value.split(",")).map((item) => item.trim()).filter(Boolean))
  .pipe(z.array(z.string().max(128)).max(200));

const seconds = z.coerce.number({ message: "Must be a number" }).int("Must be whole").min(0, "Cannot be negative").max(30 * 24 * 3600, "At most 30 days");

/** A web target's name becomes the first label of its public host name. */
const hostLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Web targets are given by their internal URL; their host and port are taken from it when not given. */
function fillWebAddress(value: unknown) {
  if (typeof value !== "object" || value === null) return value;
  const target = value as Record<string, unknown>;
  if (target.protocol !== "web" || typeof target.internalUrl !== "string" || !URL.canParse(target.internalUrl)) return value;
  const url = new URL(target.internalUrl);
  return { ...target, host: target.host || url.hostname, port: target.port || url.port || (url.protocol === "https:" ? 443 : 80) };
}

const targetObjectSchema = z.object({
  name,
  protocol: protocolSchema,
  host: z
    .string()
    .trim()
    .min(1, "Host is required")
    .max(253)
    .regex(/^[a-z0-9.:_\-[\]]+$/i, "Host must be a host name or an IP address"),
  port: z.coerce.number({ message: "Port must be a number" }).int("Port must be a whole number").min(1, "Port must be 1–65535").max(65535, "Port must be 1–65535"),
  tags: nameList.default([]),
  allowedUsers: nameList.default([]),
  allowedGroups: nameList.default([]),
  credentialId: z
    .union([z.uuid(), z.literal(""), z.null()])
    .transform((value) => value || null)
    .default(null),
  /** SSH: the host key's `SHA256:…`; RDP: the server certificate's SHA-256 as hex pairs (`AB:CD:…`). */
  hostKeyFingerprint: z
    .union([
      z
        .string()
        .trim()
        .regex(/^(SHA256:[A-Za-z0-9+/]{43}|[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31})$/, "A fingerprint looks like SHA256: and 43 characters (ssh-keygen -lf), or 32 hex pairs for an RDP certificate (AB:CD:…)"),
      z.literal(""),
      z.null(),
    ])
    .transform((value) => value || null)
    .default(null),
  legacyAlgorithms: z.union([z.boolean(), z.literal("on")]).transform(Boolean).default(false),
  rdpSecurity: rdpSecuritySchema.default("any"),
  keyboardLayout: keyboardLayoutSchema.default("en-us-qwerty"),
  remoteApp: z
    .union([
      z
        .string()
        .trim()
        .max(260, "At most 260 characters")
        // eslint-disable-next-line no-control-regex
        .refine((value) => !/[\x00-\x1f\x7f]/.test(value), "A program path cannot hold control characters"),
      z.null(),
    ])
    .transform((value) => value || null)
    .default(null),
  clipboardCopy: z.union([z.boolean(), z.literal("on")]).transform(Boolean).default(true),
  clipboardPaste: z.union([z.boolean(), z.literal("on")]).transform(Boolean).default(true),
  sessionTtlSeconds: seconds.default(0),
  extensionSeconds: seconds.default(0),
  maxSessionSeconds: seconds.default(0),
  retentionDays: z.coerce.number({ message: "Must be a number" }).int("Must be whole").min(0, "Cannot be negative").max(36500, "At most 100 years").default(0),
  recordSessions: z.union([z.boolean(), z.literal("on")]).transform(Boolean).default(true),
  announceWatchers: z.union([z.boolean(), z.literal("on")]).transform(Boolean).default(true),
  internalUrl: z
    .union([z.url({ protocol: /^https?$/, message: "An http:// or https:// address, e.g. http://10.0.0.5:8080" }), z.literal(""), z.null()])
    .transform((value) => value || null)
    .default(null),
  webAuthHeader: z
    .union([z.string().trim().regex(/^[A-Za-z0-9-]{1,64}$/, "A header name: letters, digits and dashes"), z.literal(""), z.null()])
    .transform((value) => value || null)
    .default(null),
  maskAllInputs: z.union([z.boolean(), z.literal("on")]).transform(Boolean).default(false),
  /** Web apps: a visit ends after this long without the user doing anything; 0 means never. */
  idleTimeoutSeconds: seconds.default(900),
});

export const targetInputSchema = z.preprocess(
  fillWebAddress,
  targetObjectSchema
    .refine((target) => target.maxSessionSeconds === 0 || target.maxSessionSeconds >= target.sessionTtlSeconds, {
      path: ["maxSessionSeconds"],
      message: "The longest session cannot be shorter than the time limit",
    })
    .refine((target) => target.protocol !== "web" || target.internalUrl !== null, { path: ["internalUrl"], message: "A web target needs its internal URL" })
    .refine((target) => target.protocol === "rdp" || target.remoteApp === null, { path: ["remoteApp"], message: "Only an RDP target can run a RemoteApp program" })
    .refine((target) => target.protocol !== "web" || hostLabel.test(target.name), {
      path: ["name"],
      message: "A web app's name becomes its host name: lowercase letters, digits and dashes",
    }),
);
export type TargetInput = z.infer<typeof targetInputSchema>;

export const credentialInputSchema = z.object({
  name,
  kind: credentialKindSchema,
  username: z.string().trim().min(1, "Username is required").max(128),
  secret: z.string().min(1, "The password or private key is required").max(16384),
});
export type CredentialInput = z.infer<typeof credentialInputSchema>;

/** Replacing a credential: every field optional; an omitted secret keeps the stored one. */
export const credentialUpdateSchema = credentialInputSchema.partial();

export const roleSchema = z.enum(roleNames);

export const userUpdateSchema = z.object({
  grantedRoles: z.array(roleSchema).optional(),
  disabled: z.boolean().optional(),
});

export const groupRoleMappingSchema = z.object({
  group: z.string().trim().min(1, "Group is required").max(128),
  role: roleSchema,
});

/** The error body every API route returns: a message, and per-field messages for forms. */
export const apiErrorSchema = z.object({
  error: z.string(),
  fields: z.record(z.string(), z.string()).optional(),
});
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;

export const sessionUpdateSchema = z.object({ preventPurge: z.boolean() });

/** Body of POST /api/admin/users/<id>/end-sessions: the reason goes to the audit log and to the person. */
export const endSessionsRequestSchema = z.object({ reason: z.string().trim().min(1, "Say why: the reason goes to the audit log").max(500, "At most 500 characters") });

/** A text people see; empty keeps the built-in wording. */
const sessionText = (max: number) =>
  z
    .union([z.string().trim().max(max, `At most ${max} characters`), z.null()])
    .transform((value) => value || null);

/** Settings change one at a time or together: what is absent stays as it is. */
export const gatewaySettingsSchema = z
  .object({
    showRecordingIndicator: z.boolean(),
    revealSeconds: z.coerce.number({ message: "Must be a number" }).int("Must be whole").min(5, "At least 5 seconds").max(300, "At most 5 minutes"),
    lockMessage: sessionText(500),
    terminationMessage: sessionText(500),
    recordingNotice: sessionText(200),
    logonNotice: sessionText(5000),
  })
  .partial();
export type GatewaySettingsInput = z.infer<typeof gatewaySettingsSchema>;
