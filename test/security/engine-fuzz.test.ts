// Fuzzing the desktop engine's instruction parser and dispatcher, the native code the desktop socket feeds: the
// engine is built with AddressSanitizer and UndefinedBehaviorSanitizer (SANITIZE=address npm run build:engine)
// and given random and mutated handshakes, then — connected to a real Xtigervnc — streams of random and mutated
// instructions. Every run must end cleanly (done, or refused with an error) within its deadline, and the
// sanitizers must report nothing. Seeded, so a failure names the seed that reproduces it.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeInstruction, GuacamoleParser } from "@/lib/protocol/guacamole";
import { startVncServer, type DesktopTarget } from "../fixtures/desktop-targets";
import { freePort } from "../fixtures/ports";
import { seededRandom } from "../fixtures/seeded-random";

const root = path.resolve(import.meta.dirname, "../..");
const enginePath = path.join(root, "build/engine-asan/guac-engine");
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const sanitizerExitCode = 86;
const sanitizerEnv = {
  ...process.env,
  ASAN_OPTIONS: `detect_leaks=0:exitcode=${sanitizerExitCode}:abort_on_error=0`,
  UBSAN_OPTIONS: `print_stacktrace=1:exitcode=${sanitizerExitCode}`,
};

interface EngineRun {
  code: number | null;
  signal: string | null;
  stderr: string;
  output: string;
}

/** Runs the sanitized engine on `input` (or a conversation), killing it at the deadline as a failure. */
function runEngine(feed: (write: (data: string) => void, output: () => string, end: () => void) => Promise<void>, deadlineMs: number): Promise<EngineRun & { hung: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(enginePath, [], { stdio: ["pipe", "pipe", "pipe"], env: sanitizerEnv });
    let stderr = "";
    let output = "";
    let hung = false;
    child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
    const decoder = new StringDecoder("utf8");
    child.stdout.on("data", (data: Buffer) => (output += decoder.write(data)));
    child.stdin.on("error", () => {});
    const timer = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, deadlineMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, output, hung });
    });
    const write = (data: string) => {
      if (!child.stdin.destroyed) child.stdin.write(data);
    };
    feed(write, () => output, () => child.stdin.end()).catch(() => child.stdin.end());
  });
}

function expectClean(run: EngineRun & { hung: boolean }, what: string) {
  const context = `${what} (FUZZ_SEED=${seed})\nstderr: ${run.stderr.slice(-3000)}`;
  expect(run.hung, `hung: ${context}`).toBe(false);
  expect(run.stderr, context).not.toMatch(/AddressSanitizer|runtime error:|LeakSanitizer|SUMMARY: /);
  expect(run.code, context).not.toBe(sanitizerExitCode);
  expect(run.signal, context).toBeNull();
}

const instruction = (opcode: string, args: (string | number)[]) => encodeInstruction(opcode, args);

describe(`the desktop engine under AddressSanitizer (seed ${seed})`, () => {
  let vnc: DesktopTarget;
  let closedPort: number;

  beforeAll(async () => {
    const build = spawnSync("bash", [path.join(root, "scripts/build-engine.sh")], { cwd: root, env: { ...process.env, SANITIZE: "address" }, encoding: "utf8" });
    if (build.status !== 0 || !existsSync(enginePath)) throw new Error(`building the sanitized engine failed (SANITIZE=address npm run build:engine):\n${build.stdout}${build.stderr}`);
    [vnc, closedPort] = await Promise.all([startVncServer(), freePort()]);
  }, 180_000);

  afterAll(async () => {
    await vnc?.stop();
  });

  const handshake = (target: { host: string; port: number; password: string }) =>
    [
      instruction("select", ["vnc"]),
      instruction("size", [1024, 768, 96]),
      instruction("audio", []),
      instruction("video", []),
      instruction("image", ["image/png", "image/jpeg"]),
      instruction("connect", ["VERSION_1_5_0", target.host, target.port, "", target.password, "", ""]),
    ].join("");

  it("random and mutated handshakes: refused or ended, never a memory error or a hang", async () => {
    const next = seededRandom(seed);
    const valid = handshake({ host: "127.0.0.1", port: closedPort, password: "x" });
    const runs = 120;
    for (let round = 0; round < runs; round++) {
      let input: string;
      const roll = next();
      if (roll < 0.3) {
        input = Array.from({ length: Math.floor(next() * 300) }, () => String.fromCharCode(Math.floor(next() * 256))).join("");
      } else {
        const chars = [...valid];
        for (let edits = 1 + Math.floor(next() * 6); edits > 0; edits--) {
          const at = Math.floor(next() * chars.length);
          const what = next();
          if (what < 0.3) chars[at] = String.fromCharCode(Math.floor(next() * 256));
          else if (what < 0.5) chars.splice(at, 1 + Math.floor(next() * 8));
          else if (what < 0.7) chars.splice(at, 0, "9".repeat(1 + Math.floor(next() * 12)));
          else if (what < 0.85) chars.splice(at, 0, ",", "0", ".");
          else chars.splice(at, 0, "\u00ff\u00fe\u00c3");
        }
        input = chars.join("");
      }
      const run = await runEngine(async (write, _output, end) => {
        write(input);
        end();
      }, 15_000);
      expectClean(run, `handshake round ${round}: ${JSON.stringify(input).slice(0, 300)}`);
    }
  }, 300_000);

  it("random and mutated instructions to a connected VNC desktop: answered, or refused with an error, never a memory error", async () => {
    const next = seededRandom(seed ^ 0x5a5a);
    const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
    const within = (low: number, high: number) => pick([low, high, low + Math.floor(next() * (high - low + 1))]);
    const wildInteger = () => pick([-1, 2 ** 31, -(2 ** 31), 99999999999, 16385, 0x10000]);
    const text = () => pick(["", "x", "é", "😀", "text/plain", "image/png", "%%", "A".repeat(4 * Math.floor(next() * 20_000)), Buffer.from(Array.from({ length: 64 }, () => Math.floor(next() * 256))).toString("base64")]);
    // Most instructions are well-formed with values at and inside their bounds, so a connection lives long enough
    // to reach the dispatcher's depths (a stream of clipboard blobs, resizes, keys while resizing…); a few are wild.
    // Sizes stay within what a test machine can draw (the engine takes up to 16384, checked by the handshake runs).
    const wellFormed: (() => string)[] = [
      () => instruction("mouse", [within(-100000, 100000), within(-100000, 100000), within(0, 0xffff)]),
      () => instruction("key", [within(0, 0x7fffffff), within(0, 1)]),
      () => instruction("size", [within(1, 2048), within(1, 2048)]),
      () => instruction("sync", [pick([String(Date.now()), "0", "-1", "9223372036854775807"])]),
      () => instruction("keyframe", []),
      () => instruction("clipboard", [pick(["0", "1", String(1 << 30)]), pick(["text/plain", "image/png", ""])]),
      () => instruction("blob", [pick(["0", "1"]), Buffer.from(Array.from({ length: pick([0, 1, 3, 4096, 40_000]) }, () => Math.floor(next() * 256))).toString("base64")]),
      () => instruction("end", [pick(["0", "1"])]),
      () => instruction("ack", [text(), text(), text()]),
      () => instruction(pick(["nop", "bogus", "x".repeat(200)]), Array.from({ length: Math.floor(next() * 4) }, text)),
    ];
    const wild: (() => string)[] = [
      () => instruction(pick(["mouse", "key", "size", "clipboard", "blob", "end", "sync"]), Array.from({ length: Math.floor(next() * 4) }, () => pick([text(), String(wildInteger())]))),
      () => instruction("blob", ["0", text()]),
    ];
    const connections = 12;
    for (let connection = 0; connection < connections; connection++) {
      const sent: string[] = [];
      const run = await runEngine(async (write, output, end) => {
        write(handshake({ host: vnc.host, port: vnc.port, password: vnc.password }));
        const deadline = Date.now() + 20_000;
        while (!output().includes("5.ready,") && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        if (!output().includes("5.ready,")) throw new Error(`the engine did not connect to the VNC desktop: ${output().slice(0, 300)}`);
        for (let step = 0; step < 400; step++) {
          const chunk = next() < 0.002 ? pick(wild)() : pick(wellFormed)();
          // Now and then a byte is flipped, so the parser sees malformed input mid-stream too.
          const mutated = next() < 0.001 ? chunk.slice(0, Math.floor(next() * chunk.length)) + String.fromCharCode(Math.floor(next() * 128)) + chunk.slice(Math.floor(next() * chunk.length)) : chunk;
          sent.push(mutated);
          write(mutated);
          if (step % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        write(instruction("disconnect", []));
        end();
      }, 60_000);
      expectClean(run, `connection ${connection}, after ${sent.length} instructions; the last: ${JSON.stringify(sent.slice(-3)).slice(0, 600)}`);
      // It spoke the protocol to the end: whatever it printed parses.
      expect(() => new GuacamoleParser({ maxInstructionLength: 1 << 26, maxElements: 1024 }).push(run.output)).not.toThrow();
    }
  }, 300_000);
});
