// Cancelled access: when security terminates a session "and cancels", the user may not reach that target again
// until an admin restores it, whatever the target's allow lists say. `mayReach` is the full access decision,
// and `sessionsNoLongerAllowed` applies it again to sessions already running.
import { and, eq, ne, sql } from "drizzle-orm";
import { canReach } from "./access";
import { audit, type Actor } from "./audit";
import type { Database } from "./db/client";
import { accessRevocations, sessions, targets, users } from "./db/schema";
import { notFound } from "./errors";
import { isUuid } from "./ids";

type Subject = Parameters<typeof canReach>[0] & { id: string };
type Reachable = Parameters<typeof canReach>[1] & { id: string };

export async function isRevoked(db: Database, userId: string, targetId: string): Promise<boolean> {
  const [row] = await db.select({ userId: accessRevocations.userId }).from(accessRevocations).where(and(eq(accessRevocations.userId, userId), eq(accessRevocations.targetId, targetId)));
  return row !== undefined;
}

export async function mayReach(db: Database, user: Subject, target: Reachable): Promise<boolean> {
  return canReach(user, target) && !(await isRevoked(db, user.id, target.id));
}

/**
 * The live sessions on `node` whose user may no longer reach their target, with why: the account was disabled,
 * the target's allow lists no longer name them or their groups, their access was cancelled, or the target is
 * gone. One query, for every protocol.
 */
export async function sessionsNoLongerAllowed(db: Database, node: string): Promise<{ id: string; protocol: string; username: string; targetName: string; why: string }[]> {
  const rows = await db
    .select({
      id: sessions.id,
      protocol: sessions.protocol,
      targetName: sessions.targetName,
      user: { username: users.username, email: users.email, groups: users.groups, disabled: users.disabled },
      target: { allowedUsers: targets.allowedUsers, allowedGroups: targets.allowedGroups },
      cancelled: sql<boolean>`exists (select 1 from ${accessRevocations} where ${accessRevocations.userId} = ${sessions.userId} and ${accessRevocations.targetId} = ${sessions.targetId})`,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .leftJoin(targets, eq(targets.id, sessions.targetId))
    .where(and(eq(sessions.node, node), ne(sessions.status, "ended")));
  const refused = [];
  for (const { id, protocol, targetName, user, target, cancelled } of rows) {
    const why = user.disabled
      ? "the account was disabled"
      : !target?.allowedUsers
        ? `${targetName} was removed`
        : cancelled
          ? `access to ${targetName} was cancelled`
          : !canReach({ ...user, groups: user.groups ?? [] }, { allowedUsers: target.allowedUsers, allowedGroups: target.allowedGroups ?? [] })
            ? `${targetName} no longer allows this account`
            : null;
    if (why) refused.push({ id, protocol, username: user.username, targetName, why });
  }
  return refused;
}

export async function revokedTargetIds(db: Database, userId: string): Promise<Set<string>> {
  const rows = await db.select({ targetId: accessRevocations.targetId }).from(accessRevocations).where(eq(accessRevocations.userId, userId));
  return new Set(rows.map((row) => row.targetId));
}

export async function revokeAccess(db: Database, revocation: { userId: string; targetId: string; revokedBy: string; reason: string }) {
  await db.insert(accessRevocations).values(revocation).onConflictDoNothing();
}

export async function listAllRevocations(db: Database) {
  return db
    .select({ targetId: accessRevocations.targetId, userId: accessRevocations.userId, username: users.username, revokedAt: accessRevocations.revokedAt, revokedBy: accessRevocations.revokedBy, reason: accessRevocations.reason })
    .from(accessRevocations)
    .innerJoin(users, eq(users.id, accessRevocations.userId))
    .orderBy(accessRevocations.revokedAt);
}

/** An admin grants the access again. */
export async function restoreAccess(db: Database, actor: Actor, targetId: string, userId: string) {
  if (!isUuid(targetId) || !isUuid(userId)) throw notFound("Cancelled access");
  const [restored] = await db
    .delete(accessRevocations)
    .where(and(eq(accessRevocations.targetId, targetId), eq(accessRevocations.userId, userId)))
    .returning({ reason: accessRevocations.reason });
  if (!restored) throw notFound("Cancelled access");
  const [target] = await db.select({ name: targets.name }).from(targets).where(eq(targets.id, targetId));
  await audit(db, actor, { action: "access.restore", objectType: "target", objectId: targetId, details: { target: target?.name, userId, cancelledFor: restored.reason } });
}
