// npm run bench:ssh — SSH through the gateway (recording on, as always) against a direct ssh2 client, same
// sshd, same run: bulk PTY output MB/s, keystroke echo latency, and gateway memory per idle session.
// Starts its own sshd, PostgreSQL database and gateway; prints a JSON line with the figures at the end.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encode } from "next-auth/jwt";
import { Client, type ClientChannel } from "ssh2";
import WebSocket from "ws";
import { sessionCookieName } from "../lib/auth/session-cookie";
import { createCredential } from "../lib/credentials";
import { openDatabase } from "../lib/db/client";
import { targetInputSchema } from "../lib/protocol/admin";
import { users } from "../lib/db/schema";
import { createTarget } from "../lib/targets";
import { createVault } from "../lib/vault";
import { startGateway } from "../test/fixtures/gateway";
import { freePort } from "../test/fixtures/ports";
import { createScratchDatabase } from "../test/fixtures/postgres-database";
import { startSshd } from "../test/fixtures/sshd";

const bulkBytes = Number(process.env.BENCH_SSH_BULK_MB ?? 75) * 1_000_000; // base64 makes 4/3 of it: ≥ 100 MB on the wire
const echoKeys = 500;
const throughputRounds = 3;
const idleCounts = (process.env.BENCH_SSH_IDLE ?? "200,1000").split(",").map(Number);
const bulkCommand = `head -c ${bulkBytes} /dev/zero | base64 -w 0; echo; echo __BENCH_''END__\r`;
const endMarker = Buffer.from("__BENCH_END__");

/** Something that carries PTY bytes: a direct ssh2 shell or the gateway's WebSocket. */
interface Pty {
  write(text: string): void;
  onData(listener: (data: Buffer) => void): void;
  offData(listener: (data: Buffer) => void): void;
  close(): void;
}

function percentile(values: number[], p: number) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function waitForBytes(pty: Pty, marker: Buffer): Promise<number> {
  return new Promise((resolve) => {
    let total = 0;
    let tail = Buffer.alloc(0);
    const listener = (data: Buffer) => {
      total += data.length;
      const window = Buffer.concat([tail, data]);
      if (window.includes(marker)) {
        pty.offData(listener);
        resolve(total);
      }
      tail = window.subarray(Math.max(0, window.length - 64));
    };
    pty.onData(listener);
  });
}

async function settle(pty: Pty) {
  const marker = `__READY_${randomBytes(4).toString("hex")}__`;
  const ready = waitForBytes(pty, Buffer.from(marker));
  pty.write(`echo ${marker.slice(0, 4)}''${marker.slice(4)}\r`);
  await ready;
}

async function measureThroughput(pty: Pty) {
  await settle(pty);
  const started = performance.now();
  const done = waitForBytes(pty, endMarker);
  pty.write(bulkCommand);
  const bytes = await done;
  const seconds = (performance.now() - started) / 1000;
  return { bytes, seconds, mbPerSecond: bytes / 1_000_000 / seconds };
}

async function startCat(pty: Pty) {
  await settle(pty);
  const ready = waitForBytes(pty, Buffer.from("/dev/null\r\n"));
  pty.write("cat > /dev/null\r");
  await ready;
}

async function echoOnce(pty: Pty, letter: string) {
  const echoed = waitForBytes(pty, Buffer.from(letter));
  const started = performance.now();
  pty.write(letter);
  await echoed;
  return performance.now() - started;
}

/** Keys alternate between the two paths, so both see the same moments of a noisy machine. */
async function measureEcho(direct: Pty, viaGateway: Pty) {
  await startCat(direct);
  await startCat(viaGateway);
  const samples = { direct: [] as number[], gateway: [] as number[] };
  for (let key = 0; key < echoKeys; key++) {
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
  for (const pty of [direct, viaGateway]) pty.write("\x03");
  const summary = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99) });
  return { direct: summary(samples.direct), gateway: summary(samples.gateway) };
}

function directPty(sshd: Awaited<ReturnType<typeof startSshd>>): Promise<Pty> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on("ready", () =>
        client.shell({ term: "xterm-256color", cols: 120, rows: 40 }, (error, stream: ClientChannel) => {
          if (error) return reject(error);
          resolve({
            write: (text) => stream.write(text),
            onData: (listener) => stream.on("data", listener),
            offData: (listener) => stream.off("data", listener),
            close: () => client.end(),
          });
        }),
      )
      .on("error", reject)
      .connect({ host: sshd.host, port: sshd.port, username: sshd.username, password: sshd.password });
  });
}

async function gatewayPty(gatewayUrl: string, cookie: string, targetId: string): Promise<Pty> {
  const response = await fetch(`${gatewayUrl}/api/tickets`, {
    method: "POST",
    headers: { cookie, origin: gatewayUrl, "content-type": "application/json" },
    body: JSON.stringify({ targetId, purpose: "terminal" }),
  });
  if (!response.ok) throw new Error(`ticket refused: ${response.status} ${await response.text()}`);
  const { url } = (await response.json()) as { url: string };
  const socket = new WebSocket(`${gatewayUrl.replace(/^http/, "ws")}${url}&cols=120&rows=40`, { headers: { cookie, origin: gatewayUrl } });
  await new Promise<void>((resolve, reject) => {
    socket.on("message", (data, isBinary) => {
      if (!isBinary && JSON.parse(String(data)).type === "connected") resolve();
      if (!isBinary && JSON.parse(String(data)).type === "ended") reject(new Error(String(data)));
    });
    socket.once("error", reject);
  });
  const listeners = new Map<(data: Buffer) => void, (data: Buffer, isBinary: boolean) => void>();
  return {
    write: (text) => socket.send(Buffer.from(text), { binary: true }),
    onData(listener) {
      const wrapped = (data: Buffer, isBinary: boolean) => isBinary && listener(data);
      listeners.set(listener, wrapped);
      socket.on("message", wrapped);
    },
    offData(listener) {
      socket.off("message", listeners.get(listener)!);
      listeners.delete(listener);
    },
    close: () => socket.close(),
  };
}

/** User + system CPU seconds a process has used so far. */
function cpuSeconds(pid: number) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const sshd = await startSshd();
  const database = await createScratchDatabase("gatehouse_bench");
  const authSecret = randomBytes(33).toString("base64");
  const masterKey = randomBytes(32);
  const port = await freePort();
  const gatewayUrl = `http://localhost:${port}`;

  // Seed the account, credential and target straight into the database the gateway will use.
  const seed = await openDatabase({ databaseUrl: database.url, dataDir: "unused" });
  const actor = { id: null, name: "bench", sourceIp: null };
  const [user] = await seed.db.insert(users).values({ username: "bench", source: "local" }).returning();
  const credential = await createCredential(seed.db, createVault(masterKey), actor, { name: "bench", kind: "password", username: sshd.username, secret: sshd.password });
  const target = await createTarget(
    seed.db,
    actor,
    targetInputSchema.parse({ name: "bench-sshd", protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["bench"], credentialId: credential.id, hostKeyFingerprint: sshd.hostKeyFingerprint }),
  );
  await seed.close();

  const cookieName = sessionCookieName(new URL(gatewayUrl));
  const cookie = `${cookieName}=${await encode({ token: { uid: user!.id, sub: user!.id }, secret: authSecret, salt: cookieName, maxAge: 8 * 3600 })}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-bench-ssh-"));
  const launchGateway = (logName: string) =>
    startGateway({
      port,
      logFile: path.resolve(`.test-artifacts/${logName}.log`),
      env: { DATABASE_URL: database.url, AUTH_SECRET: authSecret, GATEHOUSE_MASTER_KEY: masterKey.toString("hex"), NODE_NAME: "bench", DATA_DIR: dataDir },
    });
  let gateway = await launchGateway("bench-ssh-gateway");

  try {
    const direct = await directPty(sshd);
    const viaGateway = await gatewayPty(gatewayUrl, cookie, target.id);
    // Echo first: after the bulk run the recorder is still compressing and storing its chunks for a while.
    const { direct: directEcho, gateway: gatewayEcho } = await measureEcho(direct, viaGateway);
    console.log(`keystroke echo over ${echoKeys} keys: direct p50 ${directEcho.p50.toFixed(2)} ms p99 ${directEcho.p99.toFixed(2)} ms; gateway p50 ${gatewayEcho.p50.toFixed(2)} ms p99 ${gatewayEcho.p99.toFixed(2)} ms`);

    console.log(`bulk output: ${((bulkBytes * 4) / 3 / 1e6).toFixed(0)} MB of base64 through a PTY`);
    // Three rounds, alternating, and the median of each: one slow moment of the machine does not decide.
    const rounds = { direct: [] as Awaited<ReturnType<typeof measureThroughput>>[], gateway: [] as Awaited<ReturnType<typeof measureThroughput>>[] };
    let gatewayCpu = 0;
    for (let round = 0; round < throughputRounds; round++) {
      rounds.direct.push(await measureThroughput(direct));
      const cpuBefore = cpuSeconds(gateway.pid);
      rounds.gateway.push(await measureThroughput(viaGateway));
      gatewayCpu += cpuSeconds(gateway.pid) - cpuBefore;
    }
    // Steadier than MB/s on a shared machine: what relaying (and recording) a megabyte costs the gateway.
    const gatewayCpuMsPerMB = (1000 * gatewayCpu) / (rounds.gateway.reduce((sum, result) => sum + result.bytes, 0) / 1e6);
    const median = (results: typeof rounds.direct) => [...results].sort((a, b) => a.mbPerSecond - b.mbPerSecond)[Math.floor(results.length / 2)]!;
    const directThroughput = median(rounds.direct);
    const gatewayThroughput = median(rounds.gateway);
    console.log(`  median of ${throughputRounds}: direct ssh2 ${directThroughput.mbPerSecond.toFixed(1)} MB/s, gateway ${gatewayThroughput.mbPerSecond.toFixed(1)} MB/s (${((100 * gatewayThroughput.mbPerSecond) / directThroughput.mbPerSecond).toFixed(0)} %); gateway CPU ${gatewayCpuMsPerMB.toFixed(1)} ms per MB`);
    direct.close();
    viaGateway.close();
    // Memory per idle session is measured on a fresh process, not one still holding what the bulk run allocated.
    await gateway.stop();
    gateway = await launchGateway("bench-ssh-gateway-idle");
    await sleep(2000);

    const idle: Record<string, { sessions: number; rssBytes: number; bytesPerSession: number }> = {};
    const baseline = rss(gateway.pid);
    const open: Pty[] = [];
    for (const count of idleCounts) {
      const started = performance.now();
      while (open.length < count) {
        const batch = Math.min(20, count - open.length);
        open.push(...(await Promise.all(Array.from({ length: batch }, () => gatewayPty(gatewayUrl, cookie, target.id)))));
      }
      await sleep(5000);
      const total = rss(gateway.pid);
      idle[count] = { sessions: count, rssBytes: total, bytesPerSession: (total - baseline) / count };
      console.log(`${count} idle sessions (opened in ${((performance.now() - started) / 1000).toFixed(0)} s): gateway RSS ${(total / 2 ** 20).toFixed(0)} MiB, ${(idle[count]!.bytesPerSession / 1024).toFixed(0)} KiB per session over the ${(baseline / 2 ** 20).toFixed(0)} MiB baseline`);
    }
    for (const pty of open) pty.close();

    console.log(
      JSON.stringify({
        benchmark: "ssh",
        throughputMBps: { direct: directThroughput.mbPerSecond, gateway: gatewayThroughput.mbPerSecond, ratio: gatewayThroughput.mbPerSecond / directThroughput.mbPerSecond, bytes: gatewayThroughput.bytes, gatewayCpuMsPerMB },
        echoMs: { direct: directEcho, gateway: gatewayEcho, keys: echoKeys },
        idleSessions: { baselineRssBytes: baseline, ...idle },
      }),
    );
  } finally {
    await gateway.stop();
    await sshd.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
