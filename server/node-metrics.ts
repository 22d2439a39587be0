// How this node fares, read when asked: for its heartbeat (the fleet page) and for Prometheus (GET /metrics on
// the internal listener). Sessions by protocol and state, CPU and memory, how late the event loop runs, the
// keyframer's backlog, blobs spooled while the remote blob store is away, and whether the desktop engine is there
// to start (or guacd configured).
import { monitorEventLoopDelay } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";
import type { BlobStore } from "../lib/infra/blob-store";
import { renderMetrics, type GaugeSample } from "../lib/infra/metrics";
import type { NodeStats } from "../lib/protocol/nodes";
import { engineAvailable, type EngineLocation } from "./protocols/guac/engine-link";
import type { Keyframer } from "./recorder/keyframer";
import { sessionRegistry } from "./live/session-registry";

/** Blobs written while the remote store was away, waiting in the local spool (a local store has none). */
const spooledBlobs = (store: BlobStore) => ("pending" in store && typeof store.pending === "number" ? store.pending : 0);

export function createNodeMetrics({ nodeName, version, keyframer, engine, blobStore }: { nodeName: string; version: string; keyframer: Keyframer; engine: EngineLocation; blobStore: BlobStore }) {
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  let cpuSince = { usage: process.cpuUsage(), at: performance.now() };

  const sessionCounts = () => {
    const counts = new Map<string, { protocol: string; state: string; count: number }>();
    for (const session of sessionRegistry.all()) {
      const key = `${session.protocol}/${session.liveState}`;
      const entry = counts.get(key) ?? { protocol: session.protocol, state: session.liveState, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
    }
    return [...counts.values()];
  };

  return {
    /** For the heartbeat: the figures since the last one (CPU and loop delay start again from here). */
    heartbeatStats(): NodeStats {
      const now = performance.now();
      const used = process.cpuUsage(cpuSince.usage);
      const cpuPercent = ((used.user + used.system) / 1000 / Math.max(1, now - cpuSince.at)) * 100;
      cpuSince = { usage: process.cpuUsage(), at: now };
      const sessions: Record<string, number> = {};
      for (const { protocol, count } of sessionCounts()) sessions[protocol] = (sessions[protocol] ?? 0) + count;
      const memory = process.memoryUsage();
      const eventLoopDelayMs = loopDelay.percentile(99) / 1e6;
      loopDelay.reset();
      return {
        sessions,
        cpuPercent: Math.round(cpuPercent * 10) / 10,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        eventLoopDelayMs: Math.round(eventLoopDelayMs * 10) / 10,
        keyframerBacklogBytes: keyframer.backlogBytes,
        spooledBlobs: spooledBlobs(blobStore),
        desktopEngine: engineAvailable(engine) ? "ok" : "missing",
      };
    },

    /** The Prometheus text: the counters kept as things happen, and these gauges as they are now. */
    render(): string {
      const memory = process.memoryUsage();
      const cpu = process.cpuUsage();
      const gauges: GaugeSample[] = [
        { name: "gatehouse_node_info", help: "This node's name and version.", values: [{ labels: { node: nodeName, version }, value: 1 }] },
        { name: "gatehouse_sessions", help: "Live sessions on this node, by protocol and state.", values: sessionCounts().map(({ protocol, state, count }) => ({ labels: { protocol, state }, value: count })) },
        { name: "gatehouse_keyframer_backlog_bytes", help: "Recording bytes waiting for the keyframer.", values: [{ labels: {}, value: keyframer.backlogBytes }] },
        { name: "gatehouse_blob_spool_pending", help: "Recording blobs waiting in the local spool for the remote blob store.", values: [{ labels: {}, value: spooledBlobs(blobStore) }] },
        { name: "gatehouse_event_loop_delay_p99_seconds", help: "How late the event loop ran its timers (p99, since the last heartbeat).", values: [{ labels: {}, value: loopDelay.percentile(99) / 1e9 }] },
        { name: "gatehouse_desktop_engine_up", help: "1 when the built-in desktop engine is there to start.", values: [{ labels: {}, value: engineAvailable(engine) ? 1 : 0 }] },
        { name: "gatehouse_process_cpu_seconds", help: "CPU time this node's process has used.", values: [{ labels: {}, value: (cpu.user + cpu.system) / 1e6 }] },
        { name: "gatehouse_process_resident_memory_bytes", help: "Resident memory of this node's process.", values: [{ labels: {}, value: memory.rss }] },
        { name: "gatehouse_process_heap_used_bytes", help: "JavaScript heap in use.", values: [{ labels: {}, value: memory.heapUsed }] },
        {
          name: "gatehouse_process_heap_space_bytes",
          help: "The JavaScript heap by space: committed (taken from the system) and used.",
          values: getHeapSpaceStatistics().flatMap(({ space_name: space, space_size: committed, space_used_size: used }) => [
            { labels: { space, kind: "committed" }, value: committed },
            { labels: { space, kind: "used" }, value: used },
          ]),
        },
        { name: "gatehouse_process_external_memory_bytes", help: "Memory outside the JavaScript heap held by its objects (buffers).", values: [{ labels: {}, value: memory.external }] },
      ];
      return renderMetrics(gauges);
    },

    stop() {
      loopDelay.disable();
    },
  };
}

export type NodeMetrics = ReturnType<typeof createNodeMetrics>;
