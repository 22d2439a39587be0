// Benchmarks cannot hang: a phase past its deadline or an error nobody awaits ends the run with the phase or
// error named, what was started stopped, the figures so far as the last line, and a non-zero exit.
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

function runStalled(stall: "phase" | "handler"): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(root, "node_modules/.bin/tsx"), ["test/fixtures/stalled-benchmark.ts"], { cwd: root, env: { ...process.env, STALL: stall } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (data: Buffer) => (stdout += data));
    child.stderr.on("data", (data: Buffer) => (stderr += data));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("a benchmark that goes wrong", () => {
  it.each([
    ["a phase passes its deadline", "phase", 'phase "a phase that never ends" passed its deadline of 2 s'],
    ["an event handler throws", "handler", "a socket handler failed"],
  ] as const)("names what stopped it when %s, stops what it started, prints its figures last and exits 1", async (_case, stall, why) => {
    const { code, stdout, stderr } = await runStalled(stall);
    expect(code).toBe(1);
    expect(stderr).toContain(why);
    const lines = stdout.trim().split("\n");
    expect(lines).toContain("stopped what it started");
    expect(JSON.parse(lines.at(-1)!)).toEqual({ benchmark: "stalled", first: 42, stopped: why });
  });
});
