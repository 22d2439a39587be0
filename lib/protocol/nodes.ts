// What each gateway node reports with its heartbeat, and how the fleet page and API describe a node. Shared by
// the server that writes it and the pages that read it.
import { z } from "zod";

export const nodeStatsSchema = z.object({
  /** Live sessions this node carries, by protocol. */
  sessions: z.record(z.string(), z.number().int().nonnegative()).default({}),
  /** Share of one core used since the previous heartbeat. */
  cpuPercent: z.number().nonnegative().optional(),
  rssBytes: z.number().int().nonnegative().optional(),
  heapUsedBytes: z.number().int().nonnegative().optional(),
  /** How late the event loop ran its timers (p99 over the last heartbeat), in ms: a busy or stuck node shows here. */
  eventLoopDelayMs: z.number().nonnegative().optional(),
  /** Recording bytes waiting for the keyframer. */
  keyframerBacklogBytes: z.number().int().nonnegative().optional(),
  /** Recording blobs spooled locally while the remote blob store does not take them: it is down when this grows. */
  spooledBlobs: z.number().int().nonnegative().optional(),
  /** Whether the built-in desktop engine is present and runnable on this node. */
  desktopEngine: z.enum(["ok", "missing"]).optional(),
});
export type NodeStats = z.infer<typeof nodeStatsSchema>;

/** A node is late once it missed a heartbeat by this much; survivors retire it at 15 s (lib/data/nodes.ts). */
export const lateAfterMs = 8_000;

export type NodeHealth = "up" | "late" | "retired";

export interface NodeView {
  name: string;
  version: string;
  startedAt: string;
  heartbeatAt: string;
  health: NodeHealth;
  /** Its version is not the one most live nodes run. */
  versionDrift: boolean;
  stats: NodeStats;
  retiredAt: string | null;
}
