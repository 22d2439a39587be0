// Targets: the machines and apps users connect to, and who may reach each.
import { and, asc, count, eq, getTableColumns, gt, isNull, sql } from "drizzle-orm";
import { ApiError, notFound } from "../domain/errors";
import { audit, type Actor } from "./audit";
import { accessOverview } from "./governance/access";
import type { Person } from "../domain/governance/decide";
import type { Database } from "./client";
import { credentials, targetTags, targets } from "./schema";
import { isUuid } from "../domain/ids";
import type { TargetInput } from "../protocol/admin";
import { targetPageSize, type TargetPageQuery, type TargetSearch } from "../protocol/target-search";
import { escapeLike } from "./sql-text";

/** A target as the gateway uses it: every column but the search's own. */
const { searchText: _searchText, ...targetColumns } = getTableColumns(targets);
export type TargetRow = Omit<typeof targets.$inferSelect, "searchText">;

export async function listTargets(db: Database): Promise<TargetRow[]> {
  return db.select(targetColumns).from(targets).orderBy(asc(targets.name));
}

/** The search as SQL: what matchesTargetSearch (lib/protocol/target-search.ts) says of one target. */
function targetSearchConditions({ q, tag }: TargetSearch) {
  const words = (q ?? "").split(/\s+/).filter((word) => word !== "");
  return [tag ? sql`${targets.tags} @> array[${tag}]::text[]` : undefined, ...words.map((word) => sql`${targets.searchText} like lower(${`%${escapeLike(word)}%`})`)];
}

/**
 * A page of targets in name order for the admin's list: those matching the search after the `after` name, how
 * many match and how many there are, the name to go on after, and (for the page's filter) every tag in use.
 */
export async function listTargetsPage(db: Database, query: TargetPageQuery, { withTags = false, pageSize = targetPageSize } = {}) {
  const matching = targetSearchConditions(query);
  const [rows, [counted], tags] = await Promise.all([
    db
      .select(targetColumns)
      .from(targets)
      .where(and(...matching, query.after ? gt(targets.name, query.after) : undefined))
      .orderBy(asc(targets.name))
      .limit(pageSize + 1),
    db.select({ matching: count(), total: sql<number>`(select count(*) from ${targets})::int` }).from(targets).where(and(...matching)),
    withTags ? db.select({ tag: targetTags.tag }).from(targetTags).orderBy(asc(targetTags.tag)) : [],
  ]);
  return {
    targets: rows.slice(0, pageSize),
    next: rows.length > pageSize ? rows[pageSize - 1]!.name : null,
    matching: counted?.matching ?? 0,
    total: counted?.total ?? 0,
    tags: tags.map(({ tag }) => tag),
  };
}

export async function findTarget(db: Database, id: string): Promise<TargetRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [target] = await db.select(targetColumns).from(targets).where(eq(targets.id, id));
  return target;
}

/** A published web app by its name (the first label of its host). */
export async function findWebTarget(db: Database, name: string): Promise<TargetRow | undefined> {
  const [target] = await db.select(targetColumns).from(targets).where(and(eq(targets.name, name), eq(targets.protocol, "web")));
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
  const [created] = await db.insert(targets).values(input).returning(targetColumns);
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
    .returning(targetColumns);
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
