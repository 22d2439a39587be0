// API tokens: what a token may do (its scopes), and the wire shapes of the token pages and the API that manages them.
import { z } from "zod";
import { roleNames, type Role } from "./domain";

/**
 * A token's scopes only narrow what its owner's roles allow: a route asks for one scope and for its roles, and a
 * token must carry the one while its owner holds the other.
 */
export const apiScopes = {
  "sessions:read": "Read sessions, live and past, their risk and the nodes that carry them",
  "sessions:control": "Lock, unlock, pause, resume or terminate live sessions; decide held commands",
  "recordings:read": "Read, search, export and verify recordings; review them",
  "audit:read": "Read and export the audit log",
  access: "List targets, request access and decide requests, as the owner does in the browser",
  admin: "Manage targets, credentials, policies, users, rules and settings",
} as const;
export type ApiScope = keyof typeof apiScopes;
export const apiScopeSchema = z.enum(Object.keys(apiScopes) as [ApiScope, ...ApiScope[]]);

/** The roles of which an owner must hold one for a scope to be of any use; a token is refused scopes it could never use. */
export const scopeRoles: Record<ApiScope, readonly Role[]> = {
  "sessions:read": roleNames,
  "sessions:control": ["security", "admin"],
  "recordings:read": roleNames,
  "audit:read": ["security", "admin"],
  access: roleNames,
  admin: ["admin"],
};

/** Tokens say what they are: secret scanners (and people) can tell one from any other string. */
export const apiTokenPrefix = "gatehouse_";
export const apiTokenPattern = /^gatehouse_[A-Za-z0-9_-]{43}$/;

export const maxTokenLifetimeDays = 366;

export const apiTokenInputSchema = z.object({
  name: z.string().trim().min(1, "Name the token").max(80, "At most 80 characters"),
  scopes: z.array(apiScopeSchema).min(1, "Choose at least one scope").max(Object.keys(apiScopes).length),
  /** Days until it stops working; every token expires. */
  expiresInDays: z.number().int().min(1, "At least a day").max(maxTokenLifetimeDays, `At most ${maxTokenLifetimeDays} days`),
  /** Admins issue tokens for a service account; without it the token is the caller's own. */
  serviceAccountId: z.uuid().optional(),
});
export type ApiTokenInput = z.infer<typeof apiTokenInputSchema>;

export const serviceAccountInputSchema = z.object({
  name: z
    .string()
    .trim()
    .min(2, "At least 2 characters")
    .max(60, "At most 60 characters")
    .regex(/^[a-z0-9][a-z0-9._-]*$/, "Lower-case letters, digits, dot, dash and underscore"),
  roles: z.array(z.enum(roleNames)).max(roleNames.length),
});
export type ServiceAccountInput = z.infer<typeof serviceAccountInputSchema>;

export const apiTokenViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  /** The first characters of the secret after the prefix, to tell tokens apart. */
  hint: z.string(),
  scopes: z.array(apiScopeSchema),
  owner: z.object({ id: z.uuid(), username: z.string(), serviceAccount: z.boolean() }),
  createdAt: z.string(),
  expiresAt: z.string(),
  lastUsedAt: z.string().nullable(),
  lastUsedFrom: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiTokenView = z.infer<typeof apiTokenViewSchema>;

/** Answer to creating a token: the secret is shown this once and never stored. */
export const createdApiTokenSchema = z.object({ token: apiTokenViewSchema, secret: z.string() });
export type CreatedApiToken = z.infer<typeof createdApiTokenSchema>;

/** Who the caller is, as `GET /api/me` answers: for a token, the token too. */
export const callerSchema = z.object({
  id: z.uuid(),
  username: z.string(),
  roles: z.array(z.enum(roleNames)),
  token: z.object({ id: z.uuid(), name: z.string(), scopes: z.array(apiScopeSchema), expiresAt: z.string() }).nullable(),
});
export type Caller = z.infer<typeof callerSchema>;
