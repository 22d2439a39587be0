// The native helper that gives freed memory back (server/free-memory.ts), in a real Node process with glibc: a
// heap left full of holes by freed buffers between kept ones stays resident after garbage collection, and one call
// of the helper returns it. Run in a child process of its own so that its memory is the only memory measured.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startEnvironment } from "../fixtures/gateway";

const modulePath = path.resolve("build/native/free-memory.node");

// 150,000 buffers of 2,000 bytes (below the mmap threshold: they live in the heap), one in sixteen kept.
const fragmentHeap = `
const { returnFreeMemory } = (await import("node:module")).createRequire(import.meta.url)(process.argv[1]);
const mib = () => Math.round(process.memoryUsage.rss() / 2 ** 20);
function fragment() {
  const all = [];
  for (let i = 0; i < 150_000; i++) all.push(Buffer.allocUnsafeSlow(2000));
  return all.filter((_, i) => i % 16 === 0);
}
const kept = fragment();
for (let i = 0; i < 4; i++) { globalThis.gc(); await new Promise((resolve) => setTimeout(resolve, 250)); }
const afterCollection = mib();
const returned = returnFreeMemory();
console.log(JSON.stringify({ afterCollection, afterReturn: mib(), returned, kept: kept.length }));
`;

describe("giving freed memory back to the system", () => {
  it("returns the free pages between kept blocks that glibc keeps by itself", () => {
    expect(existsSync(modulePath), `${modulePath} is missing: npm run build:native`).toBe(true);
    const child = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", fragmentHeap, modulePath], {
      env: { PATH: process.env.PATH, NODE_ENV: "production", ...startEnvironment },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(child.status, child.stderr).toBe(0);
    const measured = JSON.parse(child.stdout) as { afterCollection: number; afterReturn: number; returned: boolean; kept: number };
    expect(measured.kept).toBe(9375);
    // About 280 MiB of the buffers were freed; the allocator still holds them after collection, the call gives them back.
    expect(measured.afterCollection).toBeGreaterThan(250);
    expect(measured.returned).toBe(true);
    expect(measured.afterCollection - measured.afterReturn).toBeGreaterThan(150);
  });
});
