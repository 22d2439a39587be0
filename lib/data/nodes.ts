// The node registry: every gateway node on this database refreshes its row every few seconds, with what it
// carries and how it fares. A node that stops (crash, power, network) is retired by a survivor, which marks that
// node's sessions interrupted; its row stays a week, marked, so that the fleet page says what became of it.
import { and, eq, isNull, lt, ne } from "drizzle-orm";
import { audit, systemActor } from "./audit";
import type { Database } from "./client";
import { nodes } from "./schema";
import { lateAfterMs, type NodeStats, type NodeView } from "../protocol/nodes";
import { markInterruptedSessions } from "./sessions";

export const heartbeatEveryMs = 5_000;
/** Three missed heartbeats: a survivor retires the node within this plus one heartbeat (≤ 20 s). */
export const silentAfterMs = 15_000;

export type NodeRow = typeof nodes.$inferSelect;

/** Retired nodes are listed this long after they fell silent. */
const retiredKeptMs = 7 * 24 * 3600_000;

export async function recordHeartbeat(db: Database, node: { name: string; version: string; internalUrl: string; startedAt: Date }, stats: NodeStats = { sessions: {} }) {
  const now = new Date();
  await db
    .insert(nodes)
    .values({ ...node, heartbeatAt: now, stats })
    .onConflictDoUpdate({ target: nodes.name, set: { version: node.version, internalUrl: node.internalUrl, startedAt: node.startedAt, heartbeatAt: now, stats, retiredAt: null } });
}

/** A node that is up (not retired), to relay a live view from. */
export async function findNode(db: Database, name: string): Promise<NodeRow | undefined> {
  const [row] = await db
    .select()
    .from(nodes)
    .where(and(eq(nodes.name, name), isNull(nodes.retiredAt)));
  return row;
}

/** The fleet as the Nodes page shows it: each node up, late or retired, and whether its version drifts. */
export async function listNodeViews(db: Database, now = new Date()): Promise<NodeView[]> {
  const rows = await db.select().from(nodes).orderBy(nodes.name);
  const live = rows.filter((row) => row.retiredAt === null);
  const versions = new Map<string, number>();
  for (const row of live) versions.set(row.version, (versions.get(row.version) ?? 0) + 1);
  // The version most live nodes run; a tie goes to the newest by name order (1.10 after 1.9 is not needed here).
  const common = [...versions].sort((a, b) => b[1] - a[1] || b[0].localeCompare(a[0]))[0]?.[0];
  return rows.map((row) => ({
    name: row.name,
    version: row.version,
    startedAt: row.startedAt.toISOString(),
    heartbeatAt: row.heartbeatAt.toISOString(),
    health: row.retiredAt ? "retired" : now.getTime() - row.heartbeatAt.getTime() > lateAfterMs ? "late" : "up",
    versionDrift: row.retiredAt === null && common !== undefined && row.version !== common,
    stats: row.stats,
    retiredAt: row.retiredAt?.toISOString() ?? null,
  }));
}

/**
 * Retires the nodes whose heartbeat stopped, as seen from `survivor`: each one's row is marked by exactly one
 * survivor (the update decides), which then ends that node's live sessions as interrupted and audits it.
 */
export async function retireSilentNodes(db: Database, survivor: string, now = new Date()): Promise<{ node: string; interruptedSessions: number }[]> {
  await db.delete(nodes).where(lt(nodes.retiredAt, new Date(now.getTime() - retiredKeptMs)));
  const retired = await db
    .update(nodes)
    .set({ retiredAt: now })
    .where(and(ne(nodes.name, survivor), isNull(nodes.retiredAt), lt(nodes.heartbeatAt, new Date(now.getTime() - silentAfterMs))))
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
