// npm run bench:web — publishing a web app: the latency the gateway's proxy adds (p50/p99 of 3,000 requests
// through the gateway next to 3,000 straight to the app and 3,000 through a bare Node.js proxy, the floor of a
// proxy hop, same run, alternating), for a plain response and for a page that gets the recorder injected; and
// the recording's stored bytes per minute of scripted browsing in Chromium (sign in to the app's own login form,
// its editor, page to page, mouse and scroll); then seeks in an hour of web recording made from that browsing
// (bench/web-seek.ts).
// Starts its own app (Node-RED), PostgreSQL database and gateway; every phase has a deadline; prints a JSON line
// with the figures last, also when it stops early.
import { spawn } from "node:child_process";
import http from "node:http";
import { createInterface } from "node:readline";
import { chromium } from "@playwright/test";
import postgres from "postgres";
import { startNodeRed } from "../test/fixtures/node-red";
import { atEnd, percentile, phase, runBenchmark, sleep, startBenchGateway } from "./support";
import { measureWebSeeks, synthesizeWebRecording } from "./web-seek";

// 3,000: with 1,000 a run is short enough for one busy moment of the machine to move its median.
const requestCount = Number(process.env.BENCH_WEB_REQUESTS ?? 3000);
const browseSeconds = Number(process.env.BENCH_WEB_SECONDS ?? 60);
const rounds = 10;
const seekHours = Number(process.env.BENCH_WEB_SEEK_HOURS ?? 1);
const seeks = Number(process.env.BENCH_WEB_SEEKS ?? 50);
/** latency, browsing, seeks (which needs browsing). */
const parts = (process.env.BENCH_WEB_PARTS ?? "latency,browsing,seeks").split(",");

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One GET on a kept-alive connection; resolves with its duration in ms once the whole body has arrived. */
function timedGet(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    http
      .get(url, { agent, headers }, (response) => {
        if (response.statusCode !== 200) reject(new Error(`${url} answered ${response.statusCode}`));
        response.resume();
        response.on("end", () => resolve(performance.now() - startedAt));
      })
      .on("error", reject);
  });
}

/** Starts bench/bare-proxy.ts in front of the app: the floor a proxy hop costs on this machine. */
async function startBareProxy(appUrl: string): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/bare-proxy.ts", appUrl], { stdio: ["ignore", "pipe", "inherit"] });
  atEnd(() => void child.kill());
  child.on("error", (error) => console.error(`the bare proxy failed: ${error.message}`));
  const [port] = await Promise.race([
    createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then(({ value }) => [String(value ?? "")]),
    new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`the bare proxy exited with ${code}`)))),
  ]);
  if (!/^\d+$/.test(port!)) throw new Error(`the bare proxy printed ${JSON.stringify(port)}, not its port`);
  return `http://127.0.0.1:${port}`;
}

const summary = (times: number[]) => ({ p50Ms: Number(percentile(times, 50).toFixed(2)), p99Ms: Number(percentile(times, 99).toFixed(2)) });

await runBenchmark("web", async (figures) => {
  const app = await phase("starting the app", 120_000, () => startNodeRed());
  atEnd(() => app.stop());
  const bench = await phase("starting the gateway", 180_000, () => startBenchGateway({ name: "web", roles: ["user", "reviewer"], targets: { red: { protocol: "web", internalUrl: app.url } } }));
  const sql = postgres(bench.databaseUrl, { max: 1, onnotice: () => {} });
  atEnd(() => sql.end());
  atEnd(() => agent.destroy());
  const gatewayPort = new URL(bench.url).port;
  const appHost = `red.localhost:${gatewayPort}`;
  // The app cookie, as a browser gets it: a state cookie on the app's host, the launch on the gateway's origin
  // bound to that state, then the handoff back on the app's host.
  const onAppHost = (path: string, cookie = "") =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(`http://127.0.0.1:${gatewayPort}${path}`, { headers: { host: appHost, cookie } }, (response) => resolve(response.resume())).once("error", reject);
    });
  const firstCookie = (response: http.IncomingMessage) => response.headers["set-cookie"]?.[0]?.split(";")[0] ?? "";
  const start = await onAppHost("/__gatehouse/start?return=/page1");
  const state = firstCookie(start);
  const launch = await fetch(String(start.headers.location), { headers: { cookie: bench.cookie }, redirect: "manual" });
  const handoff = new URL(launch.headers.get("location")!);
  const handed = await onAppHost(`${handoff.pathname}${handoff.search}`, state);
  const appCookie = firstCookie(handed);
  if (!appCookie.startsWith("__gatehouse_app=")) throw new Error(`the handoff answered ${handed.statusCode} without a session cookie`);

  const direct = `${app.url}/page1`;
  const proxied = `http://127.0.0.1:${gatewayPort}/page1`;
  const kinds = {
    /** What an app's scripts fetch: passed through as it comes. */
    plain: { "sec-fetch-dest": "empty" },
    /** A page the user opens: read whole, the recorder's tag added. */
    page: { "sec-fetch-dest": "document" },
  };
  const bareProxy = `${await phase("starting the bare proxy", 30_000, () => startBareProxy(app.url))}/page1`;
  const times = { direct: [] as number[], bare: [] as number[], plain: [] as number[], page: [] as number[] };
  if (parts.includes("latency")) await phase(`latency, ${requestCount} requests each way`, 300_000, async () => {
    for (let warm = 0; warm < 50; warm++) {
      await timedGet(direct, {});
      await timedGet(bareProxy, {});
      await timedGet(proxied, { host: appHost, cookie: appCookie, ...kinds.plain });
    }
    for (let round = 0; round < rounds; round++) {
      for (let index = 0; index < requestCount / rounds; index++) times.direct.push(await timedGet(direct, {}));
      for (let index = 0; index < requestCount / rounds; index++) times.bare.push(await timedGet(bareProxy, {}));
      for (let index = 0; index < requestCount / rounds; index++) times.plain.push(await timedGet(proxied, { host: appHost, cookie: appCookie, ...kinds.plain }));
      for (let index = 0; index < requestCount / rounds; index++) times.page.push(await timedGet(proxied, { host: appHost, cookie: appCookie, ...kinds.page }));
    }
  });
  if (parts.includes("latency")) Object.assign(figures, {
    requests: requestCount,
    direct: summary(times.direct),
    bareProxy: summary(times.bare),
    proxied: summary(times.plain),
    proxiedPageWithRecorder: summary(times.page),
    addedP50Ms: Number((percentile(times.plain, 50) - percentile(times.direct, 50)).toFixed(2)),
    addedP99Ms: Number((percentile(times.plain, 99) - percentile(times.direct, 99)).toFixed(2)),
    bareProxyAddedP50Ms: Number((percentile(times.bare, 50) - percentile(times.direct, 50)).toFixed(2)),
  });
  if (parts.includes("latency")) console.log(`latency of ${requestCount} requests each: direct ${JSON.stringify(summary(times.direct))}, a bare Node.js proxy ${JSON.stringify(summary(times.bare))}, through the gateway ${JSON.stringify(summary(times.plain))}, pages with the recorder ${JSON.stringify(summary(times.page))}`);

  if (!parts.includes("browsing")) return;
  // Scripted browsing, recorded: Chromium signed in to the gateway (the benchmark account's cookie).
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
  atEnd(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const [cookieName, cookieValue] = bench.cookie.split(/=(.*)/s);
  await context.addCookies([{ name: cookieName!, value: cookieValue!, domain: "localhost", path: "/" }]);
  const page = await context.newPage();
  await page.goto(`${bench.url}/apps/red?return=/`);
  const [visit] = await sql<{ id: string }[]>`select id from sessions where target_name = 'red' and status <> 'ended' order by started_at desc limit 1`;
  const sessionId = visit!.id;
  const browsingStarted = Date.now();
  let pagesOpened = 1;
  await phase(`${browseSeconds} s of scripted browsing`, (browseSeconds + 120) * 1000, async () => {
    await page.locator("#node-dialog-login-username").fill(app.username);
    await page.locator("#node-dialog-login-password").fill(app.password);
    await page.getByRole("button", { name: "Login" }).click();
    await page.locator("#red-ui-workspace-tabs").getByText("Pages").waitFor({ timeout: 30_000 });
    while (Date.now() - browsingStarted < browseSeconds * 1000) {
      await page.goto(`http://${appHost}/page1`);
      for (let move = 0; move < 10; move++) await page.mouse.move(100 + move * 40, 100 + move * 20);
      await page.mouse.wheel(0, 200);
      await page.getByRole("link", { name: "Next page" }).click();
      await page.locator("#echo").getByText("echo:").waitFor();
      pagesOpened += 2;
      await sleep(1000);
    }
  });
  const browsedMinutes = (Date.now() - browsingStarted) / 60_000;
  await page.close();
  await browser.close();
  await sleep(2500);
  const [stored] = await sql<{ chunks: number; bytes: number }[]>`select count(*)::int as chunks, coalesce(sum(size), 0)::int as bytes from recording_chunks where session_id = ${sessionId}`;
  const bytesPerMinute = Math.round(stored!.bytes / browsedMinutes);
  console.log(`recording: ${stored!.chunks} chunks, ${stored!.bytes} bytes stored for ${browsedMinutes.toFixed(2)} min of browsing (${pagesOpened} pages) = ${(bytesPerMinute / 1024).toFixed(1)} KiB/min`);

  Object.assign(figures, { recordingBytesPerMinute: bytesPerMinute, browsedMinutes: Number(browsedMinutes.toFixed(2)), pagesOpened });

  if (!parts.includes("seeks")) return;
  const synthetic = await phase(`a ${seekHours} h web recording made from that browsing`, 600_000, () => synthesizeWebRecording(bench, sessionId, seekHours));
  figures.syntheticRecording = synthetic.figures;
  figures.seeks = await phase(`${seeks} seeks in Chromium's player`, 600_000, () => measureWebSeeks(bench, synthetic.sessionId, synthetic.durationMs, seeks));
});
