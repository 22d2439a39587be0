// npm run bench:live — watching a live session: how far behind the user each watcher sees the output (p50/p99)
// with 1, 10 and 50 watchers under steady bulk output, on the session's node and relayed from another node;
// and the user's throughput with no watcher next to one with a stalled watcher (same run, alternating).
// Starts its own sshd, PostgreSQL database and two gateway nodes; every phase has a deadline; prints a JSON line
// with the figures last, also when it stops early.
import { atEnd, benchSshd, gatewayPty, gatewaySocket, measureThroughput, percentile, phase, runBenchmark, settle, sleep, startBenchGateway, type Pty } from "./support";

const watcherCounts = (process.env.BENCH_LIVE_WATCHERS ?? "1,10,50").split(",").map(Number);
const measureSeconds = Number(process.env.BENCH_LIVE_SECONDS ?? 10);
const stallRounds = 3;
const stallBulkBytes = Number(process.env.BENCH_LIVE_BULK_MB ?? 40) * 1_000_000;
/**
 * Steady bulk output: a marker line with the time it was printed, then ~16 KB of base64, about 100 times a
 * second (≈ 1.5 MB/s, a busy build log), so 50 watchers are ~80 MB/s of fan-out.
 */
const bulkLoop = "while :; do echo MARK-$(date +%s%N); head -c 12000 /dev/urandom | base64 -w 160; sleep 0.005; done\r";
const markerPrefix = Buffer.from("MARK-");
/** "MARK-" and 19 digits of nanoseconds. */
const markerLength = markerPrefix.length + 19;

/** Arrival times (wall-clock ms; the target runs on this machine's clock) of each marker in one stream of bytes. */
class MarkerClock {
  readonly arrivals = new Map<string, number>();
  private tail = Buffer.alloc(0);
  bytes = 0;
  /** Times the gateway started this watcher's view afresh after it fell behind. */
  catchUps = 0;

  feed(data: Buffer) {
    this.bytes += data.length;
    const now = performance.timeOrigin + performance.now();
    // Scanned as bytes: fifty watchers at full speed must not make the benchmark itself the bottleneck.
    const bytes = this.tail.length > 0 ? Buffer.concat([this.tail, data]) : data;
    for (let at = bytes.indexOf(markerPrefix); at !== -1 && at + markerLength <= bytes.length; at = bytes.indexOf(markerPrefix, at + 1)) {
      const marker = bytes.toString("latin1", at + markerPrefix.length, at + markerLength);
      if (!this.arrivals.has(marker)) this.arrivals.set(marker, now);
    }
    this.tail = Buffer.from(bytes.subarray(-markerLength));
  }
}

/** True when the loop's markers still arrive over `ms` (after a moment for output already on its way). */
async function bulkLoopRunning(user: Pty, ms: number) {
  await sleep(300);
  let seen = false;
  const listener = (data: Buffer) => (seen ||= data.includes(markerPrefix));
  user.onData(listener);
  await sleep(ms);
  user.offData(listener);
  return seen;
}

/** Ctrl-C, repeated until the loop's markers stop: a ^C landing while bash runs `$(date)` can leave the loop going. */
async function stopBulkLoop(user: Pty) {
  for (let attempt = 0; attempt < 20; attempt++) {
    user.write("\x03");
    if (!(await bulkLoopRunning(user, 700))) return settle(user);
  }
  throw new Error("the bulk loop did not stop after 20 Ctrl-C");
}

async function openWatcher(nodeUrl: string, cookie: string, sessionId: string, options: { stalled?: boolean } = {}) {
  const requestedAt = performance.now();
  const socket = await gatewaySocket(nodeUrl, cookie, { purpose: "watch", sessionId });
  const clock = new MarkerClock();
  let screens = 0;
  /** From asking for the view to the current screen arriving: what a person clicking Watch waits. */
  let joinMs: number | null = null;
  // Markers count by their first arrival: one replayed by a later catch-up arrived late, and counts so.
  socket.on("message", (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      joinMs ??= performance.now() - requestedAt;
      clock.feed(data);
    } else if (JSON.parse(data.toString()).type === "screen") clock.catchUps = ++screens - 1;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  // A stalled watcher stops reading its socket: the gateway's send buffer towards it fills and stays full.
  if (options.stalled) socket.pause();
  return { clock, joinMs: () => joinMs, close: () => socket.terminate() };
}

/**
 * Per marker the user saw in the window: how much later each watcher got it (the figure), and how long after the
 * target printed it the user and the watchers got it (end to end, for context).
 */
function lagSummary(user: MarkerClock, watchers: MarkerClock[]) {
  const behindUser: number[] = [];
  const watcherSincePrinted: number[] = [];
  const userSincePrinted: number[] = [];
  let missed = 0;
  for (const [marker, atUser] of user.arrivals) {
    const printedAt = Number(marker) / 1e6;
    userSincePrinted.push(atUser - printedAt);
    for (const watcher of watchers) {
      const atWatcher = watcher.arrivals.get(marker);
      if (atWatcher === undefined) missed++;
      else {
        behindUser.push(Math.max(0, atWatcher - atUser));
        watcherSincePrinted.push(atWatcher - printedAt);
      }
    }
  }
  const summary = (values: number[]) => (values.length > 0 ? { p50: percentile(values, 50), p99: percentile(values, 99) } : { p50: NaN, p99: NaN });
  return {
    ...summary(behindUser),
    samples: behindUser.length,
    missed,
    catchUps: watchers.reduce((sum, watcher) => sum + watcher.catchUps, 0),
    endToEnd: { user: summary(userSincePrinted), watchers: summary(watcherSincePrinted) },
  };
}

async function measureLag(user: Pty, nodeUrl: string, cookie: string, sessionId: string, count: number) {
  const watchers = await Promise.all(Array.from({ length: count }, () => openWatcher(nodeUrl, cookie, sessionId)));
  // Joining is measured apart: the lag is counted once every watcher has its screen and a moment has passed.
  for (let waited = 0; watchers.some((watcher) => watcher.joinMs() === null); waited += 100) {
    if (waited > 60_000) throw new Error("watchers did not get the current screen within 60 s");
    await sleep(100);
  }
  const joinTimes = watchers.map((watcher) => watcher.joinMs()!);
  await sleep(1000);
  const userClock = new MarkerClock();
  const listener = (data: Buffer) => userClock.feed(data);
  user.onData(listener);
  await sleep(measureSeconds * 1000);
  user.offData(listener);
  // Markers the user saw in the last moment may still be on their way to the watchers.
  await sleep(1000);
  for (const watcher of watchers) watcher.close();
  return {
    watchers: count,
    ...lagSummary(userClock, watchers.map((watcher) => watcher.clock)),
    joinMs: { p50: percentile(joinTimes, 50), max: Math.max(...joinTimes) },
    userMBps: userClock.bytes / 1e6 / measureSeconds,
  };
}

await runBenchmark("live", async (figures) => {
  figures.measureSeconds = measureSeconds;
  const sshd = await benchSshd();
  const bench = await phase("starting the gateway", 180_000, () => startBenchGateway({ name: "live", sshd, roles: ["security"], targets: { "bench-live": {} } }));
  const targetId = bench.targetIds["bench-live"]!;
  const secondNode = await phase("starting a second node", 180_000, () => bench.addNode("bench-2"));
  const user = await phase("connecting", 60_000, () => gatewayPty(bench.url, bench.cookie, targetId));
  atEnd(() => user.close());
  await settle(user);
  const sessions = (await (await fetch(`${bench.url}/api/sessions?status=live`, { headers: { cookie: bench.cookie } })).json()) as { id: string }[];
  const sessionId = sessions[0]!.id;

  user.write(bulkLoop);
  await sleep(2000);
  const lag: Record<string, Awaited<ReturnType<typeof measureLag>>> = {};
  figures.lagMs = lag;
  for (const count of watcherCounts) {
    for (const [where, nodeUrl] of [["sameNode", bench.url], ["crossNode", secondNode.url]] as const) {
      const result = await phase(`${count} watcher(s), ${where}`, 180_000, () => measureLag(user, nodeUrl, bench.cookie, sessionId, count));
      lag[`${where}:${count}`] = result;
      console.log(`${count} watcher(s), ${where === "sameNode" ? "same node " : "cross-node"}: lag behind the user p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms (${result.samples} samples, ${result.missed} missed, ${result.catchUps} catch-ups; joined in p50 ${result.joinMs.p50.toFixed(0)} ms, max ${result.joinMs.max.toFixed(0)} ms; end to end: user p50 ${result.endToEnd.user.p50.toFixed(1)} ms, watchers p50 ${result.endToEnd.watchers.p50.toFixed(1)} p99 ${result.endToEnd.watchers.p99.toFixed(1)} ms; output ${result.userMBps.toFixed(2)} MB/s)`);
    }
  }
  await phase("stopping the output loop", 60_000, () => stopBulkLoop(user));

  // The user's bulk throughput with nobody watching and with one watcher that never reads, alternating.
  const rounds = { alone: [] as number[], stalled: [] as number[] };
  await phase(`bulk output alone and with a stalled watcher, ${stallRounds} rounds`, 600_000, async () => {
    for (let round = 0; round < stallRounds; round++) {
      rounds.alone.push((await measureThroughput(user, stallBulkBytes)).mbPerSecond);
      const stalled = await openWatcher(bench.url, bench.cookie, sessionId, { stalled: true });
      await sleep(500);
      rounds.stalled.push((await measureThroughput(user, stallBulkBytes)).mbPerSecond);
      stalled.close();
    }
  });
  const median = (values: number[]) => percentile(values, 50);
  const throughput = { aloneMBps: median(rounds.alone), withStalledWatcherMBps: median(rounds.stalled), ratio: median(rounds.stalled) / median(rounds.alone), rounds };
  figures.stalledWatcher = throughput;
  console.log(`user throughput, median of ${stallRounds}: alone ${throughput.aloneMBps.toFixed(1)} MB/s, with a stalled watcher ${throughput.withStalledWatcherMBps.toFixed(1)} MB/s (${(100 * throughput.ratio).toFixed(0)} %)`);
});
