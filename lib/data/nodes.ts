// The node registry: every gateway node on this database refreshes its row every few seconds, with what it
// carries and how it fares. A node that stops (crash, power, network) is retired by a survivor, which marks that
// node's sessions interrupted; its row stays a week, marked, so that the fleet page says what became of it.
import { createHash } from "node:crypto";
import { and, eq, isNotNull, isNull, lt, ne, or, sql, type SQLWrapper } from "drizzle-orm";
import { audit, systemActor } from "./audit";
import type { Database } from "./client";
import { nodes } from "./schema";
import { lateAfterMs, type NodeStats, type NodeView } from "../protocol/nodes";
import { markInterruptedSessions } from "./sessions";

export const heartbeatEveryMs = 5_000;
/** Three missed heartbeats: a survivor retires the node within this plus one heartbeat (≤ 20 s). */
export const silentAfterMs = 15_000;
/**
 * A node whose process is gone (killed, crashed) is retired sooner: once none of its database connections is
 * left, its heartbeat is this late, and the database did not just restart (which drops every node's
 * connections at once). A node cut off from the database cannot record, so it is as good as gone for its sessions.
 */
export const disconnectedAfterMs = 2_000;
/** How often each node looks for nodes that are gone; the heartbeat itself stays at `heartbeatEveryMs`. */
export const peerCheckEveryMs = 1_000;

/**
 * The `application_name` a node's connections carry: its name where PostgreSQL keeps it as given (printable
 * ASCII, 63 bytes), else a digest of it, so that two nodes never share one.
 */
export function nodeConnectionName(name: string): string {
  const readable = `gatehouse ${name}`;
  if (readable.length <= 63 && /^[\x20-\x7e]+$/.test(readable)) return readable;
  return `gatehouse #${createHash("sha256").update(name).digest("hex").slice(0, 32)}`;
}

export type NodeRow = typeof nodes.$inferSelect;

/** Retired nodes are listed this long after they fell silent. */
const retiredKeptMs = 7 * 24 * 3600_000;

export interface NodeIdentity {
  name: string;
  version: string;
  internalUrl: string;
  startedAt: Date;
  /** The `application_name` of its PostgreSQL connections; null on the embedded database. */
  connectionName: string | null;
}

/**
 * Writes the node's heartbeat, and tells whether a survivor retired it while it ran (a stall or a lost database
 * longer than the limits above): its sessions were marked interrupted then, so the node must end them.
 */
export async function recordHeartbeat(db: Database, node: NodeIdentity, stats: NodeStats = { sessions: {} }): Promise<{ retiredWhileRunning: boolean }> {
  const now = new Date();
  return db.transaction(async (tx) => {
    const [before] = await tx.select({ retiredAt: nodes.retiredAt }).from(nodes).where(eq(nodes.name, node.name)).for("update");
    await tx
      .insert(nodes)
      .values({ ...node, heartbeatAt: now, stats })
      .onConflictDoUpdate({ target: nodes.name, set: { version: node.version, internalUrl: node.internalUrl, startedAt: node.startedAt, connectionName: node.connectionName, heartbeatAt: now, stats, retiredAt: null } });
    return { retiredWhileRunning: before?.retiredAt != null && before.retiredAt >= node.startedAt };
  });
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

/** Rows of retired nodes past their week on the fleet page are dropped. */
export async function forgetRetiredNodes(db: Database, now = new Date()) {
  await db.delete(nodes).where(lt(nodes.retiredAt, new Date(now.getTime() - retiredKeptMs)));
}

/**
 * Retires the nodes that are gone, as seen from `survivor`: silent for `silentAfterMs`, or (on PostgreSQL)
 * without a single connection left and late by `disconnectedAfterMs`. Each one's row is marked by exactly one
 * survivor (the update decides), which then ends that node's live sessions as interrupted and audits it.
 */
export async function retireSilentNodes(db: Database, survivor: Pick<NodeIdentity, "name" | "connectionName">, now = new Date()): Promise<{ node: string; interruptedSessions: number; disconnected: boolean }[]> {
  const connectedAs = (name: SQLWrapper | string) => sql`exists (select 1 from pg_stat_activity where application_name = ${name})`;
  const disconnected = survivor.connectionName
    ? and(
        isNotNull(nodes.connectionName),
        lt(nodes.heartbeatAt, new Date(now.getTime() - disconnectedAfterMs)),
        sql`not ${connectedAs(nodes.connectionName)}`,
        // Names are seen as given (no proxy in between that renames connections): the survivor sees its own.
        connectedAs(survivor.connectionName),
        // Within a silence of the database's start, every node may still be reconnecting.
        sql`pg_postmaster_start_time() < ${new Date(now.getTime() - silentAfterMs).toISOString()}::timestamptz`,
      )
    : undefined;
  const retired = await db
    .update(nodes)
    .set({ retiredAt: now })
    .where(and(ne(nodes.name, survivor.name), isNull(nodes.retiredAt), or(lt(nodes.heartbeatAt, new Date(now.getTime() - silentAfterMs)), disconnected)))
    .returning({ name: nodes.name, heartbeatAt: nodes.heartbeatAt });
  const results = [];
  for (const node of retired) {
    const interruptedSessions = await markInterruptedSessions(db, node.name);
    const isDisconnected = now.getTime() - node.heartbeatAt.getTime() < silentAfterMs;
    await audit(db, systemActor, { action: "node.retire", objectType: "node", objectId: node.name, details: { retiredBy: survivor.name, lastHeartbeat: node.heartbeatAt.toISOString(), disconnected: isDisconnected, interruptedSessions } });
    results.push({ node: node.name, interruptedSessions, disconnected: isDisconnected });
  }
  return results;
}

export async function removeNode(db: Database, name: string) {
  await db.delete(nodes).where(eq(nodes.name, name));
}
