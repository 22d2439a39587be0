// The gateway as an operator meets it: misconfiguration stops it with one line naming the variable; a
// restart keeps the generated secrets and prints a fresh setup link; SIGTERM shuts it down cleanly; without its
// database it says it is not ready, and recovers.
import { spawnSync } from "node:child_process";
import http from "node:http";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { startGateway } from "../test/fixtures/gateway";
import { adminUrl, createScratchDatabase } from "../test/fixtures/postgres-database";
import { freePort } from "../test/fixtures/ports";
import { expect, ssoUrl, test } from "./fixtures/test";

const projectRoot = path.resolve(import.meta.dirname, "..");
const logDir = path.join(projectRoot, ".test-artifacts");

function runGatewayExpectingExit(env: Record<string, string>) {
  return spawnSync(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "production", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
}

test("a bad setting stops the gateway with one line naming the variable", () => {
  const result = runGatewayExpectingExit({ PUBLIC_URL: "gatehouse.example.com", PORT: "3000" });
  expect(result.status).toBe(2);
  expect(result.stderr.trim()).toBe(
    'gatehouse: configuration error: PUBLIC_URL must be an absolute URL such as https://gatehouse.example.com (got "gatehouse.example.com")',
  );
});

test("an external database without shared secrets is refused before anything starts", () => {
  const result = runGatewayExpectingExit({ DATABASE_URL: "postgres://127.0.0.1:1/none" });
  expect(result.status).toBe(2);
  expect(result.stderr).toContain("gatehouse: configuration error: AUTH_SECRET is required when DATABASE_URL is set");
  expect(result.stderr).toContain("gatehouse: configuration error: GATEHOUSE_MASTER_KEY is required when DATABASE_URL is set");
});

test("a restart keeps the generated secrets, rotates the setup link, and SIGTERM stops it cleanly", async ({ page }) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-e2e-restart-"));
  try {
    const port = await freePort();
    const first = await startGateway({ port, env: { DATA_DIR: dataDir }, logFile: path.join(logDir, "gateway-restart-1.log") });
    const secretFile = path.join(dataDir, "secrets", "master-key");
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dataDir, "secrets", "auth-secret")).mode & 0o777).toBe(0o600);
    const key = readFileSync(secretFile, "utf8");
    await first.stop();
    // Not at a terminal, the log is one JSON object per line, with level, time, node and message.
    const lines = readFileSync(path.join(logDir, "gateway-restart-1.log"), "utf8").split("\n").filter((line) => line.startsWith("{"));
    const entries = lines.map((line) => JSON.parse(line) as { level: number; time: string; node: string; msg: string });
    expect(entries.find((entry) => entry.msg.includes("listening on"))).toMatchObject({ level: 30, node: expect.any(String), time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(entries.find((entry) => entry.msg.includes("First start"))?.msg).toContain(first.setupUrl!);
    expect(entries.map((entry) => entry.msg)).toContain("SIGTERM: ending 0 session(s) and closing connections");

    const second = await startGateway({ port, env: { DATA_DIR: dataDir }, logFile: path.join(logDir, "gateway-restart-2.log") });
    try {
      expect(readFileSync(secretFile, "utf8")).toBe(key);
      expect(second.setupUrl).not.toBe(first.setupUrl);
      await page.goto(first.setupUrl!);
      await expect(page.getByRole("alert").filter({ hasText: "has been used or has expired" })).toBeVisible();
      await page.goto(second.setupUrl!);
      await expect(page.getByLabel("New password")).toBeVisible();
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("/readyz says 503 with the reason while the database is unreachable, and 200 again once it is back; the node survives", async () => {
  test.setTimeout(120_000);
  const database = await createScratchDatabase("gatehouse_readyz");
  const name = new URL(database.url).pathname.slice(1);
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const port = await freePort();
  const node = await startGateway({
    port,
    env: { DATABASE_URL: database.url, AUTH_SECRET: "a".repeat(40), GATEHOUSE_MASTER_KEY: "b".repeat(64), NODE_NAME: "e2e-readyz", DATA_DIR: mkdtempSync(path.join(tmpdir(), "gatehouse-readyz-")) },
    logFile: path.join(logDir, "gateway-readyz.log"),
  });
  const readiness = async () => {
    const answer = await fetch(`${node.url}/readyz`);
    return { status: answer.status, body: (await answer.json()) as { status: string; problems?: string[] } };
  };
  try {
    expect(await readiness()).toEqual({ status: 200, body: { status: "ready", node: "e2e-readyz" } });
    // The database refuses the node: its connections are cut and new ones turned away.
    await admin.unsafe(`alter database ${name} allow_connections false`);
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`;
    await expect.poll(async () => (await readiness()).status, { timeout: 30_000, message: "not ready without its database" }).toBe(503);
    expect((await readiness()).body).toMatchObject({ status: "not ready", problems: expect.arrayContaining(["the database did not answer within 2 s"]) });
    // Alive all the while: a load balancer takes it out, its supervisor leaves it running.
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    await admin.unsafe(`alter database ${name} allow_connections true`);
    await expect.poll(async () => (await readiness()).status, { timeout: 30_000, message: "ready again" }).toBe(200);
  } finally {
    await node.stop();
    await admin.unsafe(`alter database ${name} allow_connections true`).catch(() => undefined);
    await admin.end();
    await database.drop();
  }
});

test("a kept-alive connection stays open past a proxy's idle time, so the next request on it is never reset", async () => {
  // One connection, kept alive: the second request, 6 s later (past Node's default of 5 s), goes on the same socket.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const health = () =>
    new Promise<{ status: number; keepAlive: string; reused: boolean }>((resolve, reject) => {
      const request = http.get(`${ssoUrl()}/healthz`, { agent }, (response) => {
        response.resume();
        response.once("end", () => resolve({ status: response.statusCode ?? 0, keepAlive: String(response.headers["keep-alive"]), reused: request.reusedSocket }));
      });
      request.once("error", reject);
    });
  try {
    expect(await health()).toEqual({ status: 200, keepAlive: "timeout=65", reused: false });
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(await health()).toMatchObject({ status: 200, reused: true });
  } finally {
    agent.destroy();
  }
});
