// npm run bench:policy — what the command policy costs. One gateway, one sshd, two targets: one under 500
// command rules and 50 output rules (none of which match), one under none; and a direct ssh2 client beside them.
// Measures the time from Enter to the target's answer (the line is read off the mirrored screen and matched at
// that moment) and bulk PTY output. Every phase has a deadline; on one, the phase is named and what was measured
// so far is printed. Ends with a JSON line of the figures.
import { randomUUID } from "node:crypto";
import { openDatabase } from "../lib/data/client";
import { commandRules } from "../lib/data/schema";
import { atEnd, benchSshd, directPty, endCat, gatewayPty, measureThroughput, percentile, phase, runBenchmark, sleep, startBenchGateway, startCat, waitForBytes, type Pty } from "./support";

const commandRuleCount = 500;
const outputRuleCount = 50;
const enterSamples = Number(process.env.BENCH_POLICY_ENTERS ?? 300);
const bulkBytes = Number(process.env.BENCH_POLICY_BULK_MB ?? 30) * 1_000_000;
const throughputRounds = 3;
/** Before each bulk run: time for the gateway to finish storing the one before. */
const settleMs = 3_000;
/** Between the last key's echo and Enter: a fast typist's gap. 0 measures Enter sent the moment the echo lands. */
const pauseBeforeEnterMs = Number(process.env.BENCH_POLICY_PAUSE_MS ?? 20);

/** Rules shaped like real ones (a command, its options, a path), each different, none matching the typed lines. */
function syntheticRules(targetName: string) {
  const scope = { targetNames: [targetName], severity: "high" as const, matchMode: "regex" as const, holdSeconds: 120 };
  const commands = Array.from({ length: commandRuleCount }, (_, index) => ({
    ...scope,
    name: `bench command ${index}`,
    kind: "command" as const,
    action: index % 5 === 0 ? ("block" as const) : ("alert" as const),
    pattern: [`^tool${index}\\s+(-[a-z]*f|--force)\\b`, `\\b(drop|truncate)\\s+table\\s+t${index}\\b`, `^(\\S*/)?svc${index}\\s+(stop|disable)\\s+\\w+`, `curl\\s+[^|]*\\|\\s*(ba)?sh${index}\\b`][index % 4]!,
  }));
  const outputs = Array.from({ length: outputRuleCount }, (_, index) => ({ ...scope, name: `bench output ${index}`, kind: "output" as const, action: "alert" as const, pattern: `SECRET${index}-[A-Z0-9]{16}` }));
  return [...commands, ...outputs];
}

/** Types a line key by key (each after its echo), then times Enter to the terminal's answer (its new line). */
async function enterOnce(pty: Pty, line: string) {
  for (const key of line) {
    const echoed = waitForBytes(pty, Buffer.from(key));
    pty.write(key);
    await echoed;
  }
  if (pauseBeforeEnterMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseBeforeEnterMs));
  const answered = waitForBytes(pty, Buffer.from("\r\n"));
  const started = performance.now();
  pty.write("\r");
  await answered;
  return performance.now() - started;
}

const typedLines = ["ls -la /var/log", "grep -r error app", "systemctl status x", "tail -n 50 out.log"];

await runBenchmark("policy", async (figures) => {
  Object.assign(figures, { commandRules: commandRuleCount, outputRules: outputRuleCount, pauseBeforeEnterMs });
  const sshd = await benchSshd();
  const bench = await phase("starting the gateway", 180_000, () => startBenchGateway({ name: "policy", sshd, roles: [], targets: { "bench-ruled": {}, "bench-plain": {} } }));
  const seed = await openDatabase({ databaseUrl: bench.databaseUrl, dataDir: "unused" });
  atEnd(() => seed.close());
  const open: Pty[] = [];
  atEnd(() => open.forEach((pty) => pty.close()));
  await phase("rules", 60_000, async () => {
    // The built-in pack applies everywhere: off, so that the plain target runs under no rules at all.
    await seed.db.update(commandRules).set({ enabled: false });
    await seed.db.insert(commandRules).values(syntheticRules("bench-ruled").map((rule) => ({ ...rule, id: randomUUID() })));
    await seed.db.execute("select pg_notify('gatehouse_rules_changed', '')");
  });
  const [direct, plain, ruled] = await phase("connect", 60_000, async () => Promise.all([directPty(sshd), gatewayPty(bench.url, bench.cookie, bench.targetIds["bench-plain"]!), gatewayPty(bench.url, bench.cookie, bench.targetIds["bench-ruled"]!)]));
  open.push(direct, plain, ruled);

  const samples = { direct: [] as number[], plain: [] as number[], ruled: [] as number[] };
  await phase("enter latency", 600_000, async () => {
    for (const pty of [direct, plain, ruled]) await startCat(pty);
    // The three paths take turns, so each sees the same moments of a noisy machine.
    for (let index = 0; index < enterSamples; index++) {
      const line = typedLines[index % typedLines.length]!;
      samples.direct.push(await enterOnce(direct, line));
      samples.plain.push(await enterOnce(plain, line));
      samples.ruled.push(await enterOnce(ruled, line));
    }
    for (const pty of [direct, plain, ruled]) await endCat(pty);
  }).finally(() => {
    const summary = (values: number[]) => (values.length ? { p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), samples: values.length } : null);
    // What the rules add, turn by turn: both gateway paths saw the same moment of the machine.
    const added = samples.ruled.slice(0, samples.plain.length).map((ruled, index) => ruled - samples.plain[index]!);
    figures.enterMs = { direct: summary(samples.direct), noRules: summary(samples.plain), rules: summary(samples.ruled), addedByRules: summary(added) };
    console.log(`Enter to answer (ms): ${JSON.stringify(figures.enterMs)}`);
  });

  const rounds = { direct: [] as number[], plain: [] as number[], ruled: [] as number[] };
  await phase("bulk output", 600_000, async () => {
    // The gateway records both sessions and goes on storing a run's chunks after it: each run starts after a
    // pause, and the two gateway paths take turns going first.
    const run = async (pty: Pty, into: number[]) => {
      await sleep(settleMs);
      into.push((await measureThroughput(pty, bulkBytes)).mbPerSecond);
    };
    for (let round = 0; round < throughputRounds; round++) {
      await run(direct, rounds.direct);
      if (round % 2 === 0) {
        await run(plain, rounds.plain);
        await run(ruled, rounds.ruled);
      } else {
        await run(ruled, rounds.ruled);
        await run(plain, rounds.plain);
      }
    }
  }).finally(() => {
    const median = (values: number[]) => (values.length ? [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] : null);
    figures.bulkMBps = { direct: median(rounds.direct), noRules: median(rounds.plain), rules: median(rounds.ruled), rounds };
    console.log(`bulk output, median of ${rounds.ruled.length} (MB/s): ${JSON.stringify(figures.bulkMBps)}`);
  });
});
