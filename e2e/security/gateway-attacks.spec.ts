// Attacks on the gateway itself, each against a real gateway (the end-to-end one, a server/main.ts process like
// the one `npm start` runs) and a hostile internal app: the app proxy pointed at other hosts in every
// request-target form, HTTP and WebSocket; a decompression bomb with the gateway's memory measured; off-site
// return paths; cookies an app sets under the gateway's names; a flood of page events; protocol violations on every kind of socket, before and after the gate;
// a paste larger than a frame; a download abandoned mid-way. Each test fails if its hole reopens.
import { createHmac, hkdfSync, randomBytes, createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import type { BrowserContext } from "@playwright/test";
import postgres from "postgres";
import { startVncServer, type DesktopTarget } from "../../test/fixtures/desktop-targets";
import { startHostileApp, type RunningHostileApp } from "../../test/fixtures/hostile-app";
import { frame, rawRequest, rawWebSocket, type RawWebSocket } from "../../test/fixtures/raw-sockets";
import { cookieHeader, createCredential, createTarget, sshdUnderTest } from "../fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "../fixtures/test";

const run = Date.now().toString(36);
const sshd = sshdUnderTest();
const gatewayLog = path.resolve(import.meta.dirname, "../../.test-artifacts/gateway-sso.log");

/** The gateway's resident memory, from the kernel. */
function gatewayRss(): number {
  const status = readFileSync(`/proc/${process.env.E2E_SSO_PID}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

test.describe("attacks on the gateway", { tag: "@security" }, () => {
  let hostile: RunningHostileApp;
  let vnc: DesktopTarget;
  let alice: BrowserContext;
  let bob: BrowserContext;
  let sam: BrowserContext;
  let sql: postgres.Sql;
  const app = `hostile-${run}`;
  const apiKey = `key-${run}-never-elsewhere`;
  const gateway = () => new URL(ssoUrl());
  const port = () => Number(gateway().port);
  const appHost = () => `${app}.localhost:${port()}`;
  const appOrigin = () => `http://${appHost()}`;
  let appCookie = "";
  let sshTargetId = "";
  let vncTargetId = "";

  /** A request line as an attacker writes it, on the app host with Bob's live session cookie. */
  const onAppHost = (requestLine: string, extra = "") => rawRequest(port(), `${requestLine}\r\nHost: ${appHost()}\r\nCookie: __gatehouse_app=${appCookie}\r\n${extra}Connection: close\r\n\r\n`);
  const ticket = async (context: BrowserContext, body: Record<string, string>) => {
    const response = await context.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: body });
    expect(response.status(), await response.text()).toBe(200);
    return ((await response.json()) as { url: string }).url;
  };
  const gatewayAlive = async () => expect((await rawRequest(port(), `GET /signin HTTP/1.1\r\nHost: localhost:${port()}\r\nConnection: close\r\n\r\n`)).status).toBe(200);
  /** The web session Bob's app cookie stands for. */
  const sessionOfCookie = async () => (await sql`select id from sessions where app_token_hash = ${createHash("sha256").update(appCookie).digest("hex")}`)[0]!.id as string;

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(120_000);
    [hostile, vnc] = await Promise.all([startHostileApp(), startVncServer()]);
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    [alice, bob, sam] = [await browser.newContext(), await browser.newContext(), await browser.newContext()];
    for (const [context, login] of [[alice, "alice"], [bob, "bob"], [sam, "sam"]] as const) await signInWithSso(await context.newPage(), login);
    const key = await createCredential(alice.request, { name: `hostile-key-${run}`, kind: "password", username: "api", secret: apiKey });
    await createTarget(alice.request, { name: app, protocol: "web", internalUrl: hostile.url, allowedUsers: ["bob"], credentialId: key, webAuthHeader: "X-Api-Key" });
    const sshLogin = await createCredential(alice.request, { name: `attacks-ssh-${run}`, kind: "password", username: sshd.username, secret: sshd.password });
    sshTargetId = await createTarget(alice.request, { name: `attacks-ssh-${run}`, protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["bob"], credentialId: sshLogin });
    const vncLogin = await createCredential(alice.request, { name: `attacks-vnc-${run}`, kind: "password", username: "vnc", secret: vnc.password });
    vncTargetId = await createTarget(alice.request, { name: `attacks-vnc-${run}`, protocol: "vnc", host: vnc.host, port: vnc.port, allowedUsers: ["bob"], credentialId: vncLogin });
    const page = await bob.newPage();
    await page.goto(`${ssoUrl()}/apps/${app}?return=/page`);
    await expect(page.getByRole("heading", { name: "Hostile app" })).toBeVisible();
    appCookie = (await bob.cookies(appOrigin())).find((cookie) => cookie.name === "__gatehouse_app")!.value;
    await page.close();
  });

  test.afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close(), sam?.close()]);
    await sql?.end();
    await Promise.all([hostile?.stop(), vnc?.stop()]);
    // Every attack above was answered by the socket or request it came on: nothing escaped to the process.
    expect(readFileSync(gatewayLog, "utf8")).not.toMatch(/uncaught|unhandled/i);
  });

  test("a request on an app host reaches the app's own origin and nothing else, in every request-target form", async () => {
    const canary = new URL(hostile.canary.url);
    const elsewhere = `${canary.hostname}:${canary.port}`;
    // The ordinary request works and carries the credential: the refusals below are not a broken proxy.
    const plain = await onAppHost("GET /api/plain HTTP/1.1");
    expect(plain.status).toBe(200);
    expect(hostile.requests.find((request) => request.url === "/api/plain")?.headers["x-api-key"]).toBe(apiKey);

    const before = hostile.requests.length;
    const attempts: [string, number][] = [
      [`GET ${hostile.canary.url}/absolute HTTP/1.1`, 400],
      [`GET http://${appHost()}/absolute-self HTTP/1.1`, 400],
      [`GET //${elsewhere}/scheme-relative HTTP/1.1`, 400],
      [`GET /\\${elsewhere}/backslash HTTP/1.1`, 400],
      [`GET /%2F${elsewhere}/encoded-slash HTTP/1.1`, 400],
      [`GET /%5C${elsewhere}/encoded-backslash HTTP/1.1`, 400],
      [`GET /%252F%252F${elsewhere}/double-encoded HTTP/1.1`, 400],
      // Authority form outside CONNECT: Node's parser refuses it before the proxy.
      [`GET ${elsewhere} HTTP/1.1`, 400],
      [`OPTIONS * HTTP/1.1`, 400],
      [`TRACE /api/trace HTTP/1.1`, 405],
      // Node's HTTP parser knows no TRACK: refused before the proxy sees it.
      [`TRACK /api/track HTTP/1.1`, 400],
      [`CONNECT ${elsewhere} HTTP/1.1`, 405],
    ];
    for (const [line, status] of attempts) expect((await onAppHost(line)).status, line).toBe(status);
    // A Host the client writes does not move the upstream either: the app sees its own internal host.
    expect((await onAppHost("GET /api/host HTTP/1.1", `X-Forwarded-Host: ${elsewhere}\r\nForwarded: host=${elsewhere}\r\n`)).status).toBe(200);
    expect(hostile.requests.find((request) => request.url === "/api/host")?.headers.host).toBe(new URL(hostile.url).host);
    expect(hostile.requests.find((request) => request.url === "/api/host")?.headers.forwarded).toBeUndefined();

    expect(hostile.canary.hits).toEqual([]);
    expect(hostile.requests.slice(before).map((request) => request.url)).toEqual(["/api/host"]);
    // Redirects from the app go to the browser as they are; the gateway never follows one.
    const redirect = await onAppHost("GET /redirect-out HTTP/1.1");
    expect(redirect).toMatchObject({ status: 302, headers: { location: `${hostile.canary.url}/followed` } });
    expect(hostile.canary.hits).toEqual([]);
    // Every refusal of the proxy's is in the audit log, with who sent it. Node's HTTP parser refuses three forms
    // before the proxy sees them (GET in authority form, TRACK) or hands them to the CONNECT handler.
    await expect
      .poll(async () => (await sql`select count(*)::int as n from audit_log where action = 'web.request' and outcome = 'refused' and actor_name = 'bob' and details->>'app' = ${app}`)[0]!.n)
      .toBe(attempts.length - 3);
  });

  test("an app's WebSocket reaches the app's own origin and nothing else, in every request-target form", async () => {
    const canary = new URL(hostile.canary.url);
    const elsewhere = `${canary.hostname}:${canary.port}`;
    const headers = { Host: appHost(), Origin: appOrigin(), Cookie: `__gatehouse_app=${appCookie}` };
    const echo = await rawWebSocket(port(), "/ws", headers);
    expect(echo.status).toBe(101);
    echo.socket.write(frame(1, Buffer.from("ping")));
    await expect.poll(() => echo.received().toString("latin1")).toContain("ping");
    echo.socket.destroy();
    for (const target of [`${hostile.canary.url}/ws`, `//${elsewhere}/ws`, `/\\${elsewhere}/ws`, `/%2F${elsewhere}/ws`, `/%5c${elsewhere}/ws`]) {
      const attempt = await rawWebSocket(port(), target, headers);
      expect(attempt.status, target).toBe(400);
    }
    expect(hostile.canary.hits).toEqual([]);
  });

  test("an app cannot set the gateway's cookies on its host, by page or WebSocket, and its own cookies stay host-only", async () => {
    const names = "__gatehouse_app,__gatehouse_state";
    const page = await bob.newPage();
    await page.goto(`${appOrigin()}/set-cookies?names=${names}`);
    await expect(page.getByRole("heading", { name: "Cookies set" })).toBeVisible();
    // The answer to a WebSocket handshake tries the same.
    await page.evaluate(
      (url) =>
        new Promise<void>((resolve, reject) => {
          const socket = new WebSocket(url);
          socket.onopen = () => {
            socket.close();
            resolve();
          };
          socket.onerror = () => reject(new Error(`${url} did not open`));
        }),
      `${appOrigin().replace(/^http/, "ws")}/ws?names=${names}`,
    );
    const cookies = await bob.cookies(appOrigin());
    expect(cookies.find((cookie) => cookie.name === "__gatehouse_app")?.value).toBe(appCookie);
    expect(cookies.filter((cookie) => cookie.value === "forged-by-app").map((cookie) => cookie.name)).toEqual([]);
    expect(cookies.find((cookie) => cookie.name === "theme")).toMatchObject({ value: "dark", domain: `${app}.localhost` });
    // Bob's visit goes on, his own.
    await page.goto(`${appOrigin()}/after-cookies`);
    await expect(page.getByRole("heading", { name: "Hostile app" })).toBeVisible();
    await page.close();
  });

  test("a decompression bomb from an app passes through unrecorded and the gateway's memory stays flat", async () => {
    // Warm: a page recorded the ordinary way first, so the baseline holds the recorder and its code.
    expect((await onAppHost("GET /warm HTTP/1.1")).body.toString()).toContain("__gatehouse/rec.js");
    const baseline = gatewayRss();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, gatewayRss())), 20);
    try {
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all([onAppHost("GET /bomb HTTP/1.1"), onAppHost("GET /bomb-stacked HTTP/1.1"), onAppHost("GET /bomb HTTP/1.1")]);
        for (const answer of answers) {
          expect(answer.status).toBe(200);
          expect(answer.headers["content-encoding"]).toMatch(/^gzip/);
        }
        expect(answers[0]!.body.length).toBe(hostile.bomb.compressedBytes);
      }
    } finally {
      clearInterval(sampler);
    }
    const growth = peak - baseline;
    console.log(`gateway RSS ${Math.round(baseline / 2 ** 20)} MiB before the bombs, ${Math.round(peak / 2 ** 20)} MiB at most while serving them (bomb: ${hostile.bomb.compressedBytes} bytes inflating to ${hostile.bomb.inflatedBytes})`);
    expect(growth).toBeLessThan(64 * 1024 * 1024);
    const sessionId = await sessionOfCookie();
    await expect
      .poll(async () => (await sql`select details->>'reason' as reason from session_events where session_id = ${sessionId} and kind = 'web.page_unrecorded'`).map((row) => row.reason))
      .toEqual(expect.arrayContaining(["too large", "more than one content coding (gzip, gzip)"]));
    await gatewayAlive();
  });

  test("a download the browser abandons is broken off at the app too, not left holding a connection", async () => {
    const before = hostile.endless.started;
    const client = connect(port(), "127.0.0.1");
    client.on("error", () => {});
    client.write(`GET /endless HTTP/1.1\r\nHost: ${appHost()}\r\nCookie: __gatehouse_app=${appCookie}\r\n\r\n`);
    let received = 0;
    await new Promise<void>((resolve) => client.on("data", (data: Buffer) => (received += data.length) > 100_000 && resolve()));
    client.destroy();
    expect(hostile.endless.started).toBe(before + 1);
    await expect.poll(() => hostile.endless.closed, { timeout: 5_000 }).toBe(hostile.endless.started);
    await gatewayAlive();
  });

  test("return paths never lead off-site, however they are spelled", async () => {
    for (const trick of ["%2F%09%2Fevil.example", "%2F%5Cevil.example", "%2F%2Fevil.example", "https%3A%2F%2Fevil.example", "%2F%0A%2Fevil.example"]) {
      const launch = await bob.request.get(`${ssoUrl()}/apps/${app}?return=${trick}`, { maxRedirects: 0 });
      expect(launch.status()).toBe(302);
      const start = new URL(launch.headers().location!);
      expect(start.origin).toBe(appOrigin());
      expect(start.searchParams.get("return"), trick).toBe("/");
      const withState = await bob.request.get(`${ssoUrl()}/apps/${app}?return=${trick}&state=${"a".repeat(64)}`, { maxRedirects: 0 });
      expect(new URL(withState.headers().location!).searchParams.get("return"), trick).toBe("/");
      const signIn = await bob.request.get(`${ssoUrl()}/signin?next=${trick}`, { maxRedirects: 0 });
      expect([303, 307, 302]).toContain(signIn.status());
      expect(new URL(signIn.headers().location!, ssoUrl()).origin, trick).toBe(gateway().origin);
    }
  });

  test("a flood of page events neither floods storage nor the timeline, and bad events close the page's socket", async () => {
    test.setTimeout(120_000);
    const sessionId = await sessionOfCookie();
    const headers = { Host: appHost(), Origin: appOrigin(), Cookie: `__gatehouse_app=${appCookie}` };
    const flood = await rawWebSocket(port(), "/__gatehouse/events", headers);
    expect(flood.status).toBe(101);
    const now = Date.now();
    for (let batch = 0; batch < 8; batch++) {
      const events = Array.from({ length: 10_000 }, (_, index) => ({ type: 4, timestamp: now + batch * 10_000 + index, data: { href: `https://flood.example/${batch}/${index}`, width: 800, height: 600 } }));
      flood.socket.write(frame(1, Buffer.from(JSON.stringify({ sentAt: now, events }))));
    }
    // The budget holds the socket back; give it time to take what it will.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    flood.socket.destroy();
    await expect.poll(async () => (await sql`select count(*)::int as n from session_events where session_id = ${sessionId} and kind = 'web.recording_limited'`)[0]!.n).toBeGreaterThan(0);
    const { chunks } = (await sql`select count(*)::int as chunks from recording_chunks where session_id = ${sessionId}`)[0]!;
    const { navigations } = (await sql`select count(*)::int as navigations from session_events where session_id = ${sessionId} and kind = 'web.navigation' and details->>'href' like 'https://flood.example/%'`)[0]!;
    console.log(`80,000 page loads in 8 frames: ${chunks} chunks, ${navigations} navigations on the timeline`);
    expect(chunks).toBeLessThan(100);
    expect(navigations).toBeLessThanOrEqual(120);
    await gatewayAlive();

    // An address past 2 KiB, a page load without one, or not JSON at all: the page's socket is closed, 1008.
    for (const bad of [
      { sentAt: now, events: [{ type: 4, timestamp: now, data: { href: `https://x.example/${"a".repeat(3000)}` } }] },
      { sentAt: now, events: [{ type: 4, timestamp: now, data: {} }] },
      { sentAt: now, events: [{ type: 5, timestamp: now, data: { tag: "gatehouse.navigation", payload: { href: "not a url" } } }] },
      "not json",
    ]) {
      const page = await rawWebSocket(port(), "/__gatehouse/events", headers);
      page.socket.write(frame(1, Buffer.from(typeof bad === "string" ? bad : JSON.stringify(bad))));
      expect(await page.closeCode(), JSON.stringify(bad).slice(0, 80)).toBe(1008);
      page.socket.destroy();
    }
    // With no page left sending events, the timeline says so: what a page sends is the page's word. (The flood's
    // socket closes only once the gateway has read what the kernel still held of it, at the budget's pace.)
    await expect.poll(async () => (await sql`select count(*)::int as n from session_events where session_id = ${sessionId} and kind = 'web.recorder_silent'`)[0]!.n, { timeout: 60_000 }).toBeGreaterThan(0);
  });

  test("a protocol violation on any socket, before or after the gate, closes that socket with its code and nothing else", async () => {
    const violations = [
      { name: "an unmasked frame", bytes: frame(2, Buffer.from("x"), { mask: false }), code: 1002 },
      { name: "a text frame of invalid UTF-8", bytes: frame(1, Buffer.from([0xc3, 0x28, 0xff])), code: 1007 },
      { name: "a frame longer than the socket takes", bytes: frame(2, Buffer.alloc(16), { claimedLength: 64 * 1024 * 1024 }), code: 1009 },
    ];
    const gatewayHeaders = async (context: BrowserContext) => ({ Host: `localhost:${port()}`, Origin: ssoUrl(), Cookie: await cookieHeader(context) });
    const afterGate = async (open: () => Promise<RawWebSocket>) => {
      const socket = await open();
      expect(socket.status).toBe(101);
      // Admitted: the route has spoken first.
      await expect.poll(() => socket.received().length, { timeout: 15_000 }).toBeGreaterThan(0);
      return socket;
    };
    // A live terminal of Bob's, for watchers and node links to attach to.
    const liveTicket = await ticket(bob, { targetId: sshTargetId, purpose: "terminal" });
    const live = await afterGate(async () => rawWebSocket(port(), liveTicket, await gatewayHeaders(bob)));
    const liveSessionId = (await sql`select id from sessions where target_name = ${`attacks-ssh-${run}`} and status <> 'ended' order by started_at desc limit 1`)[0]!.id as string;
    const env = JSON.parse(process.env.E2E_SSO_ENV!) as Record<string, string>;
    const nodeSecret = Buffer.from(hkdfSync("sha256", env.AUTH_SECRET!, "gatehouse", "node link", 32));
    // Node links arrive on the node's internal listener (its address is in the node registry), never the public port.
    const internalPort = Number(new URL((await sql`select internal_url from nodes where name = 'e2e-sso'`)[0]!.internal_url as string).port);
    const nodeLink = (sessionId: string, nonce = randomBytes(18).toString("base64url")) => {
      const expires = String(Date.now() + 20_000);
      const signature = createHmac("sha256", nodeSecret).update([sessionId, "attacker-node", expires, nonce].join("\n")).digest("base64url");
      return { path: `/internal/watch?session=${sessionId}&from=attacker-node&expires=${expires}&nonce=${nonce}`, authorization: `Gatehouse-Node ${signature}` };
    };

    const kinds: { kind: string; open: () => Promise<RawWebSocket>; admitted: boolean }[] = [
      { kind: "terminal, before the gate", admitted: false, open: async () => rawWebSocket(port(), "/ws/terminal?ticket=forged", await gatewayHeaders(bob)) },
      { kind: "terminal, after the gate", admitted: true, open: async () => rawWebSocket(port(), await ticket(bob, { targetId: sshTargetId, purpose: "terminal" }), await gatewayHeaders(bob)) },
      { kind: "desktop, before the gate", admitted: false, open: async () => rawWebSocket(port(), "/ws/desktop?ticket=forged", await gatewayHeaders(bob)) },
      { kind: "desktop, after the gate", admitted: true, open: async () => rawWebSocket(port(), `${await ticket(bob, { targetId: vncTargetId, purpose: "desktop" })}&width=800&height=600&dpi=96`, await gatewayHeaders(bob)) },
      { kind: "watch, before the gate", admitted: false, open: async () => rawWebSocket(port(), "/ws/watch?ticket=forged", await gatewayHeaders(sam)) },
      { kind: "watch, after the gate", admitted: true, open: async () => rawWebSocket(port(), await ticket(sam, { purpose: "watch", sessionId: liveSessionId }), await gatewayHeaders(sam)) },
      { kind: "page events, after the app host's admission", admitted: true, open: () => rawWebSocket(port(), "/__gatehouse/events", { Host: appHost(), Origin: appOrigin(), Cookie: `__gatehouse_app=${appCookie}` }) },
      {
        kind: "node link, after its signature",
        admitted: true,
        open: () => {
          const link = nodeLink(liveSessionId);
          return rawWebSocket(internalPort, link.path, { Host: `127.0.0.1:${internalPort}`, Authorization: link.authorization });
        },
      },
    ];
    for (const { kind, open, admitted } of kinds) {
      for (const violation of violations) {
        const socket = admitted && !kind.startsWith("page events") ? await afterGate(open) : await open();
        expect(socket.status, kind).toBe(101);
        socket.socket.write(violation.bytes);
        const code = await socket.closeCode(15_000);
        // Before the gate, the refusal may close the socket before the frame is read: either way it is closed.
        if (admitted) expect(code, `${kind}: ${violation.name}`).toBe(violation.code);
        else expect([violation.code, 4401, 4403, 4408], `${kind}: ${violation.name}`).toContain(code);
        socket.socket.destroy();
      }
    }
    // Before its admission, the page-events socket never becomes a WebSocket: no cookie, another origin.
    expect((await rawWebSocket(port(), "/__gatehouse/events", { Host: appHost(), Origin: appOrigin() })).status).toBe(403);
    expect((await rawWebSocket(port(), "/__gatehouse/events", { Host: appHost(), Origin: "http://evil.localhost", Cookie: `__gatehouse_app=${appCookie}` })).status).toBe(403);
    // A node link without the nodes' signature never becomes a WebSocket; nor does a signed one replayed, nor one on
    // the public port.
    expect((await rawWebSocket(internalPort, nodeLink(liveSessionId).path, { Host: `127.0.0.1:${internalPort}`, Authorization: "Gatehouse-Node forged" })).status).toBe(401);
    const recorded = nodeLink(liveSessionId);
    const first = await rawWebSocket(internalPort, recorded.path, { Host: `127.0.0.1:${internalPort}`, Authorization: recorded.authorization });
    expect(first.status).toBe(101);
    first.socket.destroy();
    expect((await rawWebSocket(internalPort, recorded.path, { Host: `127.0.0.1:${internalPort}`, Authorization: recorded.authorization })).status).toBe(401);
    const onPublicPort = nodeLink(liveSessionId);
    expect((await rawWebSocket(port(), onPublicPort.path, { Host: `localhost:${port()}`, Authorization: onPublicPort.authorization })).status).not.toBe(101);
    // An app's own WebSocket is the app's to police: the violation reaches it through the tunnel, the gateway carries on.
    const tunnel = await rawWebSocket(port(), "/ws", { Host: appHost(), Origin: appOrigin(), Cookie: `__gatehouse_app=${appCookie}` });
    tunnel.socket.write(frame(2, Buffer.from("x"), { mask: false }));
    expect(await tunnel.closeCode()).toBe(1002);
    // The terminal that was open all along is still there.
    live.socket.write(frame(2, Buffer.from("echo still-here\n")));
    await expect.poll(() => live.received().toString("latin1"), { timeout: 10_000 }).toContain("still-here");
    live.socket.destroy();
    await gatewayAlive();
  });

  test("a 5 MB paste in the terminal arrives whole", async () => {
    const page = await bob.newPage();
    await page.goto(`${ssoUrl()}/connect/${sshTargetId}`);
    await expect(page.getByTestId("terminal-status")).toHaveText("Connected");
    await page.getByTestId("terminal").click();
    const file = `/tmp/gatehouse-paste-${run}`;
    // The marker the command prints is not in the command line itself: its echo must not pass for the command having
    // run (a paste while the shell still edits the line is marked as one, and the markers would reach the file).
    await page.keyboard.type(`stty raw -echo; echo PASTE-$((6*7))-READY; head -c 5000000 > ${file}; stty sane; sha256sum ${file}; rm ${file}\n`);
    await expect(page.locator(".xterm-rows")).toContainText("PASTE-42-READY");
    const text = randomBytes(3_750_000).toString("base64");
    expect(text.length).toBe(5_000_000);
    await page.evaluate((pasted) => {
      const data = new DataTransfer();
      data.setData("text/plain", pasted);
      document.querySelector("[data-testid=terminal] textarea")!.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }, text);
    await expect(page.locator(".xterm-rows")).toContainText(createHash("sha256").update(text).digest("hex"), { timeout: 60_000 });
    await expect(page.getByTestId("terminal-status")).toHaveText("Connected");
    await page.close();
  });

  test("the gateway's own pages allow only their own scripts, by a fresh nonce, and cannot be framed", async () => {
    const first = await bob.request.get(`${ssoUrl()}/`);
    const second = await bob.request.get(`${ssoUrl()}/`);
    const policy = first.headers()["content-security-policy"]!;
    expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("object-src 'none'");
    const nonce = (header: string) => /'nonce-([^']+)'/.exec(header)![1];
    expect(nonce(second.headers()["content-security-policy"]!)).not.toBe(nonce(policy));
    // Every script on the page carries the response's nonce.
    const html = await first.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) expect(script).toContain(`nonce="${nonce(policy)}"`);
    expect(first.headers()).toMatchObject({ "x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin" });
    // The gateway's own answers on app hosts run nothing either.
    const refusal = await rawRequest(port(), `GET / HTTP/1.1\r\nHost: ${appHost()}\r\nConnection: close\r\n\r\n`);
    expect(refusal.headers["content-security-policy"]).toContain("default-src 'none'");
  });
});
