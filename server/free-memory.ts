// Gives the allocator's free memory back to the system once a minute. glibc keeps what a busy hour freed between
// blocks still in use (only its heap's free top goes back by itself): after 1,000 sessions a node held twice its
// idle memory for good (docs/PERFORMANCE.md, "Memory after a load"). The call is glibc's malloc_trim, through the
// native helper scripts/build-native.sh builds; without it the gateway runs as before and says so once.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { log } from "../lib/infra/log";
import { metrics } from "../lib/infra/metrics";

const modulePath = path.resolve(import.meta.dirname, "../build/native/free-memory.node");

const noLabels = {};

interface FreeMemoryModule {
  /** True when pages went back to the system. */
  returnFreeMemory(): boolean;
}

function loadModule(): FreeMemoryModule | null {
  if (!existsSync(modulePath)) return null;
  try {
    return createRequire(import.meta.url)(modulePath) as FreeMemoryModule;
  } catch (error) {
    log.warn({ err: error }, `${modulePath} did not load (rebuild it: npm run build:native)`);
    return null;
  }
}

/** Returns free memory now and every `everyMs`; stop() ends it. */
export function startReturningFreeMemory(everyMs: number): { stop(): void } {
  if (everyMs === 0) return { stop() {} };
  const module = loadModule();
  if (!module) {
    log.warn("memory freed after load stays with the process: the native helper is missing or did not load (npm run build:native needs a C compiler and Node's headers)");
    return { stop() {} };
  }
  const returnNow = () => {
    try {
      const before = process.memoryUsage.rss();
      module.returnFreeMemory();
      metrics.freeMemoryReturned.add(noLabels, Math.max(0, before - process.memoryUsage.rss()));
    } catch (error) {
      log.error({ err: error }, "giving free memory back failed");
    }
  };
  returnNow();
  const timer = setInterval(returnNow, everyMs).unref();
  return { stop: () => clearInterval(timer) };
}
