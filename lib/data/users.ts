// Accounts and roles: who someone is (local admin or SSO identity) and what they may do.
import { createHash, randomBytes } from "node:crypto";
import { and, asc, eq, gt, isNull, sql } from "drizzle-orm";
import { roleNames, type Role } from "../protocol/domain";
import { audit, type Actor } from "./audit";
import type { Database } from "./client";
import { ApiError, notFound } from "../domain/errors";
import { isUuid } from "../domain/ids";
import { groupRoleMappings, setupTokens, users } from "./schema";

export type UserRow = typeof users.$inferSelect;

/** Every enabled account is a `user`; the other roles come from IdP groups or an admin's grant. */
export function effectiveRoles(user: Pick<UserRow, "idpRoles" | "grantedRoles">): Role[] {
  const held = new Set<Role>(["user", ...user.idpRoles, ...user.grantedRoles]);
  return roleNames.filter((role) => held.has(role));
}

export async function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [user] = await db.select().from(users).where(eq(users.id, id));
  return user;
}

export async function listUsers(db: Database) {
  return db.select().from(users).orderBy(asc(users.username));
}

function rolesOfGroups(mappings: { group: string; role: Role }[], groups: string[]): Role[] {
  return [...new Set(mappings.filter((mapping) => groups.includes(mapping.group)).map((mapping) => mapping.role))];
}

export async function rolesForGroups(db: Database, groups: string[]): Promise<Role[]> {
  return rolesOfGroups(await db.select().from(groupRoleMappings), groups);
}

/** Applies OIDC_GROUP_ROLES at start, so a fresh deployment's IdP admins are admins from their first sign-in. */
export async function seedGroupRoleMappings(db: Database, mapping: { group: string; role: Role }[]) {
  if (mapping.length > 0) await db.insert(groupRoleMappings).values(mapping).onConflictDoNothing();
}

export interface SsoIdentity {
  issuer: string;
  subject: string;
  username: string;
  email: string | null;
  displayName: string | null;
  groups: string[];
}

/** Creates or refreshes an SSO account at sign-in: groups and the roles they map to are the IdP's word. */
export async function upsertSsoUser(db: Database, identity: SsoIdentity): Promise<UserRow> {
  const externalId = `${identity.issuer}|${identity.subject}`;
  const idpRoles = await rolesForGroups(db, identity.groups);
  const fields = {
    email: identity.email,
    displayName: identity.displayName,
    groups: identity.groups,
    idpRoles,
    lastLoginAt: new Date(),
  };
  const [existing] = await db.select().from(users).where(eq(users.externalId, externalId));
  if (existing) {
    const [updated] = await db.update(users).set(fields).where(eq(users.id, existing.id)).returning();
    return updated!;
  }
  const [taken] = await db.select({ id: users.id }).from(users).where(eq(users.username, identity.username));
  const username = taken ? `${identity.username}-${identity.subject.slice(0, 8)}` : identity.username;
  const [created] = await db.insert(users).values({ ...fields, username, source: "oidc", externalId }).returning();
  return created!;
}

export const localAdminUsername = "admin";

const hashSetupToken = (token: string) => createHash("sha256").update(token).digest("hex");
const setupTokenLifetimeMs = 24 * 60 * 60 * 1000;

/**
 * Embedded mode: makes sure the local admin exists; while it has no password, issues a fresh one-time setup
 * token (older ones stop working) and returns it so the server can print the setup link.
 */
export async function prepareLocalAdmin(db: Database): Promise<{ setupToken: string | null }> {
  await db
    .insert(users)
    .values({ username: localAdminUsername, displayName: "Administrator", source: "local", grantedRoles: ["admin"] })
    .onConflictDoNothing();
  const [admin] = await db.select().from(users).where(eq(users.username, localAdminUsername));
  if (!admin || admin.passwordHash) return { setupToken: null };
  const token = randomBytes(24).toString("base64url");
  await db.transaction(async (tx) => {
    await tx.delete(setupTokens).where(eq(setupTokens.userId, admin.id));
    await tx.insert(setupTokens).values({ tokenHash: hashSetupToken(token), userId: admin.id, expiresAt: new Date(Date.now() + setupTokenLifetimeMs) });
  });
  return { setupToken: token };
}

export async function isSetupTokenValid(db: Database, token: string): Promise<boolean> {
  const [row] = await db
    .select({ userId: setupTokens.userId })
    .from(setupTokens)
    .where(and(eq(setupTokens.tokenHash, hashSetupToken(token)), isNull(setupTokens.usedAt), gt(setupTokens.expiresAt, new Date())));
  return Boolean(row);
}

/** Spends the setup token and sets the password in one transaction; returns the account, or null if the token is not valid. */
export async function completeSetup(db: Database, token: string, passwordHash: string): Promise<UserRow | null> {
  return db.transaction(async (tx) => {
    const [spent] = await tx
      .update(setupTokens)
      .set({ usedAt: new Date() })
      .where(and(eq(setupTokens.tokenHash, hashSetupToken(token)), isNull(setupTokens.usedAt), gt(setupTokens.expiresAt, new Date())))
      .returning();
    if (!spent) return null;
    const [admin] = await tx.update(users).set({ passwordHash }).where(eq(users.id, spent.userId)).returning();
    return admin ?? null;
  });
}

export async function findLocalUser(db: Database, username: string): Promise<UserRow | undefined> {
  const [user] = await db
    .select()
    .from(users)
    .where(and(eq(users.username, username), eq(users.source, "local")));
  return user;
}

export async function recordLogin(db: Database, userId: string) {
  await db.update(users).set({ lastLoginAt: new Date() }).where(eq(users.id, userId));
}

export async function updateUser(db: Database, actor: Actor, id: string, change: { grantedRoles?: Role[]; disabled?: boolean }): Promise<UserRow> {
  if (!isUuid(id)) throw notFound("User");
  // Nobody locks themselves out: another admin must do it.
  if (id === actor.id) {
    if (change.disabled) throw new ApiError(400, "You cannot disable your own account; ask another admin");
    const self = await findUserById(db, id);
    if (change.grantedRoles && !change.grantedRoles.includes("admin") && self?.grantedRoles.includes("admin") && !self.idpRoles.includes("admin")) {
      throw new ApiError(400, "You cannot remove your own admin role; ask another admin");
    }
  }
  const [updated] = await db.update(users).set(change).where(eq(users.id, id)).returning();
  if (!updated) throw notFound("User");
  await audit(db, actor, { action: "user.update", objectType: "user", objectId: id, details: { username: updated.username, ...change } });
  return updated;
}

export async function listGroupRoleMappings(db: Database) {
  return db.select().from(groupRoleMappings).orderBy(asc(groupRoleMappings.group), asc(groupRoleMappings.role));
}

/**
 * The group's members get their roles from groups recomputed now, not at their next sign-in: a role taken away
 * is gone from live watchers too (server/access-sweep.ts), and one given applies at once.
 */
async function recomputeIdpRolesOfGroup(db: Database, group: string) {
  const members = await db.select({ id: users.id, groups: users.groups }).from(users).where(sql`${group} = any(${users.groups})`);
  const mappings = await db.select().from(groupRoleMappings);
  for (const member of members) await db.update(users).set({ idpRoles: rolesOfGroups(mappings, member.groups ?? []) }).where(eq(users.id, member.id));
}

export async function addGroupRoleMapping(db: Database, actor: Actor, mapping: { group: string; role: Role }) {
  await db.insert(groupRoleMappings).values(mapping).onConflictDoNothing();
  await recomputeIdpRolesOfGroup(db, mapping.group);
  await audit(db, actor, { action: "role_mapping.add", objectType: "role_mapping", objectId: `${mapping.group}=${mapping.role}`, details: mapping });
}

export async function removeGroupRoleMapping(db: Database, actor: Actor, mapping: { group: string; role: Role }) {
  const removed = await db
    .delete(groupRoleMappings)
    .where(and(eq(groupRoleMappings.group, mapping.group), eq(groupRoleMappings.role, mapping.role)))
    .returning();
  if (removed.length === 0) throw notFound("Mapping");
  await recomputeIdpRolesOfGroup(db, mapping.group);
  await audit(db, actor, { action: "role_mapping.remove", objectType: "role_mapping", objectId: `${mapping.group}=${mapping.role}`, details: mapping });
}

export async function listServiceAccounts(db: Database) {
  return db.select().from(users).where(eq(users.source, "service")).orderBy(asc(users.username));
}
