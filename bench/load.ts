// npm run bench:load — one node under load: 1,000 recorded SSH sessions each typing 5 keys a second into
// `cat > /dev/null` and timing every echo, first alone, then next to 10 sessions flooding output. The same load is
// run first on direct ssh2 clients (TCP_NODELAY) to the same sshd: the floor the machine itself gives. Reports the
// echo p50/p99 of both, sessions lost, gateway RSS per session, and whether the gateway's memory returns to its idle
// baseline once the sessions end. Starts its own sshd, PostgreSQL database and gateway; every phase has a deadline;
// prints a JSON line with the figures last, also when it stops early.
import { fork, type ChildProcess } from "node:child_process";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import postgres from "postgres";
import { atEnd, benchNodeName, benchSshd, directPty, gatewayPty, percentile, phase, rss, runBenchmark, sleep, startBenchGateway, startCat, statusKiB, treeCpuSeconds, treeRss, type Figures, type Pty, type SshLogin } from "./support";

const typingSessions = Number(process.env.BENCH_LOAD_SESSIONS ?? 1000);
const floodSessions = Number(process.env.BENCH_LOAD_FLOODS ?? 10);
const measureSeconds = Number(process.env.BENCH_LOAD_SECONDS ?? 30);
/** Both by default: the direct floor, then the gateway. */
const parts = new Set((process.env.BENCH_LOAD_PARTS ?? "direct,gateway").split(","));
const keyIntervalMs = 200;
/** A line ends every 50 keys: the terminal's line buffer (4 KiB) stops echoing when full. */
const keysPerLine = 50;
const openInParallel = 20;
/** Build-log-like output as fast as the target makes it, until the session ends. */
const floodCommand = "cat /dev/urandom | base64 -w 160\r";
/** Memory is back when it is within this share of the idle baseline. */
const memoryReturnShare = 0.1;
// Memory comes back in steps: the keyframer leaves after a minute without recordings, the gateway gives the allocator's
// free memory back once a minute, V8 its heap's pages after a while without allocation. Runs level off by minute 4.
const memoryReturnWaitMs = 300_000;

/** One person typing: a key every 200 ms, the next only once the last one's echo came (one key in flight). */
class Typist {
  private sentAt: number | null = null;
  private keys = 0;
  private timer: NodeJS.Timeout | null = null;
  samples: number[] | null = null;
  /** Ticks where the previous key's echo had not come yet, so no key went out. */
  stalledTicks = 0;

  constructor(readonly pty: Pty) {
    pty.onData(() => {
      if (this.sentAt === null) return;
      this.samples?.push(performance.now() - this.sentAt);
      this.sentAt = null;
    });
  }

  start() {
    // Spread over the interval, as people are, rather than all typing on the same millisecond.
    const offset = Math.random() * keyIntervalMs;
    this.timer = setTimeout(() => {
      this.timer = setInterval(() => this.tick(), keyIntervalMs);
      this.tick();
    }, offset);
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private tick() {
    if (this.sentAt !== null) {
      this.stalledTicks++;
      return;
    }
    this.keys++;
    this.sentAt = performance.now();
    this.pty.write(this.keys % keysPerLine === 0 ? "\r" : String.fromCharCode(97 + (this.keys % 26)));
  }

  /** Whether the echo of the key in flight (if any) and of one more key arrive within the deadline. */
  async answers(deadlineMs: number) {
    const until = performance.now() + deadlineMs;
    while (performance.now() < until) {
      if (this.sentAt === null) {
        this.tick();
        while (this.sentAt !== null && performance.now() < until) await sleep(20);
        return this.sentAt === null;
      }
      await sleep(20);
    }
    return false;
  }
}

/** Where the sessions go: straight to sshd, or through the gateway. */
type Route = { kind: "direct"; sshd: SshLogin } | { kind: "gateway"; url: string; cookie: string; targetId: string };
const openPty = (route: Route) => (route.kind === "direct" ? directPty(route.sshd) : gatewayPty(route.url, route.cookie, route.targetId));

type FloodMessage = { type: "ready" } | { type: "bytes"; total: number } | { type: "lost"; reason: string } | { type: "failed"; message: string };

/** Set in the process that holds the flooding sessions: where they go and how many. */
const floodProcessSettings = "BENCH_LOAD_FLOOD_PROCESS";

/**
 * The flooding sessions live in a process of their own, as other people's browsers would be elsewhere: reading
 * tens of MB/s must not slow the event loop that times the typists' echoes.
 */
async function floodProcessMain() {
  const { route, count } = JSON.parse(process.env[floodProcessSettings]!) as { route: Route; count: number };
  const send = (message: FloodMessage) => process.send!(message);
  process.on("disconnect", () => process.exit(0));
  try {
    const ptys = await Promise.all(Array.from({ length: count }, () => openPty(route)));
    let total = 0;
    for (const pty of ptys) {
      pty.onLost((reason) => send({ type: "lost", reason }));
      pty.onData((data) => (total += data.length));
    }
    process.on("message", (command: "flood" | "stop") => {
      if (command === "flood") for (const pty of ptys) pty.write(floodCommand);
      else {
        for (const pty of ptys) pty.close();
        setTimeout(() => process.exit(0), 500);
      }
    });
    setInterval(() => send({ type: "bytes", total }), 250);
    send({ type: "ready" });
  } catch (error) {
    send({ type: "failed", message: error instanceof Error ? error.message : String(error) });
  }
}

class Floods {
  private readonly child: ChildProcess;
  readonly ready: Promise<void>;
  total = 0;

  constructor(route: Route, lost: string[]) {
    this.child = fork(new URL(import.meta.url).pathname, [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, [floodProcessSettings]: JSON.stringify({ route, count: floodSessions }) },
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.on("message", (message: FloodMessage) => {
        if (message.type === "ready") resolve();
        else if (message.type === "failed") reject(new Error(`the flooding sessions did not open: ${message.message}`));
        else if (message.type === "bytes") this.total = message.total;
        else lost.push(`flood: ${message.reason}`);
      });
      this.child.once("error", reject);
      this.child.once("exit", (code) => reject(new Error(`the flooding sessions' process exited with ${code}`)));
    });
  }

  start() {
    this.child.send("flood");
  }

  stop() {
    if (this.child.exitCode !== null || !this.child.connected) return;
    this.child.send("stop");
    setTimeout(() => this.child.kill(), 2000).unref();
  }
}

interface Load {
  typists: Typist[];
  floods: Floods;
  lost: string[];
}

/** Opens the typists' sessions, `openInParallel` at a time, each at a settled `cat > /dev/null`, then the floods'. */
async function openLoad(route: Route, figures: Figures): Promise<Load> {
  const lost: string[] = [];
  const typists: Typist[] = [];
  atEnd(() => typists.forEach((typist) => typist.pty.close()));
  const started = performance.now();
  while (typists.length < typingSessions) {
    const batch = Math.min(openInParallel, typingSessions - typists.length);
    const ptys = await Promise.all(
      Array.from({ length: batch }, async () => {
        const pty = await openPty(route);
        pty.onLost((reason) => lost.push(reason));
        await startCat(pty);
        return pty;
      }),
    );
    typists.push(...ptys.map((pty) => new Typist(pty)));
    if (typists.length % 200 === 0) console.log(`  ${typists.length} sessions open`);
  }
  const floods = new Floods(route, lost);
  atEnd(() => floods.stop());
  await floods.ready;
  figures.openSeconds = (performance.now() - started) / 1000;
  console.log(`  ${typingSessions + floodSessions} sessions opened in ${(figures.openSeconds as number).toFixed(0)} s`);
  return { typists, floods, lost };
}

function closeTypists(load: Load) {
  for (const typist of load.typists) {
    typist.stop();
    typist.pty.close();
  }
}

/** Every typist types for `measureSeconds`; the echo times of all of them together. */
async function measureTyping(load: Load, flooding: boolean) {
  const samples: number[] = [];
  if (flooding) {
    load.floods.start();
    await sleep(2000);
  }
  for (const typist of load.typists) {
    typist.samples = samples;
    typist.stalledTicks = 0;
    typist.start();
  }
  const floodBytesBefore = load.floods.total;
  await sleep(measureSeconds * 1000);
  const floodMBps = (load.floods.total - floodBytesBefore) / 1e6 / measureSeconds;
  for (const typist of load.typists) {
    typist.stop();
    typist.samples = null;
  }
  const stalledTicks = load.typists.reduce((sum, typist) => sum + typist.stalledTicks, 0);
  // A key still in flight at the end is not lost: it is counted by the check that every session still answers.
  return {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples.reduce((most, sample) => Math.max(most, sample), 0),
    keys: samples.length,
    keysPerSecond: samples.length / measureSeconds,
    stalledTicks,
    ...(flooding ? { floodMBps } : {}),
  };
}

/**
 * The gateway's memory: resident, its own and its children's (the keyframer), its JavaScript heap in use as its
 * next heartbeat reports it, and the heap's spaces (committed / used, MiB) and external memory as its /metrics
 * gives them. A leak shows in the heap; memory the allocator keeps after a peak shows only in RSS.
 */
async function gatewayMemory(databaseUrl: string, pid: number) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const asked = new Date();
    for (let waited = 0; waited < 15_000; waited += 500) {
      const [row] = await sql<{ heartbeat_at: Date; stats: { heapUsedBytes?: number }; internal_url: string }[]>`select heartbeat_at, stats, internal_url from nodes where name = ${benchNodeName}`;
      if (row && row.heartbeat_at > asked) {
        const own = rss(pid);
        return { rssBytes: own, childrenRssBytes: treeRss(pid) - own, ...residentKinds(pid), heapUsedBytes: row.stats.heapUsedBytes ?? null, ...(await heapSpaces(row.internal_url)) };
      }
      await sleep(500);
    }
    throw new Error("the gateway sent no heartbeat within 15 s");
  } finally {
    await sql.end();
  }
}

/** The gateway's resident memory split: its own (heap, stacks) and the pages of files it maps (node's binary, libraries). */
const residentKinds = (pid: number) => ({ anonymousMiB: Math.round(statusKiB(pid, "RssAnon") / 1024), fileMiB: Math.round(statusKiB(pid, "RssFile") / 1024) });

/** From the node's /metrics: each heap space as [committed, used] MiB, and the external memory in MiB. */
async function heapSpaces(internalUrl: string) {
  const families = parsePrometheusTextFormat(await (await fetch(`${internalUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text());
  const samples = (name: string) => families.find((family) => family.name === name)?.metrics ?? [];
  const tenthsOfMiB = (value: string) => Math.round((Number(value) / 2 ** 20) * 10) / 10;
  const heapSpacesMiB: Record<string, [number, number]> = {};
  for (const { labels, value } of samples("gatehouse_process_heap_space_bytes")) {
    const entry = (heapSpacesMiB[labels?.space ?? "?"] ??= [0, 0]);
    entry[labels?.kind === "committed" ? 0 : 1] = tenthsOfMiB(value ?? "0");
  }
  const external = samples("gatehouse_process_external_memory_bytes")[0]?.value;
  return { heapSpacesMiB, externalMiB: external === undefined ? null : Math.round(Number(external) / 2 ** 20) };
}

const mib = (bytes: number | null) => (bytes === null ? "?" : `${(bytes / 2 ** 20).toFixed(0)} MiB`);
const describeMemory = (memory: Awaited<ReturnType<typeof gatewayMemory>>) =>
  `gateway ${mib(memory.rssBytes)} (anonymous ${memory.anonymousMiB} MiB, files ${memory.fileMiB} MiB; heap in use ${mib(memory.heapUsedBytes)}; committed/used MiB by space ${JSON.stringify(memory.heapSpacesMiB)}; external ${memory.externalMiB} MiB), keyframer ${mib(memory.childrenRssBytes)}`;

/** Every typing session must still echo a key: none was dropped or wedged by the load. */
async function checkAllAnswer(load: Load) {
  const answers = await Promise.all(load.typists.map((typist) => typist.answers(30_000)));
  return { silent: answers.filter((answered) => !answered).length, lost: load.lost.length, lostReasons: [...new Set(load.lost)].slice(0, 5) };
}

type Echo = Awaited<ReturnType<typeof measureTyping>>;
const describe = (echo: Echo) =>
  `echo p50 ${echo.p50.toFixed(2)} ms, p99 ${echo.p99.toFixed(2)} ms, max ${echo.max.toFixed(0)} ms over ${echo.keys} keys (${echo.keysPerSecond.toFixed(0)}/s; ${echo.stalledTicks} ticks waited for a late echo)` +
  (echo.floodMBps === undefined ? "" : `; floods ${echo.floodMBps.toFixed(1)} MB/s in all`);

if (process.env[floodProcessSettings] === undefined) await runBenchmark("load", async (figures) => {
  Object.assign(figures, { typingSessions, floodSessions, measureSeconds, keysPerSecondPerSession: 1000 / keyIntervalMs });
  const sshd = await benchSshd();

  // The floor: the same load on direct ssh2 clients, so the gateway's figures can be read against the machine's.
  if (parts.has("direct")) {
    const direct: Figures = {};
    figures.direct = direct;
    const directLoad = await phase(`direct: opening ${typingSessions} + ${floodSessions} sessions`, 900_000, () => openLoad({ kind: "direct", sshd: { host: sshd.host, port: sshd.port, username: sshd.username, password: sshd.password } }, direct));
    direct.typing = await phase(`direct: ${typingSessions} sessions typing, ${measureSeconds} s`, measureSeconds * 1000 + 60_000, () => measureTyping(directLoad, false));
    console.log(`  direct, typing: ${describe(direct.typing as Echo)}`);
    direct.typingWithFloods = await phase(`direct: typing next to ${floodSessions} floods, ${measureSeconds} s`, measureSeconds * 1000 + 60_000, () => measureTyping(directLoad, true));
    console.log(`  direct, with floods: ${describe(direct.typingWithFloods as Echo)}`);
    directLoad.floods.stop();
    closeTypists(directLoad);
    await sleep(5000);
  }
  if (!parts.has("gateway")) return;

  const bench = await phase("starting the gateway", 180_000, () => startBenchGateway({ name: "load", sshd, roles: [], targets: { "bench-load": {} } }));
  const targetId = bench.targetIds["bench-load"]!;
  const pid = () => bench.gateway.pid;
  const gateway: Figures = {};
  figures.gateway = gateway;

  // The idle baseline is taken after one session has come and gone, so that code loaded on first use is in it,
  // and once the keyframer's process has left for want of recordings, as it does on an idle node.
  const idle = await phase("idle baseline", 180_000, async () => {
    const warmUp = await gatewayPty(bench.url, bench.cookie, targetId);
    await startCat(warmUp);
    warmUp.close();
    await sleep(10_000);
    while (treeRss(pid()) > rss(pid())) await sleep(1000);
    return { rssBytes: treeRss(pid()), memory: await gatewayMemory(bench.databaseUrl, pid()) };
  });
  const baselineRss = idle.rssBytes;
  gateway.idleRssBytes = baselineRss;
  gateway.idleMemory = idle.memory;
  console.log(`  idle: ${(baselineRss / 2 ** 20).toFixed(0)} MiB in all; ${describeMemory(idle.memory)}`);

  const gatewayLoad = await phase(`gateway: opening ${typingSessions} + ${floodSessions} sessions`, 900_000, () => openLoad({ kind: "gateway", url: bench.url, cookie: bench.cookie, targetId }, gateway));
  const cpuBefore = treeCpuSeconds(pid());
  gateway.typing = await phase(`gateway: ${typingSessions} sessions typing, ${measureSeconds} s`, measureSeconds * 1000 + 60_000, () => measureTyping(gatewayLoad, false));
  const rssTyping = treeRss(pid());
  gateway.cpuShareTyping = (treeCpuSeconds(pid()) - cpuBefore) / measureSeconds;
  console.log(`  gateway, typing: ${describe(gateway.typing as Echo)}; gateway CPU ${(100 * (gateway.cpuShareTyping as number)).toFixed(0)} % of a core`);
  gateway.rssWithSessionsBytes = rssTyping;
  const withSessions = await gatewayMemory(bench.databaseUrl, pid());
  gateway.memoryWithSessions = withSessions;
  gateway.rssPerSessionBytes = (rssTyping - baselineRss) / (typingSessions + floodSessions);
  console.log(`  gateway RSS with ${typingSessions + floodSessions} sessions: ${(rssTyping / 2 ** 20).toFixed(0)} MiB, ${((gateway.rssPerSessionBytes as number) / 1024).toFixed(0)} KiB per session; ${describeMemory(withSessions)}`);

  gateway.typingWithFloods = await phase(`gateway: typing next to ${floodSessions} floods, ${measureSeconds} s`, measureSeconds * 1000 + 60_000, () => measureTyping(gatewayLoad, true));
  gateway.rssWithFloodsBytes = treeRss(pid());
  console.log(`  gateway, with floods: ${describe(gateway.typingWithFloods as Echo)}; RSS ${((gateway.rssWithFloodsBytes as number) / 2 ** 20).toFixed(0)} MiB`);
  gatewayLoad.floods.stop();

  gateway.afterLoad = await phase("gateway: every typing session still answers", 60_000, () => checkAllAnswer(gatewayLoad));
  console.log(`  after the load: ${JSON.stringify(gateway.afterLoad)}`);

  closeTypists(gatewayLoad);
  const memory = await phase("gateway: memory after the sessions end", memoryReturnWaitMs + 30_000, async () => {
    const started = performance.now();
    let lowest = Infinity;
    // RSS in all every 30 s, in MiB: how fast the memory comes back, not only how far.
    const everyHalfMinute: number[] = [];
    while (performance.now() - started < memoryReturnWaitMs) {
      await sleep(2000);
      const now = treeRss(pid());
      lowest = Math.min(lowest, now);
      if (performance.now() - started >= (everyHalfMinute.length + 1) * 30_000) everyHalfMinute.push(Math.round(now / 2 ** 20));
      if (lowest <= baselineRss * (1 + memoryReturnShare)) break;
    }
    return { lowestRssBytes: lowest, overBaseline: lowest / baselineRss - 1, seconds: (performance.now() - started) / 1000, everyHalfMinuteMiB: everyHalfMinute, atEnd: await gatewayMemory(bench.databaseUrl, pid()) };
  });
  gateway.memoryAfter = memory;
  console.log(`  memory after the sessions ended: lowest ${(memory.lowestRssBytes / 2 ** 20).toFixed(0)} MiB in all (${(100 * memory.overBaseline).toFixed(0)} % over the idle baseline) within ${memory.seconds.toFixed(0)} s (every 30 s: ${memory.everyHalfMinuteMiB.join(", ")} MiB); at the end ${describeMemory(memory.atEnd)}`);
});
else await floodProcessMain();
