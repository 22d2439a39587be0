// npm run bench:recording — what recording costs and what it gives back, on one gateway in one run:
//  1. SSH bulk output through a recorded and an unrecorded target, next to a direct ssh2 client;
//  2. a synthetic 10-hour session (≥ 500 MB of output) recorded by the real recorder and keyframer: stored size
//     as a share of the raw output;
//  3. seeks in it through the gateway's HTTP API into a headless terminal, each checked against the true screen
//     at that moment: start-up and p50/p95 latency over 100 random seeks;
//  4. transcript search over ≥ 2 GB of text from ≥ 10,000 sessions: p50/p95 over a mix of queries;
//  5. the terminal recorder alone, in this process (chunks, compression, encryption, hashes, blobs and rows, no
//     keyframer): CPU per MB of a flood, next to compressing the same bytes in one gzip stream (the floor).
// Starts its own sshd, PostgreSQL database and gateway; every phase has a deadline; prints a JSON line with the
// figures last, also when it stops early.
// Smaller runs: BENCH_RECORDING_HOURS, BENCH_RECORDING_MB, BENCH_SEARCH_MB, BENCH_SEARCH_SESSIONS, BENCH_SSH_BULK_MB;
// some parts only: BENCH_RECORDING_PARTS (throughput, recording, search, recorder).
import { randomBytes } from "node:crypto";
import { constants, createGzip } from "node:zlib";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { createFsBlobStore } from "../lib/infra/blob-store/fs";
import { openDatabase } from "../lib/data/client";
import { recordingChunks, recordingKeyframes, sessions, users } from "../lib/data/schema";
import { recordingWindowSchema, replay } from "../lib/protocol/recordings";
import { recordingCipher } from "../lib/infra/recording-cipher";
import { Keyframer, type KeyframeFeed } from "../server/recorder/keyframer";
import { TerminalRecorder } from "../server/recorder/terminal-recorder";
import type { startSshd } from "../test/fixtures/sshd";
import { headlessTerminal, recordSynthetic, screenOf, syntheticSession } from "../test/fixtures/synthetic-terminal";
import { loadSearchCorpus, searchQueries } from "./search-corpus";
import { benchSshd, cpuSeconds, directPty, gatewayPty, measureThroughput, percentile, phase, runBenchmark, startBenchGateway, treeCpuSeconds, type BenchGateway, type Pty } from "./support";

const hours = Number(process.env.BENCH_RECORDING_HOURS ?? 10);
const recordingBytes = Number(process.env.BENCH_RECORDING_MB ?? 600) * 1_000_000;
const searchBytes = Number(process.env.BENCH_SEARCH_MB ?? 2100) * 1_000_000;
const searchSessions = Number(process.env.BENCH_SEARCH_SESSIONS ?? 10_000);
const bulkBytes = Number(process.env.BENCH_SSH_BULK_MB ?? 75) * 1_000_000;
const seeks = 100;
const throughputRounds = 3;

const summary = (values: number[]) => ({ p50: percentile(values, 50), p95: percentile(values, 95), max: Math.max(...values) });
const ms = (value: number) => `${value.toFixed(1)} ms`;

/** 1. Bulk output: direct, recorded, unrecorded, alternating, median of three each. */
async function measureRecordingCost(bench: BenchGateway, sshd: Awaited<ReturnType<typeof startSshd>>) {
  const paths: Record<string, Pty> = {
    direct: await directPty(sshd),
    recorded: await gatewayPty(bench.url, bench.cookie, bench.targetIds.recorded!),
    unrecorded: await gatewayPty(bench.url, bench.cookie, bench.targetIds.unrecorded!),
  };
  const results: Record<string, { mbPerSecond: number[]; cpuMsPerMB: number[]; gatewayCpuMsPerMB: number[] }> = {};
  for (let round = 0; round < throughputRounds; round++) {
    for (const [name, pty] of Object.entries(paths)) {
      const cpuBefore = treeCpuSeconds(bench.gateway.pid);
      const gatewayCpuBefore = cpuSeconds(bench.gateway.pid);
      const run = await measureThroughput(pty, bulkBytes);
      // The keyframer catches up after the flood: its CPU counts too, so wait for it to go quiet.
      if (name === "recorded") await waitForQuietKeyframer(bench);
      const perMB = (seconds: number) => (1000 * seconds) / (run.bytes / 1e6);
      const result = (results[name] ??= { mbPerSecond: [], cpuMsPerMB: [], gatewayCpuMsPerMB: [] });
      result.mbPerSecond.push(run.mbPerSecond);
      result.cpuMsPerMB.push(perMB(treeCpuSeconds(bench.gateway.pid) - cpuBefore));
      result.gatewayCpuMsPerMB.push(perMB(cpuSeconds(bench.gateway.pid) - gatewayCpuBefore));
    }
  }
  for (const pty of Object.values(paths)) pty.close();
  const median = (values: number[]) => percentile(values, 50);
  // The gateway's own process and, apart, its children (the keyframer): where recording's cost lies.
  const figures = Object.fromEntries(
    Object.entries(results).map(([name, result]) => [name, { mbPerSecond: median(result.mbPerSecond), cpuMsPerMB: name === "direct" ? null : median(result.cpuMsPerMB), gatewayCpuMsPerMB: name === "direct" ? null : median(result.gatewayCpuMsPerMB) }]),
  );
  console.log(
    `bulk output (${((bulkBytes * 4) / 3 / 1e6).toFixed(0)} MB, median of ${throughputRounds}): direct ${figures.direct!.mbPerSecond.toFixed(1)} MB/s; ` +
      `recorded ${figures.recorded!.mbPerSecond.toFixed(1)} MB/s, ${figures.recorded!.cpuMsPerMB!.toFixed(1)} ms CPU/MB with the keyframer (gateway alone ${figures.recorded!.gatewayCpuMsPerMB!.toFixed(1)}); ` +
      `unrecorded ${figures.unrecorded!.mbPerSecond.toFixed(1)} MB/s, ${figures.unrecorded!.cpuMsPerMB!.toFixed(1)} ms CPU/MB`,
  );
  return { ...figures, recordedVsUnrecorded: figures.recorded!.mbPerSecond / figures.unrecorded!.mbPerSecond };
}

/** The keyframer's CPU time stops growing once it has caught up. */
async function waitForQuietKeyframer(bench: BenchGateway) {
  let previous = -1;
  for (;;) {
    const now = treeCpuSeconds(bench.gateway.pid);
    if (now - previous < 0.02) return;
    previous = now;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** 2. The synthetic long recording, with the true screen kept at `moments`. */
async function recordLongSession(bench: BenchGateway) {
  const handle = await openDatabase({ databaseUrl: bench.databaseUrl, dataDir: "unused" });
  const db = handle.db;
  const blobStore = createFsBlobStore(path.join(bench.dataDir, "blobs"));
  const [user] = await db.select().from(users).where(eq(users.username, "bench"));
  const [session] = await db.insert(sessions).values({ userId: user!.id, targetName: "synthetic", protocol: "ssh", node: "synthetic", status: "active" }).returning();
  const sessionId = session!.id;
  const durationMs = hours * 3600_000;
  const steps = syntheticSession({ durationMs, bytesPerSecond: recordingBytes / (durationMs / 1000), seed: 42 });

  const keyframer = new Keyframer(db, blobStore);
  keyframer.start();
  const startedAt = Date.now() - durationMs;
  const clock = { nowMs: startedAt };
  const recorder = new TerminalRecorder({ db, blobStore, sessionId, startedAt, size: { cols: 120, rows: 40 }, title: "synthetic", keyframes: keyframer.feed(sessionId), now: () => clock.nowMs });
  const moments = Array.from({ length: seeks }, () => Math.floor(Math.random() * durationMs * 0.98)).sort((a, b) => a - b);
  const truth = headlessTerminal(120, 40);
  const screens = new Map<number, ReturnType<typeof screenOf>>();
  let nextMoment = 0;
  let rawOutput = 0;
  let unparsed = 0;
  let lastReport = 0;
  const began = performance.now();
  await recordSynthetic(recorder, clock, startedAt, steps, async (step) => {
    while (nextMoment < moments.length && moments[nextMoment]! < step.atMs) {
      await new Promise<void>((resolve) => truth.write("", resolve));
      screens.set(moments[nextMoment]!, screenOf(truth));
      nextMoment++;
    }
    if (step.code === "o") {
      rawOutput += Buffer.byteLength(step.data);
      truth.write(step.data);
      // The headless terminal parses asynchronously: let it catch up now and then rather than queue it all.
      if ((unparsed += step.data.length) > 2_000_000) {
        unparsed = 0;
        await new Promise<void>((resolve) => truth.write("", resolve));
      }
    } else if (step.code === "r") await replay(truth, [[step.atMs / 1000, step.code, step.data]]);
    if (rawOutput - lastReport > 50_000_000) {
      lastReport = rawOutput;
      console.log(`  synthetic recording: ${(rawOutput / 1e6).toFixed(0)} MB of output, ${(step.atMs / 3600_000).toFixed(1)} h recorded`);
    }
  });
  for (; nextMoment < moments.length; nextMoment++) screens.set(moments[nextMoment]!, screenOf(truth));
  await recorder.close();
  const recordedSeconds = (performance.now() - began) / 1000;
  await db.update(sessions).set({ status: "ended", endedAt: new Date() }).where(eq(sessions.id, sessionId));
  const keyframesBegan = performance.now();
  await keyframer.feeds.get(sessionId)?.done;
  keyframer.stop();
  const [chunks] = await db.select({ count: sql<number>`count(*)::int`, bytes: sql<number>`sum(${recordingChunks.size})::bigint` }).from(recordingChunks).where(eq(recordingChunks.sessionId, sessionId));
  const [keyframes] = await db.select({ count: sql<number>`count(*)::int`, bytes: sql<number>`coalesce(sum(${recordingKeyframes.size}), 0)::bigint` }).from(recordingKeyframes).where(eq(recordingKeyframes.sessionId, sessionId));
  // What encryption at rest costs: every stored chunk opened and sealed again, timed in this process's CPU.
  const cipher = await recordingCipher(db, sessionId, { create: false });
  const cpuMs = { seal: 0, open: 0 };
  const cpuOf = (work: () => void) => {
    const before = process.cpuUsage();
    work();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000;
  };
  for (const { blobKey } of await db.select({ blobKey: recordingChunks.blobKey }).from(recordingChunks).where(eq(recordingChunks.sessionId, sessionId))) {
    const stored = await blobStore.get(blobKey);
    let plain: Buffer = Buffer.alloc(0);
    cpuMs.open += cpuOf(() => (plain = cipher.open(blobKey, stored)));
    cpuMs.seal += cpuOf(() => cipher.seal(blobKey, plain));
  }
  const perRawMb = (ms: number) => ms / (rawOutput / 1e6);
  console.log(`encryption at rest: sealing ${perRawMb(cpuMs.seal).toFixed(2)} ms and opening ${perRawMb(cpuMs.open).toFixed(2)} ms of CPU per MB of terminal output`);
  await handle.close();
  truth.dispose();
  const stored = Number(chunks!.bytes) + Number(keyframes!.bytes);
  console.log(
    `synthetic ${hours} h recording: ${(rawOutput / 1e6).toFixed(0)} MB of output in ${chunks!.count} chunks and ${keyframes!.count} keyframes, ` +
      `stored ${(stored / 1e6).toFixed(1)} MB (${((100 * stored) / rawOutput).toFixed(1)} % of raw); recorded in ${recordedSeconds.toFixed(0)} s, keyframes finished ${((performance.now() - keyframesBegan) / 1000).toFixed(0)} s later`,
  );
  return {
    sessionId,
    screens,
    figures: { hours, rawOutputBytes: rawOutput, encryptionCpuMsPerMb: { seal: perRawMb(cpuMs.seal), open: perRawMb(cpuMs.open) }, chunks: chunks!.count, keyframes: keyframes!.count, storedBytes: stored, chunkBytes: Number(chunks!.bytes), keyframeBytes: Number(keyframes!.bytes), storedShare: stored / rawOutput },
  };
}

/** 3. Seeks through the gateway, each into a fresh headless terminal, checked against the truth. */
async function measureSeeks(bench: BenchGateway, sessionId: string, screens: Map<number, ReturnType<typeof screenOf>>) {
  const seekTo = async (moment: number) => {
    const started = performance.now();
    const response = await fetch(`${bench.url}/api/recordings/${sessionId}/window?at=${moment}`, { headers: { cookie: bench.cookie } });
    if (!response.ok) throw new Error(`seek refused: ${response.status} ${await response.text()}`);
    const window = recordingWindowSchema.parse(await response.json());
    const terminal = headlessTerminal(window.size!.cols, window.size!.rows);
    if (window.keyframe) terminal.write(window.keyframe);
    await replay(terminal, window.events.filter(([seconds]) => Math.round(seconds * 1000) <= moment));
    const elapsed = performance.now() - started;
    const screen = screenOf(terminal);
    terminal.dispose();
    return { elapsed, screen, replayedMs: moment - window.startMs, events: window.events.length };
  };
  const start = await seekTo(0);
  const latencies: number[] = [];
  let wrong = 0;
  for (const [moment, expected] of [...screens.entries()].sort(() => Math.random() - 0.5)) {
    const result = await seekTo(moment);
    latencies.push(result.elapsed);
    if (JSON.stringify(result.screen) !== JSON.stringify(expected)) wrong++;
  }
  const figures = { startMs: start.elapsed, seekMs: summary(latencies), seeks: latencies.length, wrongScreens: wrong };
  console.log(`seeks: start ${ms(start.elapsed)}; ${latencies.length} random seeks p50 ${ms(figures.seekMs.p50)}, p95 ${ms(figures.seekMs.p95)}, max ${ms(figures.seekMs.max)}; screens wrong: ${wrong}`);
  return figures;
}

// 4. Search over a bulk-loaded corpus (bench/search-corpus.ts), through the gateway's search API.
async function measureSearch(bench: BenchGateway) {
  const corpus = await loadSearchCorpus(bench.databaseUrl, { username: "bench", bytes: searchBytes, sessionCount: searchSessions });
  const latencies: number[] = [];
  const byQuery: Record<string, { bestMs: number; hits: number }> = {};
  for (let round = 0; round < 5; round++) {
    for (const query of searchQueries) {
      const started = performance.now();
      const response = await fetch(`${bench.url}/api/recordings/search?q=${encodeURIComponent(query)}`, { headers: { cookie: bench.cookie } });
      if (!response.ok) throw new Error(`search refused: ${response.status} ${await response.text()}`);
      const hits = (await response.json()) as unknown[];
      const elapsed = performance.now() - started;
      if (round > 0) latencies.push(elapsed); // the first round warms the caches
      const entry = (byQuery[query] ??= { bestMs: elapsed, hits: hits.length });
      entry.bestMs = Math.min(entry.bestMs, elapsed);
    }
  }
  const figures = { ...corpus, searchMs: summary(latencies), queries: byQuery };
  console.log(`search over ${(figures.corpusBytes / 1e9).toFixed(2)} GB: p50 ${ms(figures.searchMs.p50)}, p95 ${ms(figures.searchMs.p95)} over ${latencies.length} queries`);
  for (const [query, entry] of Object.entries(byQuery)) console.log(`  ${JSON.stringify(query)}: ${entry.hits} hits, best ${ms(entry.bestMs)}`);
  return figures;
}

/** 5. The recorder alone: CPU per MB of a flood recorded in this process, and the floor of compressing it once. */
async function measureRecorderAlone(bench: BenchGateway) {
  const megabytes = Number(process.env.BENCH_RECORDER_MB ?? 100);
  const handle = await openDatabase({ databaseUrl: bench.databaseUrl, dataDir: "unused" });
  const db = handle.db;
  const blobStore = createFsBlobStore(path.join(bench.dataDir, "recorder-blobs"));
  const [user] = await db.select().from(users).where(eq(users.username, "bench"));
  // ssh2 hands a flood over in pieces of up to 32 KiB; this one is `base64 -w 0` of zeros, as in part 1.
  const piece = Buffer.from("A".repeat(32 * 1024));
  const pieces = Math.ceil((megabytes * 1_000_000) / piece.length);
  const cpuMsPerMB = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000 / ((pieces * piece.length) / 1_000_000);
  };
  const runs: number[] = [];
  for (let round = 0; round < throughputRounds; round++) {
    const [session] = await db.insert(sessions).values({ userId: user!.id, targetName: "recorder alone", protocol: "ssh", node: "bench", status: "active" }).returning();
    const noKeyframes = { stored: () => {}, finish: () => {} } as unknown as KeyframeFeed;
    const recorder = new TerminalRecorder({ db, blobStore, sessionId: session!.id, startedAt: Date.now(), size: { cols: 120, rows: 40 }, title: "recorder alone", keyframes: noKeyframes });
    const before = process.cpuUsage();
    for (let index = 0; index < pieces; index++) {
      recorder.output(piece);
      // A socket's reads come in turns of the event loop, which lets the writer's work in between; a session
      // holds its target while the recording is behind, and so does this.
      if (index % 32 !== 31) continue;
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => (recorder.behind(resolve) ? undefined : resolve()));
    }
    await recorder.close();
    runs.push(cpuMsPerMB(before));
  }
  const before = process.cpuUsage();
  await new Promise<void>((resolve, reject) => {
    const gzip = createGzip({ level: constants.Z_BEST_SPEED });
    gzip.on("data", () => {}).on("end", resolve).on("error", reject);
    for (let index = 0; index < pieces; index++) gzip.write(piece);
    gzip.end();
  });
  const floor = cpuMsPerMB(before);
  await handle.close();
  const figures = { megabytes, recorderCpuMsPerMB: percentile(runs, 50), oneGzipStreamCpuMsPerMB: floor };
  console.log(`recorder alone: ${ms(figures.recorderCpuMsPerMB)} CPU per MB (median of ${throughputRounds}); one gzip stream of the same bytes ${ms(floor)}`);
  return figures;
}

await runBenchmark("recording", async (figures) => {
  const sshd = await benchSshd();
  const bench = await phase("starting the gateway", 180_000, () => startBenchGateway({ name: "recording", sshd, roles: ["reviewer"], targets: { recorded: {}, unrecorded: { recordSessions: false } } }));
  figures.runId = randomBytes(3).toString("hex");
  // BENCH_RECORDING_PARTS=search (say) runs only the parts named: throughput, recording (with seeks), search, recorder.
  const parts = new Set((process.env.BENCH_RECORDING_PARTS ?? "throughput,recording,search,recorder").split(","));
  if (parts.has("throughput")) figures.throughputMBps = await phase("bulk output, direct, recorded and unrecorded", 1_200_000, () => measureRecordingCost(bench, sshd));
  if (parts.has("recording")) {
    const recording = await phase(`recording a synthetic ${hours} h session`, 1_800_000, () => recordLongSession(bench));
    figures.recording = recording.figures;
    figures.seek = await phase(`${seeks} seeks`, 600_000, () => measureSeeks(bench, recording.sessionId, recording.screens));
  }
  if (parts.has("search")) figures.search = await phase("loading the search corpus and searching it", 1_800_000, () => measureSearch(bench));
  if (parts.has("recorder")) figures.recorder = await phase("the recorder alone", 600_000, () => measureRecorderAlone(bench));
});
