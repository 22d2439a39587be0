// npm run bench:ssh — SSH through the gateway (recording on, as always) against a direct ssh2 client, same
// sshd, same run: bulk PTY output MB/s, keystroke echo latency, and gateway memory per idle session.
// Starts its own sshd, PostgreSQL database and gateway; every phase has a deadline; prints a JSON line with the
// figures last, also when it stops early.
import { atEnd, benchSshd, directPty, endCat, gatewayPty, measureThroughput, percentile, phase, runBenchmark, sleep, startBenchGateway, startCat, treeCpuSeconds, treeRss, waitForBytes, type Pty } from "./support";

const bulkBytes = Number(process.env.BENCH_SSH_BULK_MB ?? 75) * 1_000_000; // base64 makes 4/3 of it: ≥ 100 MB on the wire
const echoKeys = Number(process.env.BENCH_SSH_KEYS ?? 5000);
/** Keys typed on both paths before any is timed: the first seconds of fresh processes (code compiled as it runs, new shells) are the benchmark's own start, not a gateway's steady state. */
const warmUpKeys = Number(process.env.BENCH_SSH_WARMUP_KEYS ?? 5000);
const throughputRounds = 3;
const idleCounts = (process.env.BENCH_SSH_IDLE ?? "200,1000").split(",").map(Number);

async function echoOnce(pty: Pty, letter: string) {
  const echoed = waitForBytes(pty, Buffer.from(letter));
  const started = performance.now();
  pty.write(letter);
  await echoed;
  return performance.now() - started;
}

/** Keys alternate between the two paths, so both see the same moments of a noisy machine. */
async function typeKeys(direct: Pty, viaGateway: Pty, keys: number) {
  const samples = { direct: [] as number[], gateway: [] as number[] };
  for (let key = 0; key < keys; key++) {
    const letter = String.fromCharCode(97 + (key % 26));
    samples.direct.push(await echoOnce(direct, letter));
    samples.gateway.push(await echoOnce(viaGateway, letter));
    if (key % 100 === 99) {
      for (const pty of [direct, viaGateway]) {
        const line = waitForBytes(pty, Buffer.from("\n"));
        pty.write("\r");
        await line;
      }
    }
  }
  return samples;
}

const percentiles = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99) });
const echoSummary = (samples: Awaited<ReturnType<typeof typeKeys>>) => ({ direct: percentiles(samples.direct), gateway: percentiles(samples.gateway) });

await runBenchmark("ssh", async (figures) => {
  const sshd = await benchSshd();
  const bench = await phase("starting the gateway", 180_000, () => startBenchGateway({ name: "ssh", sshd, roles: [], targets: { "bench-sshd": {} } }));
  const targetId = bench.targetIds["bench-sshd"]!;
  const [direct, viaGateway] = await phase("connecting", 60_000, () => Promise.all([directPty(sshd), gatewayPty(bench.url, bench.cookie, targetId)]));
  atEnd(() => direct.close());
  atEnd(() => viaGateway.close());

  // Echo first: after the bulk run the recorder is still compressing and storing its chunks for a while.
  await startCat(direct);
  await startCat(viaGateway);
  const warmUp = await phase(`warming up, ${warmUpKeys} keys`, 300_000, () => typeKeys(direct, viaGateway, warmUpKeys));
  const echoCpuBefore = treeCpuSeconds(bench.gateway.pid);
  const samples = await phase(`keystroke echo, ${echoKeys} keys`, 300_000, () => typeKeys(direct, viaGateway, echoKeys));
  // Steadier than the echo's milliseconds on a shared machine: the gateway's CPU (keyframer included) per key.
  const gatewayCpuUsPerKey = (1e6 * (treeCpuSeconds(bench.gateway.pid) - echoCpuBefore)) / echoKeys;
  for (const pty of [direct, viaGateway]) await endCat(pty);
  const echo = echoSummary(samples);
  // What the first keys of freshly started processes meet (the gateway's, the client's, sshd's shells): reported, not the figure.
  figures.echoMs = { ...echo, keys: echoKeys, gatewayCpuUsPerKey, warmUp: { keys: warmUpKeys, ...echoSummary(warmUp) } };
  console.log(`keystroke echo over ${echoKeys} keys: direct p50 ${echo.direct.p50.toFixed(2)} ms p99 ${echo.direct.p99.toFixed(2)} ms; gateway p50 ${echo.gateway.p50.toFixed(2)} ms p99 ${echo.gateway.p99.toFixed(2)} ms; gateway CPU ${gatewayCpuUsPerKey.toFixed(0)} µs per key`);

  // Three rounds, alternating, and the median of each: one slow moment of the machine does not decide.
  const rounds = { direct: [] as Awaited<ReturnType<typeof measureThroughput>>[], gateway: [] as Awaited<ReturnType<typeof measureThroughput>>[] };
  let gatewayCpu = 0;
  await phase(`bulk output: ${((bulkBytes * 4) / 3 / 1e6).toFixed(0)} MB of base64 through a PTY, ${throughputRounds} rounds`, 900_000, async () => {
    for (let round = 0; round < throughputRounds; round++) {
      rounds.direct.push(await measureThroughput(direct, bulkBytes));
      const cpuBefore = treeCpuSeconds(bench.gateway.pid);
      rounds.gateway.push(await measureThroughput(viaGateway, bulkBytes));
      gatewayCpu += treeCpuSeconds(bench.gateway.pid) - cpuBefore;
    }
  });
  // Steadier than MB/s on a shared machine: what relaying (and recording) a megabyte costs the gateway.
  const gatewayCpuMsPerMB = (1000 * gatewayCpu) / (rounds.gateway.reduce((sum, result) => sum + result.bytes, 0) / 1e6);
  const median = (results: typeof rounds.direct) => [...results].sort((a, b) => a.mbPerSecond - b.mbPerSecond)[Math.floor(results.length / 2)]!;
  const directThroughput = median(rounds.direct);
  const gatewayThroughput = median(rounds.gateway);
  figures.throughputMBps = { direct: directThroughput.mbPerSecond, gateway: gatewayThroughput.mbPerSecond, ratio: gatewayThroughput.mbPerSecond / directThroughput.mbPerSecond, bytes: gatewayThroughput.bytes, gatewayCpuMsPerMB };
  console.log(`  median of ${throughputRounds}: direct ssh2 ${directThroughput.mbPerSecond.toFixed(1)} MB/s, gateway ${gatewayThroughput.mbPerSecond.toFixed(1)} MB/s (${((100 * gatewayThroughput.mbPerSecond) / directThroughput.mbPerSecond).toFixed(0)} %); gateway CPU ${gatewayCpuMsPerMB.toFixed(1)} ms per MB`);
  direct.close();
  viaGateway.close();

  // Memory per idle session is measured on a fresh process, not one still holding what the bulk run allocated.
  await phase("restarting the gateway", 180_000, () => bench.restart("bench-ssh-gateway-idle"));
  // One session opened and closed first, as bench:load does: the code a session loads once per process (its routes,
  // the recorder, the keyframer's start) is the gateway's, not each session's.
  await phase("one session, to warm the gateway", 60_000, async () => (await gatewayPty(bench.url, bench.cookie, targetId)).close());
  await sleep(5000);
  const baseline = treeRss(bench.gateway.pid);
  const idle: Record<string, unknown> = { baselineRssBytes: baseline };
  figures.idleSessions = idle;
  const open: Pty[] = [];
  atEnd(() => open.forEach((pty) => pty.close()));
  for (const count of idleCounts) {
    await phase(`${count} idle sessions`, 600_000, async () => {
      const started = performance.now();
      while (open.length < count) {
        const batch = Math.min(20, count - open.length);
        open.push(...(await Promise.all(Array.from({ length: batch }, () => gatewayPty(bench.url, bench.cookie, targetId)))));
      }
      await sleep(5000);
      const total = treeRss(bench.gateway.pid);
      const measured = { sessions: count, rssBytes: total, bytesPerSession: (total - baseline) / count };
      idle[count] = measured;
      console.log(`${count} idle sessions (opened in ${((performance.now() - started) / 1000).toFixed(0)} s): gateway RSS ${(total / 2 ** 20).toFixed(0)} MiB, ${(measured.bytesPerSession / 1024).toFixed(0)} KiB per session over the ${(baseline / 2 ** 20).toFixed(0)} MiB baseline`);
    });
  }
});
