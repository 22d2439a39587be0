// Cancelled access: when security terminates a session "and cancels", the user may not reach that target again
// until an admin restores it, whatever the target's allow lists and policies say (lib/domain/governance/decide.ts).
import { and, eq } from "drizzle-orm";
import { audit, type Actor } from "./audit";
import type { Database } from "./client";
import { accessRevocations, targets, users } from "./schema";
import { notFound } from "../domain/errors";
import { isUuid } from "../domain/ids";

export async function revokeAccess(db: Database, revocation: { userId: string; targetId: string; revokedBy: string; reason: string }) {
  await db.insert(accessRevocations).values(revocation).onConflictDoNothing();
}

export async function listAllRevocations(db: Database) {
  return db
    .select({ targetId: accessRevocations.targetId, targetName: targets.name, userId: accessRevocations.userId, username: users.username, revokedAt: accessRevocations.revokedAt, revokedBy: accessRevocations.revokedBy, reason: accessRevocations.reason })
    .from(accessRevocations)
    .innerJoin(users, eq(users.id, accessRevocations.userId))
    .innerJoin(targets, eq(targets.id, accessRevocations.targetId))
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
