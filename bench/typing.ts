// npm run bench:typing — what a person typing feels: key to glyph on screen in Chromium, on the gateway's terminal
// page (key, page, WebSocket, gateway, sshd's echo, back, xterm.js drawing it), measured in the page from the
// key's event to the row that shows it; and, of that, the terminal WebSocket's round trip (the key sent to its
// echo received). Baselines in the same run: the browser's own floor (the same xterm.js drawing the key itself, no
// network); a WebSocket round trip from the same page, at the same moments, to a bare echo server on loopback (so
// the gateway's share of the round trip is the difference); and a direct ssh2 client's echo with TCP_NODELAY.
// Starts its own sshd, PostgreSQL database and gateway; every phase has a deadline; prints a JSON line last.
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { chromium, type Page } from "@playwright/test";
import { WebSocketServer } from "ws";
import { atEnd, benchSshd, directPty, endCat, percentile, phase, runBenchmark, startBenchGateway, startCat, waitForBytes } from "./support";

const keys = Number(process.env.BENCH_TYPING_KEYS ?? 300);
const rounds = 3;
/** Keys per line: a new line keeps the row short. */
const lineKeys = 50;

/**
 * In the page: arms a measurement for the next key; the result is the time from that key's event to the first
 * change of the terminal's rows that shows one more letter than before (xterm.js draws rows as DOM text).
 */
const measurementScript = `
  window.__armKey = () => {
    const rows = document.querySelector(".xterm-rows");
    const letters = () => (rows.textContent.match(/[a-z]/g) || []).length;
    const before = letters();
    let pressedAt = null;
    window.__keyToGlyph = new Promise((resolve) => {
      const observer = new MutationObserver(() => {
        if (pressedAt !== null && letters() > before) {
          observer.disconnect();
          resolve(performance.now() - pressedAt);
        }
      });
      observer.observe(rows, { childList: true, subtree: true, characterData: true });
      document.addEventListener("keydown", (event) => (pressedAt = event.timeStamp), { capture: true, once: true });
    });
  };
`;

/** Before the page's own scripts: the terminal WebSocket's round trip per key, from the key sent to the next output. */
const roundTripScript = `
  const Original = window.WebSocket;
  window.__roundTrips = [];
  window.WebSocket = class extends Original {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        if (typeof event.data === "string" || window.__sentAt === undefined) return;
        window.__roundTrips.push(performance.now() - window.__sentAt);
        window.__sentAt = undefined;
      });
    }
    send(data) {
      if (typeof data !== "string") window.__sentAt = performance.now();
      return super.send(data);
    }
  };
`;

/**
 * In the page: a socket to the bare echo server, sent one byte at the very moment of each key (from the key's own
 * event), so that both round trips meet the same moment of the page's main thread.
 */
const bareEchoScript = (url: string) => `
  window.__bareTrips = [];
  const bare = new WebSocket(${JSON.stringify(url)});
  bare.binaryType = "arraybuffer";
  let bareSentAt;
  bare.onmessage = () => window.__bareTrips.push(performance.now() - bareSentAt);
  document.addEventListener("keydown", () => {
    if (bare.readyState !== WebSocket.OPEN) return;
    bareSentAt = performance.now();
    bare.send(new Uint8Array([97]));
  }, { capture: true });
`;

async function serveBareEcho(): Promise<string> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  server.on("connection", (socket) => {
    socket.on("error", () => {});
    socket.on("message", (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  atEnd(() => new Promise((resolve) => server.close(resolve)));
  return `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** The browser's floor: the same xterm.js, drawing each key itself. */
function localEchoPage(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/xterm.css"><script src="/xterm.js"></script></head>
  <body style="margin:0"><div id="terminal" style="width:1000px;height:600px"></div><script>
    const term = new Terminal({ cols: 120, rows: 40 });
    term.open(document.getElementById("terminal"));
    term.onData((data) => term.write(data === "\\r" ? "\\r\\n" : data));
    term.focus();
  </script></body></html>`;
}

async function serveLocalEcho(): Promise<string> {
  const xterm = path.resolve("node_modules/@xterm/xterm");
  const files: Record<string, [string, string | Buffer]> = {
    "/": ["text/html", localEchoPage()],
    "/xterm.js": ["text/javascript", readFileSync(path.join(xterm, "lib/xterm.js"))],
    "/xterm.css": ["text/css", readFileSync(path.join(xterm, "css/xterm.css"))],
  };
  const server = http.createServer((request, response) => {
    const file = files[request.url ?? ""];
    if (!file) return void response.writeHead(404).end();
    response.writeHead(200, { "content-type": file[0] }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  atEnd(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
}

/** Types `count` letters, each measured from its key event to its glyph; Enter after every `lineKeys`. */
async function typeMeasured(page: Page, count: number, into: number[]) {
  for (let key = 0; key < count; key++) {
    await page.evaluate("window.__armKey()");
    await page.keyboard.press(String.fromCharCode(97 + (key % 26)));
    into.push(await page.evaluate<number>("window.__keyToGlyph"));
    if (key % lineKeys === lineKeys - 1) {
      await page.keyboard.press("Enter");
      await page.waitForTimeout(50);
    }
  }
}

await runBenchmark("typing", async (figures) => {
  figures.keys = keys;
  const sshd = await benchSshd();
  const bench = await phase("starting the gateway", 180_000, () => startBenchGateway({ name: "typing", sshd, roles: [], targets: { "bench-typing": {} } }));
  const localEchoUrl = await serveLocalEcho();
  const bareEchoUrl = await serveBareEcho();
  const browser = await phase("starting Chromium", 60_000, () => chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] }));
  atEnd(() => browser.close());

  const [local, gateway] = await phase("opening the pages", 120_000, async () => {
    const localContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const local = await localContext.newPage();
    await local.goto(localEchoUrl);
    // The gateway's Content-Security-Policy allows no other WebSocket: bypassed for the bare echo baseline only.
    const gatewayContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    const [cookieName, cookieValue] = bench.cookie.split(/=(.*)/s);
    await gatewayContext.addCookies([{ name: cookieName!, value: cookieValue!, domain: "localhost", path: "/" }]);
    const gateway = await gatewayContext.newPage();
    await gateway.addInitScript(roundTripScript);
    await gateway.goto(`${bench.url}/connect/${bench.targetIds["bench-typing"]}`);
    await gateway.getByTestId("terminal-status").getByText("Connected").waitFor({ timeout: 60_000 });
    await gateway.getByTestId("terminal").click();
    // Letters typed into cat are echoed by the target's terminal and kept nowhere.
    await gateway.keyboard.type("cat > /dev/null\n");
    await gateway.waitForTimeout(1000);
    for (const page of [local, gateway]) await page.evaluate(measurementScript);
    await gateway.evaluate(bareEchoScript(bareEchoUrl));
    await gateway.waitForTimeout(500);
    await gateway.evaluate("window.__roundTrips.length = 0; window.__bareTrips.length = 0");
    return [local, gateway];
  });

  const samples = { browserFloor: [] as number[], gateway: [] as number[], directSsh: [] as number[] };
  // Blocks of keys, taking turns, so both pages meet the same moments of a noisy machine.
  await phase(`key to glyph, ${keys} keys on each page`, 600_000, async () => {
    for (let round = 0; round < rounds; round++) {
      await typeMeasured(local, Math.ceil(keys / rounds), samples.browserFloor);
      await typeMeasured(gateway, Math.ceil(keys / rounds), samples.gateway);
    }
  });
  await phase(`a direct ssh2 client's echo, ${keys} keys`, 120_000, async () => {
    const direct = await directPty(sshd);
    atEnd(() => direct.close());
    await startCat(direct);
    for (let key = 0; key < keys; key++) {
      const letter = String.fromCharCode(97 + (key % 26));
      const echoed = waitForBytes(direct, Buffer.from(letter));
      const started = performance.now();
      direct.write(letter);
      await echoed;
      samples.directSsh.push(performance.now() - started);
      if (key % lineKeys === lineKeys - 1) {
        const line = waitForBytes(direct, Buffer.from("\n"));
        direct.write("\r");
        await line;
      }
    }
    await endCat(direct);
  });

  const summary = (values: number[]) => ({ p50: Number(percentile(values, 50).toFixed(2)), p99: Number(percentile(values, 99).toFixed(2)) });
  const roundTrips = await gateway.evaluate<number[]>("window.__roundTrips");
  const bareTrips = await gateway.evaluate<number[]>("window.__bareTrips");
  const result = {
    keyToGlyph: { gateway: summary(samples.gateway), browserFloor: summary(samples.browserFloor) },
    webSocketRoundTrip: { gateway: summary(roundTrips), bareEchoSamePage: summary(bareTrips) },
    directSshEcho: summary(samples.directSsh),
  };
  Object.assign(figures, result);
  console.log(
    `key to glyph in Chromium over ${keys} keys: through the gateway p50 ${result.keyToGlyph.gateway.p50} ms, p99 ${result.keyToGlyph.gateway.p99} ms; the browser's own floor p50 ${result.keyToGlyph.browserFloor.p50} ms, p99 ${result.keyToGlyph.browserFloor.p99} ms\n` +
      `  of which the WebSocket round trip through the gateway p50 ${result.webSocketRoundTrip.gateway.p50} ms, p99 ${result.webSocketRoundTrip.gateway.p99} ms; to a bare echo server from the same page p50 ${result.webSocketRoundTrip.bareEchoSamePage.p50} ms, p99 ${result.webSocketRoundTrip.bareEchoSamePage.p99} ms\n` +
      `  a direct ssh2 client's echo p50 ${result.directSshEcho.p50} ms, p99 ${result.directSshEcho.p99} ms`,
  );
});
