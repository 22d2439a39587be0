// The cluster's plumbing on the real PostgreSQL: controls delivered by NOTIFY to the node they name (from
// another connection, as from another node), the node registry retiring a silent node, and cancelled access.
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Actor } from "@/lib/data/audit";
import { createControlBus, type ControlBus } from "@/lib/infra/control-bus";
import { openDatabase, type DatabaseHandle } from "@/lib/data/client";
import { auditLog, nodes, sessions, users } from "@/lib/data/schema";
import { disconnectedAfterMs, findNode, listNodeViews, nodeConnectionName, recordHeartbeat, retireSilentNodes, silentAfterMs } from "@/lib/data/nodes";
import { targetInputSchema } from "@/lib/protocol/admin";
import type { ControlCommand } from "@/lib/protocol/live";
import { decideAccess } from "@/lib/data/governance/access";
import { restoreAccess, revokeAccess } from "@/lib/data/revocations";
import { openSessionRow } from "@/lib/data/sessions";
import { createTarget, listReachableTargets } from "@/lib/data/targets";

const actor: Actor = { id: null, name: "test", sourceIp: "127.0.0.1" };
const run = Date.now().toString(36);
const survivorA = { name: `a-${run}`, connectionName: nodeConnectionName(`a-${run}`) };
const survivorB = { name: `b-${run}`, connectionName: nodeConnectionName(`b-${run}`) };
const nodeIdentity = (name: string, connectionName: string | null, startedAt = new Date()) => ({ name, version: "0.1.0", internalUrl: "http://127.0.0.1:1", startedAt, connectionName });

describe("cluster plumbing on PostgreSQL", () => {
  let nodeA: DatabaseHandle;
  let nodeB: DatabaseHandle;
  let busA: ControlBus;
  let busB: ControlBus;
  let userId: string;
  let targetId: string;
  const seenByB: ControlCommand[] = [];

  beforeAll(async () => {
    // Two handles, two pools, two listening connections: as two gateway processes would have.
    nodeA = await openDatabase({ databaseUrl: inject("databaseUrl"), dataDir: "unused", connectionName: nodeConnectionName(`a-${run}`) });
    nodeB = await openDatabase({ databaseUrl: inject("databaseUrl"), dataDir: "unused", connectionName: nodeConnectionName(`b-${run}`) });
    busA = await createControlBus(nodeA, `a-${run}`);
    busB = await createControlBus(nodeB, `b-${run}`);
    busB.serve(async (command) => {
      seenByB.push(command);
      return command.sessionId === "known" ? { ok: true, message: "the session is locked" } : { ok: false, message: "not running here" };
    });
    const [user] = await nodeA.db.insert(users).values({ username: `carol-${run}`, source: "local" }).returning();
    userId = user!.id;
    const target = await createTarget(nodeA.db, actor, targetInputSchema.parse({ name: `cluster-${run}`, protocol: "ssh", host: "127.0.0.1", port: 22, allowedUsers: [`carol-${run}`] }));
    targetId = target.id;
  });
  afterAll(async () => {
    await nodeA?.close();
    await nodeB?.close();
  });

  it("delivers a control to the node it names, and brings back that node's answer", async () => {
    const reply = await busA.send({ node: `b-${run}`, sessionId: "known", action: "lock", reason: "checking", actorName: "sam" });
    expect(reply).toMatchObject({ ok: true, message: "the session is locked" });
    expect(seenByB).toEqual([expect.objectContaining({ node: `b-${run}`, sessionId: "known", action: "lock", reason: "checking", actorName: "sam" })]);
    const refused = await busA.send({ node: `b-${run}`, sessionId: "other", action: "pause", reason: "checking", actorName: "sam" });
    expect(refused).toMatchObject({ ok: false, message: "not running here" });
  });

  it("answers for a node that is not there after the timeout, instead of waiting forever", async () => {
    const reply = await busA.send({ node: `gone-${run}`, sessionId: "known", action: "terminate", reason: "checking", actorName: "sam" });
    expect(reply).toMatchObject({ ok: false, message: `node gone-${run} did not answer within 5 s; it may be down` });
    expect(seenByB.filter((command) => command.node === `gone-${run}`)).toEqual([]);
  });

  it("retires a node whose heartbeat stopped, once, and marks its live sessions interrupted", async () => {
    const silent = `silent-${run}`;
    const startedAt = new Date();
    // A node of a version that did not name its connections: only its silence retires it.
    await recordHeartbeat(nodeA.db, nodeIdentity(silent, null, startedAt));
    await recordHeartbeat(nodeA.db, nodeIdentity(`a-${run}`, survivorA.connectionName, startedAt));
    const { id: sessionId } = await openSessionRow(nodeA.db, { userId, targetId, targetName: `cluster-${run}`, protocol: "ssh", node: silent, requestId: null, clientAddress: null });
    const stillAlive = await retireSilentNodes(nodeA.db, survivorA, new Date(Date.now() + silentAfterMs - 1000));
    expect(stillAlive.map((retired) => retired.node)).not.toContain(silent);

    const later = new Date(Date.now() + silentAfterMs + 1000);
    // Two survivors race: exactly one retires the node.
    const [fromA, fromB] = await Promise.all([retireSilentNodes(nodeA.db, survivorA, later), retireSilentNodes(nodeB.db, survivorB, later)]);
    expect([...fromA, ...fromB].filter((retired) => retired.node === silent)).toEqual([{ node: silent, interruptedSessions: 1, disconnected: false }]);
    const [row] = await nodeA.db.select().from(sessions).where(eq(sessions.id, sessionId));
    expect(row).toMatchObject({ status: "ended", endReason: "interrupted" });
    // Its row stays, marked, for the fleet page; no live view is relayed from it.
    const [kept] = await nodeA.db.select().from(nodes).where(eq(nodes.name, silent));
    expect(kept!.retiredAt).toEqual(later);
    expect(await findNode(nodeA.db, silent)).toBeUndefined();
    expect((await listNodeViews(nodeA.db, later)).find((node) => node.name === silent)).toMatchObject({ health: "retired", versionDrift: false });
    const audited = await nodeA.db.select().from(auditLog).where(eq(auditLog.objectId, silent));
    expect(audited.map((entry) => entry.action)).toEqual(["node.retire"]);
    // Started again, it is up again; on a version the others do not run, which is flagged.
    for (const other of [`a-${run}`, `c-${run}`]) await recordHeartbeat(nodeA.db, nodeIdentity(other, null, startedAt));
    await recordHeartbeat(nodeA.db, { ...nodeIdentity(silent, null), version: "0.2.0" }, { sessions: { ssh: 2 } });
    expect(await findNode(nodeA.db, silent)).toMatchObject({ retiredAt: null, stats: { sessions: { ssh: 2 } } });
    const views = await listNodeViews(nodeA.db);
    expect(views.find((node) => node.name === silent)).toMatchObject({ health: "up", versionDrift: true });
    expect(views.find((node) => node.name === `a-${run}`)).toMatchObject({ health: "up", versionDrift: false });
  });

  it("retires a node once none of its database connections is left, not before; the node, back, learns it was retired", async () => {
    const name = `cut-off-${run}`;
    const identity = nodeIdentity(name, nodeConnectionName(name));
    const cutOff = await openDatabase({ databaseUrl: inject("databaseUrl"), dataDir: "unused", connectionName: identity.connectionName! });
    await recordHeartbeat(cutOff.db, identity);
    const { id: sessionId } = await openSessionRow(nodeA.db, { userId, targetId, targetName: `cluster-${run}`, protocol: "ssh", node: name, requestId: null, clientAddress: null });
    const late = new Date(Date.now() + disconnectedAfterMs + 1000);
    // Late, but still connected: a busy node, not a dead one.
    expect((await retireSilentNodes(nodeA.db, survivorA, late)).map((retired) => retired.node)).not.toContain(name);

    await cutOff.close();
    // A survivor that cannot see its own name (a proxy renaming connections) does not trust that others' are gone.
    expect((await retireSilentNodes(nodeA.db, { name: `a-${run}`, connectionName: "gatehouse renamed-by-a-proxy" }, late)).map((retired) => retired.node)).not.toContain(name);
    // Nor is anyone retired for it just after the database started, when every node is still reconnecting.
    const [{ started }] = (await nodeA.db.execute(sql`select pg_postmaster_start_time() as started`)) as unknown as [{ started: string }];
    const justStarted = new Date(new Date(started).getTime() + silentAfterMs - 1000);
    await nodeA.db.update(nodes).set({ heartbeatAt: new Date(justStarted.getTime() - disconnectedAfterMs - 1000) }).where(eq(nodes.name, name));
    expect((await retireSilentNodes(nodeA.db, survivorA, justStarted)).map((retired) => retired.node)).not.toContain(name);
    await nodeA.db.update(nodes).set({ heartbeatAt: identity.startedAt }).where(eq(nodes.name, name));

    const retired = await retireSilentNodes(nodeA.db, survivorA, late);
    expect(retired.filter((node) => node.node === name)).toEqual([{ node: name, interruptedSessions: 1, disconnected: true }]);
    const [row] = await nodeA.db.select().from(sessions).where(eq(sessions.id, sessionId));
    expect(row).toMatchObject({ status: "ended", endReason: "interrupted" });
    const [audited] = await nodeA.db.select().from(auditLog).where(and(eq(auditLog.objectId, name), eq(auditLog.action, "node.retire")));
    expect(audited?.details).toMatchObject({ retiredBy: `a-${run}`, disconnected: true, interruptedSessions: 1 });

    // The same process reconnecting is told it was retired while it ran (it must end its sessions), once.
    const back = await openDatabase({ databaseUrl: inject("databaseUrl"), dataDir: "unused", connectionName: identity.connectionName! });
    try {
      expect(await recordHeartbeat(back.db, identity)).toEqual({ retiredWhileRunning: true });
      expect(await recordHeartbeat(back.db, identity)).toEqual({ retiredWhileRunning: false });
      // A process started after a retirement is not.
      await back.db.update(nodes).set({ retiredAt: late }).where(eq(nodes.name, name));
      expect(await recordHeartbeat(back.db, { ...identity, startedAt: new Date(late.getTime() + 1) })).toEqual({ retiredWhileRunning: false });
    } finally {
      await back.close();
    }
  });

  it("cancelled access overrides the allow list until an admin restores it", async () => {
    const subject = { id: userId, username: `carol-${run}`, email: null, groups: [] };
    const target = { id: targetId, name: `cluster-${run}`, tags: [], allowedUsers: [`carol-${run}`], allowedGroups: [] };
    const allowed = async () => (await decideAccess(nodeA.db, subject, target, "127.0.0.1")).allowed;
    expect(await allowed()).toBe(true);
    await revokeAccess(nodeA.db, { userId, targetId, revokedBy: "sam", reason: "copied data out" });
    expect(await decideAccess(nodeA.db, subject, target, "127.0.0.1")).toMatchObject({ allowed: false, code: "cancelled" });
    // Still listed, so still shown, with why it cannot be opened.
    expect((await listReachableTargets(nodeA.db, subject, null)).find((reachable) => reachable.target.id === targetId)?.decision).toMatchObject({ allowed: false, code: "cancelled" });
    await restoreAccess(nodeA.db, actor, targetId, userId);
    expect(await allowed()).toBe(true);
    await expect(restoreAccess(nodeA.db, actor, targetId, userId)).rejects.toThrow(/not found|No such/i);
  });
});
