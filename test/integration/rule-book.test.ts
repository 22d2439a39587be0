// The command rules on every node: a change made through one node's connection reaches another node's rule book
// (LISTEN/NOTIFY on the real PostgreSQL) and its live sessions' rule sets at once; the built-in pack is added
// once and what an admin changed in it survives a restart.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Actor } from "@/lib/data/audit";
import { RuleBook } from "@/lib/domain/command-policy/rule-book";
import { createCommandRule, updateCommandRule } from "@/lib/data/command-policy/rules";
import { openDatabase, type DatabaseHandle } from "@/lib/data/client";
import { commandRules } from "@/lib/data/schema";
import { commandRuleInputSchema } from "@/lib/protocol/command-rules";

const actor: Actor = { id: null, name: "test", sourceIp: "127.0.0.1" };
const run = Date.now().toString(36);
const scope = { person: { id: "p", username: `dana-${run}`, email: null, groups: [] }, target: { name: `db-${run}`, tags: [] }, protocol: "ssh" as const, policyNames: [] };

describe("the rule book of every node", () => {
  let nodeA: DatabaseHandle;
  let nodeB: DatabaseHandle;
  let bookB: RuleBook;

  beforeAll(async () => {
    nodeA = await openDatabase({ databaseUrl: inject("databaseUrl"), dataDir: "unused" });
    nodeB = await openDatabase({ databaseUrl: inject("databaseUrl"), dataDir: "unused" });
    await RuleBook.open(nodeA);
    bookB = await RuleBook.open(nodeB);
  });
  afterAll(async () => {
    await nodeA?.close();
    await nodeB?.close();
  });

  it("takes in a rule added on another node, and a live session's rules match it at once", async () => {
    const session = bookB.forSession(scope);
    expect(await session.of("command").match([`drop-${run}`])).toEqual([]);
    const version = bookB.version;
    const rule = await createCommandRule(nodeA.db, actor, commandRuleInputSchema.parse({ name: `only db ${run}`, kind: "command", pattern: `^drop-${run}$`, action: "block", severity: "high", targetNames: [`db-${run}`] }));
    await expect.poll(() => bookB.version, { timeout: 5_000 }).toBeGreaterThan(version);
    const matched = await session.of("command").match([`drop-${run}`]);
    expect(matched !== "undecided" && matched.map((hit) => hit.name)).toEqual([`only db ${run}`]);
    // Outside its scope it does not apply.
    expect(bookB.forSession({ ...scope, target: { name: "elsewhere", tags: [] } }).of("command").rules.some((candidate) => candidate.id === rule.id)).toBe(false);

    const disabledAt = bookB.version;
    await updateCommandRule(nodeA.db, actor, rule.id, commandRuleInputSchema.parse({ name: `only db ${run}`, kind: "command", pattern: `^drop-${run}$`, action: "block", severity: "high", targetNames: [`db-${run}`], enabled: false }));
    await expect.poll(() => bookB.version, { timeout: 5_000 }).toBeGreaterThan(disabledAt);
    expect(await session.of("command").match([`drop-${run}`])).toEqual([]);
  });

  it("adds the built-in pack once: a built-in rule an admin disabled stays disabled when a node starts again", async () => {
    const [builtin] = await nodeA.db.select().from(commandRules).where(eq(commandRules.builtinKey, "reverse-shell"));
    expect(builtin).toMatchObject({ action: "alert", enabled: true });
    await nodeA.db.update(commandRules).set({ enabled: false }).where(eq(commandRules.id, builtin!.id));
    const restarted = await openDatabase({ databaseUrl: inject("databaseUrl"), dataDir: "unused" });
    try {
      await RuleBook.open(restarted);
      const rows = await restarted.db.select().from(commandRules).where(eq(commandRules.builtinKey, "reverse-shell"));
      expect(rows.map((row) => row.enabled)).toEqual([false]);
    } finally {
      await nodeA.db.update(commandRules).set({ enabled: true }).where(eq(commandRules.id, builtin!.id));
      await restarted.close();
    }
  });
});
