// API tokens and service accounts: a token acts as its owner, narrowed to its scopes, until it expires or is
// revoked. Only a SHA-256 of the secret is stored: the secret is 256 random bits, so a hash is as good as a slow KDF
// against guessing, and a lookup by it costs one index probe per request.
import { createHash, randomBytes } from "node:crypto";
import { and, desc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import { audit, type Actor } from "./audit";
import type { Database } from "./client";
import { apiTokens, users } from "./schema";
import { ApiError, notFound } from "../domain/errors";
import { isUuid } from "../domain/ids";
import { apiTokenPattern, apiTokenPrefix, scopeRoles, type ApiTokenInput, type ApiTokenView, type ServiceAccountInput } from "../protocol/api-tokens";
import type { Role } from "../protocol/domain";
import { effectiveRoles, findUserById, type UserRow } from "./users";

type TokenRow = typeof apiTokens.$inferSelect;

const hashSecret = (secret: string) => createHash("sha256").update(secret).digest("hex");

/** How often a token's last use is written: a busy script should not turn every read into a row update. */
const lastUseResolutionMs = 60_000;

/** Who issues or revokes a token: a signed-in person. */
interface Caller {
  id: string;
  roles: readonly Role[];
}

/** The secret of an `Authorization: Bearer …` header; null for any other scheme or shape. */
export function bearerSecret(header: string | null | undefined): string | null {
  return /^Bearer (\S+)$/i.exec(header?.trim() ?? "")?.[1] ?? null;
}

/** Of these tokens, the ones still live (not revoked, not expired): a watch opened with a token ends with it. */
export async function liveTokenIds(db: Database, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(and(inArray(apiTokens.id, ids), isNull(apiTokens.revokedAt), gt(apiTokens.expiresAt, new Date())));
  return new Set(rows.map((row) => row.id));
}

export interface TokenCaller {
  user: UserRow;
  token: TokenRow;
}

function tokenView(row: TokenRow, owner: Pick<UserRow, "id" | "username" | "source">): ApiTokenView {
  return {
    id: row.id,
    name: row.name,
    hint: row.hint,
    scopes: row.scopes,
    owner: { id: owner.id, username: owner.username, serviceAccount: owner.source === "service" },
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    lastUsedFrom: row.lastUsedFrom,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

/**
 * The token's owner, when the secret is a live token of an enabled account; null otherwise, without saying why
 * (an attacker learns nothing from the answer).
 */
export async function authenticateToken(db: Database, secret: string, sourceIp: string | null): Promise<TokenCaller | null> {
  if (!apiTokenPattern.test(secret)) return null;
  const now = new Date();
  const [found] = await db
    .select({ token: apiTokens, user: users })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(and(eq(apiTokens.tokenHash, hashSecret(secret)), isNull(apiTokens.revokedAt), gt(apiTokens.expiresAt, now)));
  if (!found || found.user.disabled) return null;
  if (!found.token.lastUsedAt || now.getTime() - found.token.lastUsedAt.getTime() > lastUseResolutionMs || found.token.lastUsedFrom !== sourceIp) {
    await db.update(apiTokens).set({ lastUsedAt: now, lastUsedFrom: sourceIp }).where(eq(apiTokens.id, found.token.id));
  }
  return found;
}

/** Issues a token for the caller, or (admins) for a service account; the secret is in the answer only. */
export async function createApiToken(db: Database, actor: Actor, caller: Caller, input: ApiTokenInput): Promise<{ token: ApiTokenView; secret: string }> {
  if (input.serviceAccountId && !caller.roles.includes("admin")) throw new ApiError(403, "Only admins issue tokens for service accounts");
  const owner = await findUserById(db, input.serviceAccountId ?? caller.id);
  if (!owner || (input.serviceAccountId && owner.source !== "service")) throw notFound("Service account");
  if (owner.disabled) throw new ApiError(400, "The account is disabled");
  const roles = effectiveRoles(owner);
  const unusable = input.scopes.filter((scope) => !scopeRoles[scope].some((role) => roles.includes(role)));
  if (unusable.length > 0) {
    throw new ApiError(400, `${owner.username} holds no role that ${unusable.join(", ")} would need`, { scopes: `Not for these roles: ${unusable.join(", ")}` });
  }
  const random = randomBytes(32).toString("base64url");
  const secret = `${apiTokenPrefix}${random}`;
  const [row] = await db
    .insert(apiTokens)
    .values({
      userId: owner.id,
      name: input.name,
      scopes: [...new Set(input.scopes)],
      tokenHash: hashSecret(secret),
      hint: random.slice(0, 6),
      createdBy: caller.id,
      expiresAt: new Date(Date.now() + input.expiresInDays * 86_400_000),
    })
    .returning();
  await audit(db, actor, {
    action: "api_token.create",
    objectType: "api_token",
    objectId: row!.id,
    details: { name: row!.name, owner: owner.username, scopes: row!.scopes, expiresAt: row!.expiresAt.toISOString() },
  });
  return { token: tokenView(row!, owner), secret };
}

export async function findApiToken(db: Database, id: string): Promise<TokenRow | undefined> {
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, id));
  return row;
}

/** Tokens of one account, or of every account (admins), newest first. */
export async function listApiTokens(db: Database, ownerId?: string): Promise<ApiTokenView[]> {
  const rows = await db
    .select({ token: apiTokens, owner: { id: users.id, username: users.username, source: users.source } })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(ownerId ? eq(apiTokens.userId, ownerId) : undefined)
    .orderBy(desc(apiTokens.createdAt));
  return rows.map(({ token, owner }) => tokenView(token, owner));
}

/** Revokes a token now: the next request made with it is refused. Owners revoke their own; admins any. */
export async function revokeApiToken(db: Database, actor: Actor, caller: Caller, id: string): Promise<ApiTokenView> {
  if (!isUuid(id)) throw notFound("Token");
  const [found] = await db.select({ token: apiTokens, owner: users }).from(apiTokens).innerJoin(users, eq(users.id, apiTokens.userId)).where(eq(apiTokens.id, id));
  if (!found || (found.token.userId !== caller.id && !caller.roles.includes("admin"))) throw notFound("Token");
  const [revoked] = await db
    .update(apiTokens)
    .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
    .where(eq(apiTokens.id, id))
    .returning();
  await audit(db, actor, { action: "api_token.revoke", objectType: "api_token", objectId: id, details: { name: found.token.name, owner: found.owner.username } });
  return tokenView(revoked!, found.owner);
}

/** An account for automation: it holds the roles given here and acts only through tokens an admin issues for it. */
export async function createServiceAccount(db: Database, actor: Actor, input: ServiceAccountInput): Promise<UserRow> {
  const [account] = await db
    .insert(users)
    .values({ username: input.name, displayName: input.name, source: "service", grantedRoles: input.roles })
    .returning();
  await audit(db, actor, { action: "service_account.create", objectType: "user", objectId: account!.id, details: { name: input.name, roles: input.roles } });
  return account!;
}
