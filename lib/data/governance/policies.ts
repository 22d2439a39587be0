// Access policies and activities, as admins manage them; every change is audited with what it now says.
import { asc, eq, sql } from "drizzle-orm";
import { audit, type Actor } from "../audit";
import type { Database } from "../client";
import { accessPolicies, activities } from "../schema";
import { ApiError, notFound } from "../../domain/errors";
import { isUuid } from "../../domain/ids";
import type { ActivityInput, PolicyInput } from "../../protocol/governance";

export type PolicyRow = typeof accessPolicies.$inferSelect;

export async function listPolicies(db: Database) {
  return db.select().from(accessPolicies).orderBy(asc(accessPolicies.name));
}

export async function createPolicy(db: Database, actor: Actor, input: PolicyInput) {
  const [created] = await db.insert(accessPolicies).values(input).returning();
  await audit(db, actor, { action: "policy.create", objectType: "access_policy", objectId: created!.id, details: { ...input } });
  return created!;
}

export async function updatePolicy(db: Database, actor: Actor, id: string, input: PolicyInput) {
  if (!isUuid(id)) throw notFound("Policy");
  const [updated] = await db.update(accessPolicies).set({ ...input, updatedAt: new Date() }).where(eq(accessPolicies.id, id)).returning();
  if (!updated) throw notFound("Policy");
  await audit(db, actor, { action: "policy.update", objectType: "access_policy", objectId: id, details: { ...input } });
  return updated;
}

export async function deletePolicy(db: Database, actor: Actor, id: string) {
  if (!isUuid(id)) throw notFound("Policy");
  const [usedBy] = await db.select({ name: activities.name }).from(activities).where(sql`${id}::uuid = any(${activities.policyIds})`).limit(1);
  if (usedBy) throw new ApiError(409, `Activity ${usedBy.name} is tied to this policy; untie it first`);
  const [deleted] = await db.delete(accessPolicies).where(eq(accessPolicies.id, id)).returning({ name: accessPolicies.name });
  if (!deleted) throw notFound("Policy");
  await audit(db, actor, { action: "policy.delete", objectType: "access_policy", objectId: id, details: { name: deleted.name } });
}

export async function listActivities(db: Database) {
  return db.select().from(activities).orderBy(asc(activities.name));
}

async function assertPoliciesExist(db: Database, ids: string[]) {
  const known = new Set((await listPolicies(db)).map((policy) => policy.id));
  if (ids.some((id) => !known.has(id))) throw new ApiError(400, "Some fields need attention", { policyIds: "No such policy" });
}

export async function createActivity(db: Database, actor: Actor, input: ActivityInput) {
  await assertPoliciesExist(db, input.policyIds);
  const [created] = await db.insert(activities).values(input).returning();
  await audit(db, actor, { action: "activity.create", objectType: "activity", objectId: created!.id, details: { ...input } });
  return created!;
}

export async function updateActivity(db: Database, actor: Actor, id: string, input: ActivityInput) {
  if (!isUuid(id)) throw notFound("Activity");
  await assertPoliciesExist(db, input.policyIds);
  const [updated] = await db.update(activities).set(input).where(eq(activities.id, id)).returning();
  if (!updated) throw notFound("Activity");
  await audit(db, actor, { action: "activity.update", objectType: "activity", objectId: id, details: { ...input } });
  return updated;
}

export async function deleteActivity(db: Database, actor: Actor, id: string) {
  if (!isUuid(id)) throw notFound("Activity");
  const [deleted] = await db.delete(activities).where(eq(activities.id, id)).returning({ name: activities.name });
  if (!deleted) throw notFound("Activity");
  await audit(db, actor, { action: "activity.delete", objectType: "activity", objectId: id, details: { name: deleted.name } });
}
