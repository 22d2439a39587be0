// Cancelled access: when security terminates a session "and cancels", the user may not reach that target again
// until an admin restores it, whatever the target's allow lists say. `mayReach` is the full access decision.
import { and, eq } from "drizzle-orm";
import { canReach } from "./access";
import { audit, type Actor } from "./audit";
import type { Database } from "./db/client";
import { accessRevocations, targets, users } from "./db/schema";
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
