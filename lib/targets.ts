// Targets: the machines and apps users connect to, and who may reach each.
import { and, asc, eq, isNull } from "drizzle-orm";
import { ApiError, notFound } from "./errors";
import { audit, type Actor } from "./audit";
import { accessOverview } from "./governance/access";
import type { Person } from "./governance/decide";
import type { Database } from "./db/client";
import { credentials, targets } from "./db/schema";
import { isUuid } from "./ids";
import type { TargetInput } from "./protocol/admin";

export type TargetRow = typeof targets.$inferSelect;

export async function listTargets(db: Database): Promise<TargetRow[]> {
  return db.select().from(targets).orderBy(asc(targets.name));
}

export async function findTarget(db: Database, id: string): Promise<TargetRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [target] = await db.select().from(targets).where(eq(targets.id, id));
  return target;
}

/** The targets the person is listed on or named by a policy for, each with the access decision for now. */
export async function listReachableTargets(db: Database, person: Person, clientAddress: string | null) {
  return accessOverview(db, person, await listTargets(db), clientAddress);
}

async function assertCredentialExists(db: Database, credentialId: string | null) {
  if (credentialId === null) return;
  const [found] = await db.select({ id: credentials.id }).from(credentials).where(eq(credentials.id, credentialId));
  if (!found) throw new ApiError(400, "Some fields need attention", { credentialId: "No such credential" });
}

export async function createTarget(db: Database, actor: Actor, input: TargetInput): Promise<TargetRow> {
  await assertCredentialExists(db, input.credentialId);
  const [created] = await db.insert(targets).values(input).returning();
  await audit(db, actor, { action: "target.create", objectType: "target", objectId: created!.id, details: { ...input } });
  return created!;
}

export async function updateTarget(db: Database, actor: Actor, id: string, input: TargetInput): Promise<TargetRow> {
  if (!(await findTarget(db, id))) throw notFound("Target");
  await assertCredentialExists(db, input.credentialId);
  const [updated] = await db
    .update(targets)
    .set({ ...input, updatedAt: new Date() })
    .where(eq(targets.id, id))
    .returning();
  await audit(db, actor, { action: "target.update", objectType: "target", objectId: id, details: { ...input } });
  return updated!;
}

export async function deleteTarget(db: Database, actor: Actor, id: string): Promise<void> {
  const target = await findTarget(db, id);
  if (!target) throw notFound("Target");
  await db.delete(targets).where(eq(targets.id, id));
  await audit(db, actor, { action: "target.delete", objectType: "target", objectId: id, details: { name: target.name } });
}

/** Trust on first use: pins the host key a target showed on its first connection, unless one was pinned meanwhile. */
export async function pinHostKey(db: Database, targetId: string, fingerprint: string): Promise<void> {
  await db
    .update(targets)
    .set({ hostKeyFingerprint: fingerprint })
    .where(and(eq(targets.id, targetId), isNull(targets.hostKeyFingerprint)));
}
