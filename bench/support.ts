// What the benchmarks share: PTYs over a direct ssh2 client or through the gateway's WebSocket, a gateway
// started on a fresh PostgreSQL database with a signed-in account and SSH targets, and process figures from /proc.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { encode } from "next-auth/jwt";
import { Client, type ClientChannel } from "ssh2";
import WebSocket from "ws";
import { sessionCookieName } from "../lib/auth/session-cookie";
import { desktopSocketPath, type DesktopSize } from "../lib/protocol/desktop";
import { encodeInstruction } from "../lib/protocol/guacamole";
import { createCredential } from "../lib/data/credentials";
import { openDatabase } from "../lib/data/client";
import { createEvidenceKeys, installEvidenceKeys } from "../lib/infra/evidence-keys";
import { users } from "../lib/data/schema";
import { targetInputSchema, type TargetInput } from "../lib/protocol/admin";
import type { Role } from "../lib/protocol/domain";
import { createTarget } from "../lib/data/targets";
import { createVault } from "../lib/infra/vault";
import { startGateway, type RunningGateway } from "../test/fixtures/gateway";
import { freePort } from "../test/fixtures/ports";
import { createScratchDatabase } from "../test/fixtures/postgres-database";
import { startSshd } from "../test/fixtures/sshd";

type Sshd = Awaited<ReturnType<typeof startSshd>>;

/** One step of a benchmark, named as it starts, that fails with its name when it passes its deadline. */
export async function phase<T>(name: string, deadlineMs: number, work: () => Promise<T>): Promise<T> {
  console.log(`${name}…`);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`phase "${name}" passed its deadline of ${deadlineMs / 1000} s`)), deadlineMs);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

type Cleanup = () => unknown;
const cleanups: Cleanup[] = [];

/** Something to stop when the benchmark ends, however it ends; the last registered is stopped first. */
export function atEnd(cleanup: Cleanup) {
  cleanups.push(cleanup);
}

/** The figures a benchmark has measured so far: printed as its last line even when it stops early. */
export type Figures = Record<string, unknown>;

/**
 * Runs a benchmark so that it cannot hang: its phases have deadlines, and whatever ends it (done, a phase past its
 * deadline, an error anywhere, even one no promise awaits) it stops what it started within a deadline, prints the
 * figures it has as one JSON line, last, and exits non-zero unless it finished.
 */
export async function runBenchmark(name: string, body: (figures: Figures) => Promise<void>): Promise<never> {
  const figures: Figures = { benchmark: name };
  const escaped = new Promise<never>((_, reject) => {
    process.once("uncaughtException", reject);
    process.once("unhandledRejection", reject);
  });
  let stopped: string | null = null;
  try {
    await Promise.race([body(figures), escaped]);
  } catch (error) {
    stopped = error instanceof Error ? error.message : String(error);
    console.error(`bench:${name} stopped: ${stopped}`, error);
    console.error("the figures measured so far are on the last line");
    figures.stopped = stopped;
  }
  await phase("stopping what the benchmark started", 60_000, async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error("cleaning up failed:", error);
      }
    }
  }).catch((error: Error) => console.error(error.message));
  console.log(JSON.stringify(figures));
  process.exit(stopped === null ? 0 : 1);
}

/** A fresh sshd for the benchmark, stopped at its end. */
export async function benchSshd(): Promise<Sshd> {
  const sshd = await phase("starting sshd", 30_000, () => startSshd());
  atEnd(() => sshd.stop());
  return sshd;
}

export function percentile(values: number[], p: number) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Something that carries PTY bytes: a direct ssh2 shell or the gateway's WebSocket. */
export interface Pty {
  write(text: string): void;
  onData(listener: (data: Buffer) => void): void;
  offData(listener: (data: Buffer) => void): void;
  /** Called once if the session ends without the benchmark closing it, with why. */
  onLost(listener: (reason: string) => void): void;
  close(): void;
}

export function waitForBytes(pty: Pty, marker: Buffer): Promise<number> {
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

export async function settle(pty: Pty) {
  const marker = `__READY_${randomBytes(4).toString("hex")}__`;
  const ready = waitForBytes(pty, Buffer.from(marker));
  pty.write(`echo ${marker.slice(0, 4)}''${marker.slice(4)}\r`);
  await ready;
}

/** Starts `cat > /dev/null` at a settled prompt: every key typed is echoed by the target's terminal and kept nowhere. */
export async function startCat(pty: Pty) {
  await settle(pty);
  const ready = waitForBytes(pty, Buffer.from("/dev/null\r\n"));
  pty.write("cat > /dev/null\r");
  await ready;
}

/**
 * Ends `cat` with end-of-file on an empty line, not Ctrl-C: the terminal flushes its queues when it raises SIGINT,
 * so a command typed right after a Ctrl-C can vanish, and a benchmark waiting for its answer would wait for ever.
 */
export async function endCat(pty: Pty) {
  const line = waitForBytes(pty, Buffer.from("\n"));
  pty.write("\r");
  await line;
  pty.write("\x04");
  await settle(pty);
}

const endMarker = Buffer.from("__BENCH_END__");

/** Times `bytes` of base64 (4/3 of it on the wire) through a PTY, from the command to its end marker. */
export async function measureThroughput(pty: Pty, bytes: number) {
  await settle(pty);
  const started = performance.now();
  const done = waitForBytes(pty, endMarker);
  pty.write(`head -c ${bytes} /dev/zero | base64 -w 0; echo; echo __BENCH_''END__\r`);
  const received = await done;
  const seconds = (performance.now() - started) / 1000;
  return { bytes: received, seconds, mbPerSecond: received / 1_000_000 / seconds };
}

/** Where a direct client logs in: what a worker thread can be given of a running sshd. */
export type SshLogin = Pick<Sshd, "host" | "port" | "username" | "password">;

export function directPty(sshd: SshLogin): Promise<Pty> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on("ready", () =>
        client.shell({ term: "xterm-256color", cols: 120, rows: 40 }, (error, stream: ClientChannel) => {
          if (error) return reject(error);
          let closing = false;
          resolve({
            write: (text) => stream.write(text),
            onData: (listener) => stream.on("data", listener),
            offData: (listener) => stream.off("data", listener),
            onLost: (listener) => stream.once("close", () => closing || listener("the SSH channel closed")),
            close: () => {
              closing = true;
              client.end();
            },
          });
        }),
      )
      .on("error", reject)
      // As a tuned client would: keys go out at once, not held back for the previous packet's acknowledgement.
      .connect({ sock: connect({ host: sshd.host, port: sshd.port, noDelay: true }), username: sshd.username, password: sshd.password });
  });
}

/** A ticket for `request`, then the WebSocket it opens on the node at `nodeUrl`, as a browser's page does it. */
export async function gatewaySocket(nodeUrl: string, cookie: string, request: Record<string, string>, query = "") {
  // On a connection of its own: a kept-alive one that the server closed while a benchmark read or rendered for
  // minutes failed the request without an answer (EPIPE), again when asked twice.
  const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const body = JSON.stringify(request);
    const ask = httpRequest(`${nodeUrl}/api/tickets`, { method: "POST", agent: false, headers: { cookie, origin: nodeUrl, "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (answer) => {
      const parts: Buffer[] = [];
      answer.on("data", (part: Buffer) => parts.push(part));
      answer.on("end", () => resolve({ status: answer.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }));
      answer.on("error", reject);
    });
    ask.on("error", reject);
    ask.end(body);
  });
  if (response.status < 200 || response.status > 299) throw new Error(`${request.purpose} ticket refused: ${response.status} ${response.body}`);
  const { url } = JSON.parse(response.body) as { url: string };
  const socket = new WebSocket(`${nodeUrl.replace(/^http/, "ws")}${url}${query}`, { headers: { cookie, origin: nodeUrl } });
  // A node going away resets its sockets: that is a lost session, reported by onLost, not an error to throw.
  socket.on("error", () => {});
  return socket;
}

/** A desktop session through the gateway at `size`, as the browser's page opens one: Guacamole instructions both ways. */
export function gatewayDesktop(bench: BenchGateway, targetId: string, size: DesktopSize) {
  return gatewaySocket(bench.url, bench.cookie, { targetId, purpose: "desktop" }, desktopSocketPath("", size));
}

/** Guacamole's keysyms: printable ASCII is the character's code; Return, Escape and friends by name. */
export const keysyms = { Return: 0xff0d, Escape: 0xff1b, Down: 0xff54, PageDown: 0xff56, Control: 0xffe3 } as const;

/** A key pressed and released, or held down with `modifier`. */
export function pressed(keysym: number, modifier?: number): string {
  const press = (key: number, down: 0 | 1) => encodeInstruction("key", [key, down]);
  return modifier === undefined ? press(keysym, 1) + press(keysym, 0) : press(modifier, 1) + press(keysym, 1) + press(keysym, 0) + press(modifier, 0);
}

/** Text as keys typed, a newline as Return. */
export function typed(text: string): string {
  return [...text].map((character) => pressed(character === "\n" ? keysyms.Return : character.codePointAt(0)!)).join("");
}

/** The PTY bytes a session socket carries (binary frames; text frames are the session's own messages). */
function socketPty(socket: WebSocket): Pty {
  const listeners = new Map<(data: Buffer) => void, (data: Buffer, isBinary: boolean) => void>();
  let closing = false;
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
    onLost(listener) {
      let ended: string | null = null;
      socket.on("message", (data, isBinary) => {
        if (!isBinary && JSON.parse(String(data)).type === "ended") ended = String(data);
      });
      socket.once("close", (code) => closing || listener(ended ?? `the WebSocket closed (${code})`));
    },
    close: () => {
      closing = true;
      socket.close();
    },
  };
}

/** A session through the gateway: a PTY, and the session's id. */
export type GatewayPty = Pty & { sessionId: string };

export async function gatewayPty(gatewayUrl: string, cookie: string, targetId: string): Promise<GatewayPty> {
  const socket = await gatewaySocket(gatewayUrl, cookie, { targetId, purpose: "terminal" }, "&cols=120&rows=40");
  const sessionId = await new Promise<string>((resolve, reject) => {
    // Only until the session is connected: later text frames are onLost's to read.
    const untilConnected = (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const message = JSON.parse(String(data)) as { type: string; sessionId?: string };
      if (message.type === "connected") {
        socket.off("message", untilConnected);
        resolve(message.sessionId!);
      }
      if (message.type === "ended") reject(new Error(String(data)));
    };
    socket.on("message", untilConnected);
    socket.once("close", (code) => reject(new Error(`the session's WebSocket closed (${code}) before it connected`)));
  });
  return { sessionId, ...socketPty(socket) };
}

/** What a watcher sees of a live session, through the node at `nodeUrl` (the session's own, or one relaying it). */
export async function watchSession(nodeUrl: string, cookie: string, sessionId: string): Promise<Pty> {
  const socket = await gatewaySocket(nodeUrl, cookie, { purpose: "watch", sessionId });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("close", (code) => reject(new Error(`the watch WebSocket closed (${code}) before it opened`)));
  });
  return socketPty(socket);
}

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A figure of a process's /proc status, in KiB (VmRSS, RssAnon, RssFile…). */
export const statusKiB = (pid: number, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
/** Resident memory of one process (none for one that has exited and not yet been reaped: it has no VmRSS). */
export const rss = (pid: number) => statusKiB(pid, "VmRSS") * 1024;
const childrenOf = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);

/** Resident memory of a process and every process it started (the keyframer). */
export function treeRss(pid: number): number {
  return rss(pid) + childrenOf(pid).reduce((sum, child) => sum + childTreeRss(child), 0);
}

/** A child may exit between being listed and being read (the keyframer leaves when it has nothing to do). */
function childTreeRss(pid: number): number {
  try {
    return treeRss(pid);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ESRCH") return 0;
    throw error;
  }
}
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


/** User + system CPU seconds of a process and every process it started (the keyframer). */
export function treeCpuSeconds(pid: number): number {
  return cpuSeconds(pid) + childrenOf(pid).reduce((sum, child) => sum + treeCpuSeconds(child), 0);
}

/** The first node's name (NODE_NAME): its row in `nodes` carries its heartbeat figures. */
export const benchNodeName = "bench";

export interface BenchGateway {
  url: string;
  gateway: RunningGateway;
  /** A session cookie for the benchmark's account, as a browser would send it. */
  cookie: string;
  databaseUrl: string;
  dataDir: string;
  targetIds: Record<string, string>;
  authSecret: string;
  masterKey: Buffer;
  /** Starts the gateway process again on the same database and data (a fresh process). */
  restart(logName: string): Promise<void>;
  /** Starts another node of the same cluster (same database, secrets and blob store) on its own port. */
  addNode(name: string): Promise<RunningGateway>;
  stop(): Promise<void>;
}

/**
 * A gateway on a fresh PostgreSQL database, with one account holding `roles` and the targets named: SSH targets
 * on `sshd` (with its credential), or targets that say otherwise (web apps, desktops with the `login` given).
 */
export async function startBenchGateway(options: {
  name: string;
  sshd?: Sshd;
  login?: { username: string; password: string };
  roles: Role[];
  targets: Record<string, Partial<TargetInput>>;
}): Promise<BenchGateway> {
  const database = await createScratchDatabase(`gatehouse_bench_${options.name}`);
  const authSecret = randomBytes(33).toString("base64");
  const masterKey = randomBytes(32);
  // What this process writes into the gateway's database (the seed, recordings made in-process) is signed and
  // sealed as the gateway's own writes are.
  installEvidenceKeys(createEvidenceKeys({ masterKey }));
  const port = await freePort();
  const url = `http://localhost:${port}`;

  // The account, credential and targets go straight into the database the gateway will use.
  const seed = await openDatabase({ databaseUrl: database.url, dataDir: "unused" });
  const actor = { id: null, name: "bench", sourceIp: null };
  const [user] = await seed.db.insert(users).values({ username: "bench", source: "local", grantedRoles: options.roles }).returning();
  const { sshd } = options;
  const login = sshd ?? options.login;
  const credential = login ? await createCredential(seed.db, createVault(masterKey), actor, { name: "bench", kind: "password", username: login.username, secret: login.password }) : null;
  const targetIds: Record<string, string> = {};
  for (const [name, settings] of Object.entries(options.targets)) {
    const onSshd = sshd ? { protocol: "ssh", host: sshd.host, port: sshd.port, hostKeyFingerprint: sshd.hostKeyFingerprint } : {};
    const input = { name, ...onSshd, credentialId: credential?.id ?? null, allowedUsers: ["bench"], ...settings };
    targetIds[name] = (await createTarget(seed.db, actor, targetInputSchema.parse(input))).id;
  }
  await seed.close();

  const cookieName = sessionCookieName(new URL(url));
  const cookie = `${cookieName}=${await encode({ token: { uid: user!.id, sub: user!.id }, secret: authSecret, salt: cookieName, maxAge: 8 * 3600 })}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), `gatehouse-bench-${options.name}-`));
  const clusterEnvironment = { DATABASE_URL: database.url, AUTH_SECRET: authSecret, GATEHOUSE_MASTER_KEY: masterKey.toString("hex"), DATA_DIR: dataDir };
  const launch = (logName: string) => startGateway({ port, logFile: path.resolve(`.test-artifacts/${logName}.log`), env: { ...clusterEnvironment, NODE_NAME: benchNodeName } });
  const otherNodes: RunningGateway[] = [];
  const bench: BenchGateway = {
    url,
    gateway: await launch(`bench-${options.name}-gateway`),
    cookie,
    databaseUrl: database.url,
    dataDir,
    targetIds,
    authSecret,
    masterKey,
    async restart(logName) {
      await bench.gateway.stop();
      bench.gateway = await launch(logName);
    },
    async addNode(name) {
      const node = await startGateway({ port: await freePort(), logFile: path.resolve(`.test-artifacts/bench-${options.name}-${name}.log`), env: { ...clusterEnvironment, NODE_NAME: name } });
      otherNodes.push(node);
      return node;
    },
    async stop() {
      await Promise.all(otherNodes.map((node) => node.stop()));
      await bench.gateway.stop();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  atEnd(() => bench.stop());
  return bench;
}
