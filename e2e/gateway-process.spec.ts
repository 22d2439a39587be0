// The gateway as an operator meets it: misconfiguration stops it with one line naming the variable; a
// restart keeps the generated secrets and prints a fresh setup link; SIGTERM shuts it down cleanly.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startGateway } from "../test/fixtures/gateway";
import { freePort } from "../test/fixtures/ports";
import { expect, test } from "./fixtures/test";

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
