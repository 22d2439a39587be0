// The node registry: every gateway node on this database refreshes its row every few seconds. A node that
// stops (crash, power, network) is retired by a survivor, which marks that node's sessions interrupted.
import { and, eq, lt, ne } from "drizzle-orm";
import { audit, systemActor } from "./audit";
import type { Database } from "./db/client";
import { nodes } from "./db/schema";
import { markInterruptedSessions } from "./sessions";

export const heartbeatEveryMs = 5_000;
/** Three missed heartbeats: a survivor retires the node within this plus one heartbeat (≤ 20 s). */
export const silentAfterMs = 15_000;

export type NodeRow = typeof nodes.$inferSelect;

export async function recordHeartbeat(db: Database, node: { name: string; version: string; internalUrl: string; startedAt: Date }) {
  const now = new Date();
  await db
    .insert(nodes)
    .values({ ...node, heartbeatAt: now })
    .onConflictDoUpdate({ target: nodes.name, set: { version: node.version, internalUrl: node.internalUrl, startedAt: node.startedAt, heartbeatAt: now } });
}

export async function findNode(db: Database, name: string): Promise<NodeRow | undefined> {
  const [row] = await db.select().from(nodes).where(eq(nodes.name, name));
  return row;
}

export async function listNodes(db: Database): Promise<NodeRow[]> {
  return db.select().from(nodes).orderBy(nodes.name);
}

/**
 * Retires the nodes whose heartbeat stopped, as seen from `survivor`: each one's row is deleted by exactly one
 * survivor (the delete decides), which then ends that node's live sessions as interrupted and audits it.
 */
export async function retireSilentNodes(db: Database, survivor: string, now = new Date()): Promise<{ node: string; interruptedSessions: number }[]> {
  const retired = await db
    .delete(nodes)
    .where(and(ne(nodes.name, survivor), lt(nodes.heartbeatAt, new Date(now.getTime() - silentAfterMs))))
    .returning({ name: nodes.name, heartbeatAt: nodes.heartbeatAt });
  const results = [];
  for (const node of retired) {
    const interruptedSessions = await markInterruptedSessions(db, node.name);
    await audit(db, systemActor, { action: "node.retire", objectType: "node", objectId: node.name, details: { retiredBy: survivor, lastHeartbeat: node.heartbeatAt.toISOString(), interruptedSessions } });
    results.push({ node: node.name, interruptedSessions });
  }
  return results;
}

export async function removeNode(db: Database, name: string) {
  await db.delete(nodes).where(eq(nodes.name, name));
}
