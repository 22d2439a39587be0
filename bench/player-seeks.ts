// What the seek benchmarks of the desktop and web players share: what their synthetic hour stored, Chromium
// signed in as a reviewer, the figures of a series of seeks, and the gateway's share of them (the window for a
// moment, fetched whole).
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "@playwright/test";
import { eq, sql } from "drizzle-orm";
import type { Database } from "../lib/data/client";
import { recordingChunks, sessions, users } from "../lib/data/schema";
import { percentile, type BenchGateway } from "./support";

/** An ended-to-be session of the benchmark's account that started `durationMs` ago, for a synthetic recording. */
export async function syntheticSession(db: Database, protocol: "rdp" | "web", durationMs: number) {
  const startedAt = Date.now() - durationMs;
  const [user] = await db.select().from(users).where(eq(users.username, "bench"));
  const [session] = await db.insert(sessions).values({ userId: user!.id, targetName: `synthetic-${protocol}`, protocol, node: "synthetic", status: "active", startedAt: new Date(startedAt) }).returning();
  return { sessionId: session!.id, startedAt };
}

/** A recording's chunks, how many open with a snapshot (seek points), and their stored bytes. */
export async function storedChunks(db: Database, sessionId: string) {
  const [stored] = await db
    .select({ chunks: sql<number>`count(*)::int`, snapshots: sql<number>`count(*) filter (where ${recordingChunks.snapshot})::int`, bytes: sql<number>`sum(${recordingChunks.size})::bigint` })
    .from(recordingChunks)
    .where(eq(recordingChunks.sessionId, sessionId));
  return { chunks: stored!.chunks, snapshots: stored!.snapshots, bytes: Number(stored!.bytes) };
}

/**
 * Chromium signed in to the gateway as the benchmark's account, on one page of a 1280×900 window, and what the
 * page reported as going wrong (errors on its console, failed requests): what a stuck player is told with.
 */
export async function reviewerPage(bench: BenchGateway): Promise<{ browser: Browser; page: Page; problems: string[] }> {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
  // The page's CSP stays on, as a reviewer has it: it also keeps the replayed page from fetching the app's images.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const [cookieName, cookieValue] = bench.cookie.split(/=(.*)/s);
  await context.addCookies([{ name: cookieName!, value: cookieValue!, domain: "localhost", path: "/" }]);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => message.type() === "error" && problems.push(message.text().slice(0, 300)));
  page.on("pageerror", (error) => problems.push(error.message.slice(0, 300)));
  page.on("response", (response) => response.status() >= 400 && problems.push(`${response.status()} ${response.url()}`));
  return { browser, page, problems };
}

/**
 * Whether the page comes to show `expected` within `timeoutMs`: `probe` (an expression) is read at every frame.
 * (Playwright's waitForFunction evaluates its predicate with eval, which the page's CSP refuses.)
 */
export function shows(page: Page, probe: string, expected: number, timeoutMs = 20_000): Promise<boolean> {
  return page.evaluate(`new Promise((resolve) => {
    const deadline = performance.now() + ${timeoutMs};
    const check = () => {
      if (${probe} === ${expected}) resolve(true);
      else if (performance.now() > deadline) resolve(false);
      else requestAnimationFrame(check);
    };
    check();
  })`) as Promise<boolean>;
}

/** A random moment of a recording, in the middle of a second (so the second it shows is not in doubt), in ms. */
export const middleOfASecond = (durationMs: number) => Math.floor((Math.random() * (durationMs - 2000)) / 1000) * 1000 + 500;

/** Moves the player's position slider to `ms`, as a reviewer's drag that ends there. */
export async function seekBySlider(page: Page, ms: number) {
  await page.evaluate(`(() => {
    const slider = document.querySelector('input[aria-label="Position in the recording"]');
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(slider, "${ms}");
    slider.dispatchEvent(new Event("input", { bubbles: true }));
  })()`);
}

/** p50, p95 and the slowest of a series of times, in whole ms. */
export const latencySummary = (values: number[]) => ({ p50: Math.round(percentile(values, 50)), p95: Math.round(percentile(values, 95)), max: Math.round(Math.max(...values)) });

/** The gateway's part of `count` seeks: the window each `windowPath()` names, read and sent whole. */
export async function timedWindows(bench: BenchGateway, count: number, windowPath: () => string) {
  const latencies: number[] = [];
  const bytes: number[] = [];
  for (let fetched = 0; fetched < count; fetched++) {
    const started = performance.now();
    const response = await fetch(`${bench.url}${windowPath()}`, { headers: { cookie: bench.cookie } });
    const body = await response.arrayBuffer();
    if (!response.ok) throw new Error(`the window was refused: ${response.status}`);
    latencies.push(performance.now() - started);
    bytes.push(body.byteLength);
  }
  return { windowMs: latencySummary(latencies), windowMb: Number((percentile(bytes, 50) / 1e6).toFixed(1)) };
}

/** What a player that does not show what it should is reported with: the page's problems and a screenshot. */
export async function stuckPlayer(page: Page, problems: string[], what: string): Promise<Error> {
  const screenshot = path.join(tmpdir(), `gatehouse-bench-player-${Date.now()}.png`);
  await page.screenshot({ path: screenshot }).catch(() => {});
  return new Error(`${what}; the page reported: ${problems.slice(-5).join(" | ") || "nothing"}; its screenshot: ${screenshot}`);
}
