// npm run bench:rdp — an RDP desktop through the gateway next to the desktop engine on its own (same run, same
// xrdp): time to the first frame, frames per second and bandwidth at 1280×800 while the remote screen changes
// all the time (an xterm of 210×60 filling the screen with scrolling numbers), the engine's memory per session,
// and the recording's size per hour; then seeks in an hour of such recording in Chromium's player
// (./desktop-seek.ts). Starts its own xrdp, PostgreSQL database and gateway; every phase has a deadline; ends with one
// JSON line of the figures, also when it stops early.
// Also the first frame alone, over BENCH_RDP_CONNECTS connects each way (BENCH_RDP_PARTS=first-frames: only that).
// Shorter runs: BENCH_RDP_SECONDS, BENCH_RDP_SEEK_HOURS, BENCH_RDP_SEEKS.
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { encodeInstruction, GuacamoleParser } from "../lib/protocol/guacamole";
import { builtInEnginePath } from "../server/protocols/guac/engine-link";
import { GuacAdapter } from "../server/protocols/guac/guac-adapter";
import { startXrdp } from "../test/fixtures/desktop-targets";
import { scrapeSeries } from "../test/fixtures/gateway";
import { measureDesktopSeeks, synthesizeDesktopRecording } from "./desktop-seek";
import { atEnd, benchNodeName, gatewayDesktop, percentile, phase, runBenchmark, sleep, startBenchGateway, treeRss, typed } from "./support";

const seconds = Number(process.env.BENCH_RDP_SECONDS ?? 20);
const seekHours = Number(process.env.BENCH_RDP_SEEK_HOURS ?? 1);
const seeks = Number(process.env.BENCH_RDP_SEEKS ?? 50);
const firstFrameConnects = Number(process.env.BENCH_RDP_CONNECTS ?? 10);
/** Gateway connects before the measured ones (they load the routes' code and pin the target's certificate). */
const gatewayWarmUps = 3;
/** `first-frames` measures only the connects; the default measures everything. */
const parts = process.env.BENCH_RDP_PARTS ?? "all";
const size = { width: 1280, height: 800, dpi: 96 };

interface Measured {
  firstFrameMs: number;
  framesPerSecond: number;
  megabitsPerSecond: number;
}

/**
 * Reads a Guacamole stream as a fast browser would: every frame (`sync`) acknowledged at once. Resolves after
 * the first frame and `seconds` more of drawing, with the figures.
 */
function measureStream(startedAt: number, feed: (onData: (data: Buffer) => void) => void, acknowledge: (instruction: string) => void): Promise<Measured> {
  return new Promise((resolve) => {
    const parser = new GuacamoleParser();
    let firstFrameAt = 0;
    let frames = 0;
    let bytes = 0;
    feed((data) => {
      if (firstFrameAt) bytes += data.length;
      for (const { opcode, args } of parser.push(data)) {
        if (opcode !== "sync") continue;
        acknowledge(encodeInstruction("sync", args));
        if (!firstFrameAt) {
          firstFrameAt = performance.now();
          setTimeout(() => {
            const elapsed = (performance.now() - firstFrameAt) / 1000;
            resolve({ firstFrameMs: Math.round(firstFrameAt - startedAt), framesPerSecond: Number((frames / elapsed).toFixed(1)), megabitsPerSecond: Number(((bytes * 8) / elapsed / 1e6).toFixed(2)) });
          }, seconds * 1000);
        } else frames += 1;
      }
    });
  });
}

/** Resolves with the time of the first frame (`sync`) in a Guacamole stream. */
function firstFrameAt(feed: (onData: (data: Buffer) => void) => void): Promise<number> {
  return new Promise((resolve) => {
    const parser = new GuacamoleParser();
    feed((data) => {
      for (const { opcode } of parser.push(data)) if (opcode === "sync") return resolve(performance.now());
    });
  });
}

/** The engine processes a process started (one per desktop connection). */
function engineProcesses(parentPid: number): number[] {
  const children = readFileSync(`/proc/${parentPid}/task/${parentPid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  return children.filter((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("guac-engine"));
}

await runBenchmark("rdp", async (figures) => {
  Object.assign(figures, { seconds, size: `${size.width}x${size.height}`, targets: { firstFrameMs: 1500, framesPerSecond: 15, seekMs: 1000 } });
  const xrdp = await phase("starting xrdp", 60_000, () => startXrdp());
  atEnd(() => xrdp.stop());
  const bench = await phase("starting the gateway", 180_000, () =>
    startBenchGateway({
      name: "rdp",
      login: { username: xrdp.username, password: xrdp.password },
      roles: ["user", "reviewer"],
      targets: { desktop: { protocol: "rdp", host: xrdp.host, port: xrdp.port } },
    }),
  );
  const sql = postgres(bench.databaseUrl, { max: 1, onnotice: () => {} });
  atEnd(() => sql.end());
  const target = { name: "desktop", protocol: "rdp" as const, host: xrdp.host, port: xrdp.port, hostKeyFingerprint: null, rdpSecurity: "any" as const, keyboardLayout: "en-us-qwerty", remoteApp: null, clipboardCopy: true, clipboardPaste: true };
  const directSession = async (meanwhile?: (adapter: GuacAdapter) => void) => {
    const startedAt = performance.now();
    const adapter = new GuacAdapter(target, { username: xrdp.username, secret: xrdp.password }, { engine: { kind: "built-in", path: builtInEnginePath }, connectTimeoutMs: 15_000, size, onFirstCertificate: async () => {} });
    const measuring = measureStream(startedAt, (onData) => adapter.on("output", onData), (ack) => adapter.write(Buffer.from(ack)));
    await adapter.start();
    meanwhile?.(adapter);
    const measured = await measuring;
    const rss = engineProcesses(process.pid).reduce((sum, pid) => sum + treeRss(pid), 0);
    adapter.close();
    return { ...measured, engineRssMb: Number((rss / 1024 / 1024).toFixed(1)) };
  };

  const openGatewayDesktop = () => gatewayDesktop(bench, bench.targetIds.desktop!, size);

  // The first login starts the user's X session on the server, where a big xterm is started that scrolls numbers
  // for as long as the benchmark runs; both measured connections then find the session running and busy.
  await phase("warming up: the first login starts the remote X session and a screen-filling xterm", 120_000, () =>
    directSession((adapter) => {
      // twm gives the keyboard to the window under the pointer: the test xterm at (40, 40).
      adapter.write(Buffer.from(encodeInstruction("mouse", [200, 150, 0])));
      setTimeout(() => adapter.write(Buffer.from(typed("xterm -geometry 210x60+0+0 -e seq 999999999999 &\n"))), 1000);
    }),
  );
  await sleep(1000);

  // What the gateway adds to the engine's own first frame: connects alternating. xrdp's login varies by hundreds of
  // ms from one connect to the next, more than the gateway's share, so each gateway connect is also split in two:
  // the gateway times its engine from start to first frame (gatehouse_target_first_screen_seconds), and the rest
  // of what the client waited for (ticket, WebSocket, gate, session, relaying the frame) is the gateway's. A few
  // gateway connects go first, as on a node that has served desktops before: the first ones load the routes' code
  // and pin the target's certificate (an extra TLS handshake, counted as the engine's); they are reported apart.
  const [node] = await sql<{ internal_url: string }[]>`select internal_url from nodes where name = ${benchNodeName}`;
  if (!node) throw new Error(`the gateway has no row in nodes as ${benchNodeName}`);
  const engineTimedByGateway = async () => {
    const [seconds, count] = await scrapeSeries(node.internal_url, 'gatehouse_target_first_screen_seconds_sum{protocol="rdp"}', 'gatehouse_target_first_screen_seconds_count{protocol="rdp"}');
    return { seconds: seconds!, count: count! };
  };
  const gatewayConnect = async () => {
    const before = await engineTimedByGateway();
    const startedAt = performance.now();
    const socket = await openGatewayDesktop();
    const waited = (await firstFrameAt((onData) => socket.on("message", (data: Buffer, isBinary: boolean) => isBinary && onData(data)))) - startedAt;
    socket.close();
    // The gateway times its engine's first frame before relaying it, so it is counted by the time the client has it.
    const after = await engineTimedByGateway();
    if (after.count !== before.count + 1) throw new Error(`the gateway timed ${after.count - before.count} first frames for one connect`);
    const engineMs = (after.seconds - before.seconds) * 1000;
    await sleep(500);
    return { waited, engineMs, added: waited - engineMs };
  };
  const warmUpAdded = await phase(`warming up: ${gatewayWarmUps} connects through the gateway`, 120_000, async () => {
    const added: number[] = [];
    for (let connect = 0; connect < gatewayWarmUps; connect++) added.push(Math.round((await gatewayConnect()).added));
    return added;
  });
  const firstFrames = { direct: [] as number[], gateway: [] as number[], engineInGateway: [] as number[], added: [] as number[] };
  await phase(`first frames, ${firstFrameConnects} connects each way`, 600_000, async () => {
    for (let connect = 0; connect < firstFrameConnects; connect++) {
      const startedAt = performance.now();
      const adapter = new GuacAdapter(target, { username: xrdp.username, secret: xrdp.password }, { engine: { kind: "built-in", path: builtInEnginePath }, connectTimeoutMs: 15_000, size, onFirstCertificate: async () => {} });
      const directFrame = firstFrameAt((onData) => adapter.on("output", onData));
      await adapter.start();
      firstFrames.direct.push((await directFrame) - startedAt);
      adapter.close();
      await sleep(500);
      const { waited, engineMs, added } = await gatewayConnect();
      firstFrames.gateway.push(waited);
      firstFrames.engineInGateway.push(engineMs);
      firstFrames.added.push(added);
    }
  });
  const median = (values: number[]) => Math.round(percentile(values, 50));
  figures.firstFrameMs = {
    direct: median(firstFrames.direct),
    gateway: median(firstFrames.gateway),
    engineInGateway: median(firstFrames.engineInGateway),
    added: median(firstFrames.added),
    addedEach: firstFrames.added.map(Math.round),
    warmUpAdded,
    mediansApart: median(firstFrames.gateway) - median(firstFrames.direct),
    connects: firstFrameConnects,
    target: { added: 100 },
  };
  console.log(
    `  first frame, median of ${firstFrameConnects}: the engine on its own ${median(firstFrames.direct)} ms; through the gateway (ticket, WebSocket, engine) ${median(firstFrames.gateway)} ms, of which its engine ${median(firstFrames.engineInGateway)} ms; the gateway's share ${median(firstFrames.added)} ms (each connect: ${firstFrames.added.map(Math.round).join(", ")}; the ${gatewayWarmUps} warm-up connects before them: ${warmUpAdded.join(", ")})`,
  );
  if (parts === "first-frames") return;

  const direct = await phase(`the engine on its own, ${seconds} s`, (seconds + 60) * 1000, () => directSession());
  figures.direct = direct;
  console.log(`  first frame ${direct.firstFrameMs} ms, ${direct.framesPerSecond} frames/s, ${direct.megabitsPerSecond} Mbit/s, engine RSS ${direct.engineRssMb} MB`);
  await sleep(1000);

  const startedAt = performance.now();
  const socket = await openGatewayDesktop();
  const viaGateway = await phase(`through the gateway, ${seconds} s`, (seconds + 60) * 1000, () =>
    measureStream(
      startedAt,
      (onData) =>
        socket.on("message", (data: Buffer, isBinary: boolean) => {
          if (isBinary) onData(data);
          else if (JSON.parse(String(data)).type === "ended") throw new Error(`the session ended: ${String(data)}`);
        }),
      (ack) => socket.send(Buffer.from(ack), { binary: true }),
    ),
  );
  const gatewayEngineRss = engineProcesses(bench.gateway.pid).reduce((sum, pid) => sum + treeRss(pid), 0);
  socket.close();
  await sleep(2000);
  // The session just measured: the first-frame connects before it are sessions of the target too.
  const [recording] = await sql<{ id: string; bytes: string; ms: number }[]>`
    select s.id, coalesce(sum(c.size), 0) as bytes, max(c.end_ms) as ms from recording_chunks c join sessions s on s.id = c.session_id
    where s.target_name = 'desktop' group by s.id, s.started_at order by s.started_at desc limit 1`;
  const recordingMbPerHour = (Number(recording!.bytes) / 1e6 / Math.max(1, recording!.ms)) * 3_600_000;
  figures.gateway = { ...viaGateway, engineRssMb: Number((gatewayEngineRss / 1024 / 1024).toFixed(1)), recordingMbPerHour: Number(recordingMbPerHour.toFixed(1)) };
  console.log(
    `  first frame ${viaGateway.firstFrameMs} ms, ${viaGateway.framesPerSecond} frames/s, ${viaGateway.megabitsPerSecond} Mbit/s, engine RSS ${(gatewayEngineRss / 1024 / 1024).toFixed(1)} MB, recording ${recordingMbPerHour.toFixed(0)} MB/h of a screen changing all the time`,
  );

  const synthetic = await phase(`a ${seekHours} h recording of such a screen`, 1_800_000, () => synthesizeDesktopRecording(bench, recording!.id, seekHours));
  figures.seekRecording = synthetic.figures;
  figures.seek = await phase(`${seeks} seeks in it`, 900_000, () => measureDesktopSeeks(bench, synthetic.sessionId, synthetic.durationMs, seeks));
});
