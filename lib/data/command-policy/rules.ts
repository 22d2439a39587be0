// Command and request rules as admins manage them: every change is audited with what the rule now says and
// announced to every node, which recompiles its rule book (server/inspector/rule-book.ts) at once.
import { asc, eq, sql } from "drizzle-orm";
import { audit, type Actor } from "../audit";
import type { Database } from "../client";
import { commandRules } from "../schema";
import { ApiError, notFound } from "../../domain/errors";
import { isUuid } from "../../domain/ids";
import type { CommandRuleInput } from "../../protocol/command-rules";
import { builtinRules } from "../../domain/command-policy/builtin-pack";
import { checkRule } from "../../domain/command-policy/rule-matcher";

export type CommandRuleRow = typeof commandRules.$inferSelect;

/** Every node listens here and reloads its rules. */
export const rulesChangedChannel = "gatehouse_rules_changed";

const announceChange = (db: Database) => db.execute(sql`select pg_notify(${rulesChangedChannel}, '')`);

export async function listCommandRules(db: Database): Promise<CommandRuleRow[]> {
  return db.select().from(commandRules).orderBy(asc(commandRules.kind), asc(commandRules.name));
}

function assertUsable(input: CommandRuleInput) {
  const problems = checkRule(input);
  if (Object.keys(problems).length > 0) throw new ApiError(400, "Some fields need attention", problems);
}

async function assertNameFree(db: Database, name: string, id?: string) {
  const [taken] = await db.select({ id: commandRules.id }).from(commandRules).where(sql`lower(${commandRules.name}) = lower(${name})`);
  if (taken && taken.id !== id) throw new ApiError(400, "Some fields need attention", { name: "Another rule has this name" });
}

export async function createCommandRule(db: Database, actor: Actor, input: CommandRuleInput) {
  assertUsable(input);
  await assertNameFree(db, input.name);
  const [created] = await db.insert(commandRules).values(input).returning();
  await audit(db, actor, { action: "command_rule.create", objectType: "command_rule", objectId: created!.id, details: { ...input } });
  await announceChange(db);
  return created!;
}

export async function updateCommandRule(db: Database, actor: Actor, id: string, input: CommandRuleInput) {
  if (!isUuid(id)) throw notFound("Rule");
  assertUsable(input);
  await assertNameFree(db, input.name, id);
  const [updated] = await db.update(commandRules).set({ ...input, updatedAt: new Date() }).where(eq(commandRules.id, id)).returning();
  if (!updated) throw notFound("Rule");
  await audit(db, actor, { action: "command_rule.update", objectType: "command_rule", objectId: id, details: { ...input } });
  await announceChange(db);
  return updated;
}

export async function deleteCommandRule(db: Database, actor: Actor, id: string) {
  if (!isUuid(id)) throw notFound("Rule");
  const [rule] = await db.select().from(commandRules).where(eq(commandRules.id, id));
  if (!rule) throw notFound("Rule");
  if (rule.builtinKey) throw new ApiError(409, `${rule.name} is a built-in rule: disable it instead`);
  await db.delete(commandRules).where(eq(commandRules.id, id));
  await audit(db, actor, { action: "command_rule.delete", objectType: "command_rule", objectId: id, details: { name: rule.name } });
  await announceChange(db);
}

/** The built-in pack, added once as alerts: what an admin changed or disabled stays as they left it. */
export async function seedBuiltinRules(db: Database) {
  const rows = builtinRules.map(({ key, ...rule }) => ({ ...rule, builtinKey: key, action: "alert" as const }));
  await db.insert(commandRules).values(rows).onConflictDoNothing();
}
