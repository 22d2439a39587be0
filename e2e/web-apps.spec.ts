// Zero-trust web access with an existing app (Node-RED from npm): a user opens it at its own host through the
// gateway, signs in to the app's own login form, navigates and uses its WebSockets, all recorded under the
// app's own Content-Security-Policy; the recording holds the pages but never the password, and replays in the
// player; security watches a visit live; someone not signed in is sent to sign in; someone without access, a
// forged cookie, a handoff opened in another browser or replayed, and a cross-site WebSocket are refused; terminate, sign-out and the idle
// timeout end a visit and the app stops answering; another node, which keeps the visit in memory, sees a lock or
// termination at its very next request.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BrowserContext, Page } from "@playwright/test";
import postgres from "postgres";
import WebSocket from "ws";
import { startGateway } from "../test/fixtures/gateway";
import { startNodeRed, type RunningNodeRed } from "../test/fixtures/node-red";
import { freePort } from "../test/fixtures/ports";
import { createCredential, createTarget } from "./fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const run = Date.now().toString(36);

test.describe("web apps", () => {
  let nodeRed: RunningNodeRed;
  let alice: BrowserContext;
  let bob: BrowserContext;
  let sam: BrowserContext;
  let carol: BrowserContext;
  let sql: postgres.Sql;
  const name = `red-${run}`;
  const apiKey = `key-${run}-never-in-a-browser`;
  const appUrl = () => ssoUrl().replace("//localhost", `//${name}.localhost`);
  /** A WebSocket to the app host from this process, whose resolver (unlike Chromium's) knows no `*.localhost`. */
  const appSocket = (path: string, headers: Record<string, string>) =>
    new WebSocket(`${ssoUrl().replace(/^http/, "ws").replace("//localhost", "//127.0.0.1")}${path}`, { headers: { host: new URL(appUrl()).host, ...headers } });
  /** A request to the app host from this process (see appSocket), without following redirects; to a node's own port. */
  const appGet = (path: string, { port = new URL(ssoUrl()).port, cookie }: { port?: string | number; cookie?: string } = {}) =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: "127.0.0.1", port, path, headers: { host: new URL(appUrl()).host, ...(cookie ? { cookie } : {}) } }, (answer) => resolve(answer.resume())).once("error", reject);
    });
  const appCookie = async (context: BrowserContext) => (await context.cookies(appUrl())).find((cookie) => cookie.name === "__gatehouse_app");
  const newestSession = async (target = name) => (await sql`select id from sessions where target_name = ${target} and status <> 'ended' order by started_at desc limit 1`)[0]!.id as string;
  /** Every stored event of a session's recording, read back through the player's API. */
  async function recordedEvents(sessionId: string) {
    const events: { type: number; timestamp: number; data: unknown }[] = [];
    for (let query = "at=0"; ; ) {
      const window = await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/page-events?${query}`);
      expect(window.status()).toBe(200);
      const body = await window.json();
      events.push(...body.events);
      if (body.nextSeq === null) return events;
      query = `seq=${body.nextSeq}`;
    }
  }
  /** Security's web-page view (or the player's): the replayed page, in rrweb's frame. */
  const replayed = (page: Page, testId: string) => page.frameLocator(`[data-testid="${testId}"] iframe`).first();
  let recordedSession: string;

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(120_000);
    nodeRed = await startNodeRed();
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    [alice, bob, sam, carol] = [await browser.newContext(), await browser.newContext(), await browser.newContext(), await browser.newContext()];
    for (const [context, login] of [[alice, "alice"], [bob, "bob"], [sam, "sam"], [carol, "carol"]] as const) await signInWithSso(await context.newPage(), login);
    const credentialId = await createCredential(alice.request, { name: `red-key-${run}`, kind: "password", username: "api", secret: apiKey });
    await createTarget(alice.request, { name, protocol: "web", internalUrl: nodeRed.url, allowedUsers: ["bob"], credentialId, webAuthHeader: "X-Api-Key" });
  });

  test.afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close(), sam?.close(), carol?.close()]);
    await sql?.end();
    await nodeRed?.stop();
  });

  test("an allowed user opens the app at its own host, signs in to the app's login form, navigates and uses its WebSockets", async () => {
    const page = await bob.newPage();
    await page.goto(`${ssoUrl()}/`);
    await page.getByRole("link", { name: `Open ${name}` }).click();
    await page.waitForURL(`${appUrl()}/`);
    // Node-RED's own login, then its editor loads its flows through the gateway (its API and its /comms socket).
    await page.locator("#node-dialog-login-username").fill(nodeRed.username);
    await page.locator("#node-dialog-login-password").fill(nodeRed.password);
    await page.getByRole("button", { name: "Login" }).click();
    await expect(page.locator("#red-ui-workspace-tabs").getByText("Pages")).toBeVisible({ timeout: 15_000 });

    const policyViolations: string[] = [];
    page.on("console", (message) => /Content Security Policy/i.test(message.text()) && policyViolations.push(message.text()));
    const page1 = await page.goto(`${appUrl()}/page1`);
    // The app's policy is still there, widened for the recorder only.
    expect(page1?.headers()["content-security-policy"]).toContain(`${nodeRed.pagePolicy.split("; ")[1]} 'sha384-`);
    await expect(page.getByRole("heading", { name: "Page one" })).toBeVisible();
    await page.getByRole("link", { name: "Next page" }).click();
    await expect(page.getByRole("heading", { name: "Page two" })).toBeVisible();
    await expect(page.locator("#echo")).toHaveText("echo: hello through the gateway");
    expect(policyViolations).toEqual([]);

    // The target's credential reached the app in its header; the gateway's own cookie did not.
    await page.goto(`${appUrl()}/headers`);
    await expect(page.locator("#api-key")).toHaveText(apiKey);
    await expect(page.locator("#cookie")).not.toContainText("__gatehouse_app");
    const cookie = await appCookie(bob);
    expect(cookie).toMatchObject({ domain: `${name}.localhost`, httpOnly: true, sameSite: "Lax", path: "/" });

    // Each request is on the session's timeline.
    const [session] = await sql`select id, protocol, status from sessions where target_name = ${name} and status <> 'ended' order by started_at desc limit 1`;
    expect(session).toMatchObject({ protocol: "web", status: "active" });
    recordedSession = session!.id;
    await expect
      .poll(async () => (await sql`select details from session_events where session_id = ${session!.id} and kind = 'web.request'`).map((row) => `${row.details.method} ${row.details.path} ${row.details.status}`))
      .toEqual(expect.arrayContaining(["GET /page1 200", "GET /page2 200", "GET /headers 200"]));
    await page.close();
  });

  test("the visit is recorded with its pages and navigations but never the password, and replays in the player", async () => {
    // Every page's events are stored, from a full snapshot at each page load.
    await expect.poll(async () => (await sql`select count(*)::int as n from recording_chunks where session_id = ${recordedSession} and snapshot`)[0]!.n, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
    // Navigations reach the timeline in batches, a moment after their pages' events arrive.
    const navigated = async () => (await sql`select details->>'path' as path from session_events where session_id = ${recordedSession} and kind = 'web.navigation'`).map((row) => row.path);
    await expect.poll(navigated).toEqual(expect.arrayContaining(["/", "/page1", "/page2", "/headers"]));
    const loaded = async () => (await recordedEvents(recordedSession)).filter((event) => event.type === 4).map((event) => new URL((event.data as { href: string }).href).pathname);
    await expect.poll(loaded, { timeout: 10_000 }).toEqual(expect.arrayContaining(["/", "/page1", "/page2", "/headers"]));
    const events = await recordedEvents(recordedSession);
    const stored = JSON.stringify(events);
    for (const shown of ["Page one", "Quarterly numbers", "Page two", "echo: hello through the gateway", "Pages"]) expect(stored).toContain(shown);
    expect(stored.includes(nodeRed.password), "the password is in the stored events").toBe(false);
    // The download is rrweb's events as one JSON array, as rrweb-player takes them (the visit may record on meanwhile).
    const download = await alice.request.get(`${ssoUrl()}/api/recordings/${recordedSession}/export`);
    expect(download.headers()["content-type"]).toBe("application/json");
    expect(download.headers()["content-disposition"]).toBe(`attachment; filename="gatehouse-${recordedSession}.json"`);
    const exported = (await download.json()) as typeof events;
    expect(exported.slice(0, events.length)).toEqual(events);
    // The typing into Node-RED's password field is there, as asterisks.
    const typed = events.filter((event) => event.type === 3 && (event.data as { source?: number }).source === 5).map((event) => (event.data as { text?: string }).text ?? "");
    expect(typed).toContain("*".repeat(nodeRed.password.length));
    const logged = await sql`select kind, details from session_events where session_id = ${recordedSession}`;
    expect(JSON.stringify(logged).includes(nodeRed.password), "the password is on the timeline").toBe(false);
    // Each page is on the timeline at its own load, not when its events reached the gateway (a batch or a
    // reconnect later, which could be after the next page), so its link plays that page.
    const loads = events.filter((event) => event.type === 4 || (event.data as { tag?: string }).tag === "gatehouse.navigation").map((event) => event.timestamp);
    const timed = await sql`select extract(epoch from at) * 1000 as ms from session_events where session_id = ${recordedSession} and kind = 'web.navigation'`;
    for (const { ms } of timed) expect(loads).toContain(Number(ms));

    // The player starts at the moment asked for, from the page's last snapshot before it.
    const page = await alice.newPage();
    await page.goto(`${ssoUrl()}/recordings/${recordedSession}`);
    await expect(page.getByTestId("verification")).toContainText("Verified");
    await page.getByRole("listitem").filter({ hasText: "opened /page2" }).getByRole("link").click();
    await expect(replayed(page, "web-player").getByRole("heading", { name: "Page two" })).toBeVisible({ timeout: 15_000 });
    await page.getByRole("listitem").filter({ hasText: "opened /page1" }).getByRole("link").click();
    await expect(replayed(page, "web-player").getByRole("heading", { name: "Page one" })).toBeVisible({ timeout: 15_000 });
    // One slider over the whole recording moves the player within the page: to each page's load and back.
    const slider = page.getByRole("slider", { name: "Position in the recording" });
    const pagesAt = await sql`select e.details->>'path' as path, extract(epoch from e.at - s.started_at) * 1000 as ms from session_events e join sessions s on s.id = e.session_id where e.session_id = ${recordedSession} and e.kind = 'web.navigation'`;
    const loadOf = (path: string) => Number(pagesAt.find((row) => row.path === path)!.ms);
    const pageUrl = page.url();
    for (const [path, heading] of [["/page2", "Page two"], ["/page1", "Page one"], ["/page2", "Page two"]] as const) {
      // The slider moves by 100 ms: the first step at or after the page's load.
      await slider.fill(String(Math.ceil(loadOf(path) / 100) * 100));
      await expect(replayed(page, "web-player").getByRole("heading", { name: heading })).toBeVisible({ timeout: 15_000 });
    }
    expect(page.url(), "a seek stays on the page").toBe(pageUrl);
    await expect(page.getByTestId("web-player-position")).toContainText(/^\d+:\d\d \/ \d+:\d\d$/);
    // A moment that is not a whole number of milliseconds in floating point (1.005 s × 1000 = 1004.9999…).
    await page.goto(`${ssoUrl()}/recordings/${recordedSession}?t=1.005`);
    await expect(page.getByTestId("web-player-position")).toContainText(/^\d+:\d\d \//, { timeout: 15_000 });
    await expect(page.getByText(/The gateway answered/)).toHaveCount(0);
    await page.close();

    // A video of the visit: rrweb's replay in a headless Chromium on the gateway, every request it makes
    // refused, encoded by ffmpeg at the page's recorded size, showing the pages' text on their background.
    const asked = await alice.request.post(`${ssoUrl()}/api/recordings/${recordedSession}/video-exports`, { headers: { origin: ssoUrl() }, data: { format: "mp4" } });
    expect(asked.status()).toBe(200);
    const { id: exportId } = (await asked.json()) as { id: string };
    const status = async () => ((await (await alice.request.get(`${ssoUrl()}/api/recordings/${recordedSession}/video-exports`)).json()) as { id: string; status: string; error: string | null }[]).find((video) => video.id === exportId);
    await expect.poll(async () => (await status())?.status, { timeout: 120_000, message: "the video of the visit is ready" }).toBe("ready");
    const file = path.join(mkdtempSync(path.join(tmpdir(), "gatehouse-web-video-")), "visit.mp4");
    writeFileSync(file, await (await alice.request.get(`${ssoUrl()}/api/recordings/${recordedSession}/video-exports/${exportId}/file`)).body());
    const meta = events.find((event) => event.type === 4)!.data as { width: number; height: number };
    const [stream] = (JSON.parse(execFileSync("ffprobe", ["-v", "error", "-show_streams", "-of", "json", file], { encoding: "utf8" })) as { streams: { codec_name: string; width: number; height: number }[] }).streams;
    expect(stream).toMatchObject({ codec_name: "h264", width: meta.width + (meta.width % 2), height: meta.height + (meta.height % 2) });
    const frame = execFileSync("ffmpeg", ["-v", "error", "-sseof", "-1", "-i", file, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"], { maxBuffer: 64 * 2 ** 20 });
    const dark = frame.filter((value) => value < 100).length / frame.length;
    const light = frame.filter((value) => value > 200).length / frame.length;
    expect(dark, "text drawn").toBeGreaterThan(0.0005);
    expect(light, "on the page's background").toBeGreaterThan(0.3);
  });

  test("security watches a visit live: the page as it is, then each page the user opens; the user sees it is recorded and watched", async () => {
    const user = await bob.newPage();
    await user.goto(`${ssoUrl()}/apps/${name}?return=/page1`);
    await expect(user.getByRole("heading", { name: "Page one" })).toBeVisible();
    // As on a terminal: the app's page says the visit is recorded, and nobody watches yet.
    await expect(user.locator("#gatehouse-recording")).toHaveText("This session is recorded");
    await expect(user.locator("#gatehouse-watchers")).toHaveCount(0);
    const sessionId = await newestSession();
    const watcher = await sam.newPage();
    await watcher.goto(`${ssoUrl()}/live/${sessionId}`);
    await expect(watcher.getByTestId("watch-status")).toHaveText("Watching live");
    // A web visit cannot hold its requests: security is offered a lock, never a pause.
    await expect(watcher.getByRole("button", { name: /^Lock / })).toBeVisible();
    await expect(watcher.getByRole("button", { name: /^Pause / })).toHaveCount(0);
    await expect(user.locator("#gatehouse-watchers")).toHaveText("Someone from security is watching this session.");
    await expect(replayed(watcher, "watch-page").getByRole("heading", { name: "Page one" })).toBeVisible({ timeout: 15_000 });
    await user.getByRole("link", { name: "Next page" }).click();
    // A page opened while watched says so from the start.
    await expect(user.locator("#gatehouse-watchers")).toHaveText("Someone from security is watching this session.");
    await expect(replayed(watcher, "watch-page").getByRole("heading", { name: "Page two" })).toBeVisible({ timeout: 15_000 });
    await expect(replayed(watcher, "watch-page").locator("#echo")).toHaveText("echo: hello through the gateway");
    await expect.poll(async () => (await sql`select kind from session_events where session_id = ${sessionId} and kind like 'watch.%'`).map((event) => event.kind)).toContain("watch.join");
    await watcher.close();
    await expect(user.locator("#gatehouse-watchers")).toHaveCount(0);
    await user.close();
  });

  test("search engines are asked to keep out of the gateway and of every app host, whatever the app's own robots.txt says", async ({ browser }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Through the browser, which finds the app host (`<name>.localhost`); not signed in to either.
    for (const origin of [ssoUrl(), appUrl()]) {
      const robots = await page.goto(`${origin}/robots.txt`);
      expect(robots?.status(), origin).toBe(200);
      expect(robots?.url()).toBe(`${origin}/robots.txt`);
      expect(await robots?.text()).toMatch(/^User-agent: \*\nDisallow: \/$/m);
    }
    await page.goto(`${ssoUrl()}/signin`);
    await expect(page.locator('meta[name="robots"]')).toHaveAttribute("content", "noindex, nofollow");
    expect((await context.request.get(`${ssoUrl()}/icon.svg`)).headers()["content-type"]).toContain("image/svg+xml");
    await context.close();
  });

  test("someone not signed in is sent to sign in, then lands on the page they asked for", async ({ browser }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${appUrl()}/page1?from=link`);
    await page.waitForURL(/\/signin\?next=/);
    await page.getByRole("button", { name: "Sign in with Test IdP" }).click();
    await page.locator('input[name="login"]').fill("bob");
    await page.locator('input[name="password"]').fill("any password the test IdP accepts");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(`${appUrl()}/page1?from=link`);
    await expect(page.getByRole("heading", { name: "Page one" })).toBeVisible();
    await context.close();
  });

  test("no access, a forged cookie, a handoff in another browser or replayed, and a cross-site WebSocket are refused", { tag: "@security" }, async ({ browser }) => {
    const page = await carol.newPage();
    const refused = await page.goto(`${ssoUrl()}/apps/${name}`);
    expect(refused?.status()).toBe(403);
    await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();

    await carol.addCookies([{ name: "__gatehouse_app", value: "forged", domain: `${name}.localhost`, path: "/" }]);
    const forged = await page.goto(`${appUrl()}/page1`);
    expect(forged?.status()).toBe(403);
    expect(page.url()).toContain(`${ssoUrl()}/apps/${name}`);

    // Bob's handoff link is bound to Bob's browser (the state cookie his visit got on the app host): another
    // browser cannot redeem it, signed in or not, with a state of its own or none, and trying does not spend it.
    const start = await appGet(`/__gatehouse/start?return=/page1`);
    expect(start.statusCode).toBe(302);
    const stateCookie = /^__gatehouse_state=([\w-]+); Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/.exec(String(start.headers["set-cookie"]));
    expect(stateCookie, String(start.headers["set-cookie"])).not.toBeNull();
    await bob.addCookies([{ name: "__gatehouse_state", value: stateCookie![1]!, domain: `${name}.localhost`, path: "/", httpOnly: true, sameSite: "Lax" }]);
    const launch = await bob.request.get(String(start.headers.location), { maxRedirects: 0 });
    const handoff = launch.headers().location!;
    expect(handoff).toContain(`${appUrl()}/__gatehouse/handoff?ticket=`);
    const carolPage = await carol.newPage();
    expect((await carolPage.goto(`${appUrl()}/__gatehouse/start?return=/`))?.status()).toBe(403);
    await carolPage.close();
    const neverSignedIn = await browser.newContext();
    for (const stranger of [carol, neverSignedIn]) {
      const cookieBefore = (await appCookie(stranger))?.value;
      const strangerPage = await stranger.newPage();
      const stolen = await strangerPage.goto(handoff);
      expect(stolen?.status()).toBe(400);
      await expect(strangerPage.getByRole("heading", { name: "Link expired" })).toBeVisible();
      expect((await appCookie(stranger))?.value).toBe(cookieBefore);
      await strangerPage.close();
    }
    await neverSignedIn.close();
    const bobPage = await bob.newPage();
    await bobPage.goto(handoff);
    await expect(bobPage.getByRole("heading", { name: "Page one" })).toBeVisible();
    // Once used, it is worth nothing to Bob either.
    expect((await bobPage.goto(handoff))?.status()).toBe(400);

    // A page on another origin cannot open the app's WebSocket with Bob's cookie.
    const cookie = await appCookie(bob);
    const status = await new Promise<string>((resolve) => {
      const socket = appSocket("/ws/echo", { cookie: `__gatehouse_app=${cookie!.value}`, origin: "http://evil.localhost" });
      socket.once("unexpected-response", (_request, response) => resolve(String(response.statusCode)));
      socket.once("open", () => resolve("opened"));
    });
    expect(status).toBe("403");
  });

  test("security terminates the web session: its WebSocket closes and the next request lands on 'session ended'", async () => {
    const page = await bob.newPage();
    await page.goto(`${ssoUrl()}/apps/${name}?return=/page2`);
    await expect(page.locator("#echo")).toHaveText("echo: hello through the gateway");
    const cookie = await appCookie(bob);
    const socket = appSocket("/ws/echo", { cookie: `__gatehouse_app=${cookie!.value}`, origin: appUrl() });
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const closed = new Promise((resolve) => socket.once("close", resolve));

    const session = { id: await newestSession() };
    const control = (action: string) => sam.request.post(`${ssoUrl()}/api/sessions/${session.id}/control`, { headers: { origin: ssoUrl() }, data: { action, reason: "web test" } });

    expect((await control("lock")).status()).toBe(200);
    expect((await page.goto(`${appUrl()}/page1`))?.status()).toBe(423);
    await expect(page.getByText("Your session has been locked, please contact your Administrator.")).toBeVisible();
    expect((await control("pause")).status()).toBe(409);
    expect((await control("unlock")).status()).toBe(200);
    expect((await page.goto(`${appUrl()}/page1`))?.status()).toBe(200);

    expect((await control("terminate")).status()).toBe(200);
    await closed;
    // The page still open is told at once, over the recorder's socket.
    await expect(page.getByRole("alert")).toContainText(`Your session on ${name} has ended: terminated by sam`);

    // The next request with the visit's cookie. (Not a navigation of the page: a request the still-open page
    // makes on its own after the end may already have had the answer and the cookie cleared, and a navigation
    // without the cookie rightly starts a new visit through Gatehouse.)
    const after = await new Promise<{ status: number; cookies: string[]; body: string }>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port: new URL(ssoUrl()).port, path: "/page1", headers: { host: new URL(appUrl()).host, cookie: `__gatehouse_app=${cookie!.value}` } }, (answer) => {
          let body = "";
          answer.setEncoding("utf8").on("data", (part: string) => (body += part));
          answer.on("end", () => resolve({ status: answer.statusCode!, cookies: answer.headers["set-cookie"] ?? [], body }));
        })
        .once("error", reject);
    });
    expect(after.status).toBe(403);
    expect(after.body).toContain("Session ended");
    expect(after.body).toContain("It was terminated by security.");
    expect(after.cookies).toContainEqual(expect.stringMatching(/^__gatehouse_app=;.*Max-Age=0/));
    const [ended] = await sql`select status, end_reason from sessions where id = ${session.id}`;
    expect(ended).toMatchObject({ status: "ended", end_reason: "terminated" });
  });

  test("another node keeps the visit in memory, and a lock, unlock or termination made through the first reaches its very next request", async () => {
    test.setTimeout(90_000);
    const port = await freePort();
    // Behind one public address, as a cluster is: the same app hosts on every node.
    const otherNode = await startGateway({ port, env: { ...JSON.parse(process.env.E2E_SSO_ENV!), PUBLIC_URL: ssoUrl(), NODE_NAME: "e2e-web-2" }, logFile: path.resolve(".test-artifacts/gateway-web-2.log") });
    try {
      const page = await bob.newPage();
      await page.goto(`${ssoUrl()}/apps/${name}?return=/page1`);
      await expect(page.getByRole("heading", { name: "Page one" })).toBeVisible();
      const cookie = `__gatehouse_app=${(await appCookie(bob))!.value}`;
      const onOtherNode = async () => (await appGet("/page1", { port, cookie })).statusCode;
      expect(await onOtherNode()).toBe(200);
      expect(await onOtherNode()).toBe(200);
      const sessionId = await newestSession();
      const control = (action: string) => sam.request.post(`${ssoUrl()}/api/sessions/${sessionId}/control`, { headers: { origin: ssoUrl() }, data: { action, reason: "cluster test" } });
      expect((await control("lock")).status()).toBe(200);
      expect(await onOtherNode()).toBe(423);
      expect((await control("unlock")).status()).toBe(200);
      expect(await onOtherNode()).toBe(200);
      expect((await control("terminate")).status()).toBe(200);
      expect(await onOtherNode()).toBe(403);
      await page.close();
    } finally {
      await otherNode.stop();
    }
  });

  test("signing out of Gatehouse ends the user's visits to apps", async ({ browser }) => {
    const context = await browser.newContext();
    const gateway = await context.newPage();
    await signInWithSso(gateway, "bob");
    const app = await context.newPage();
    await app.goto(`${ssoUrl()}/apps/${name}?return=/page1`);
    await expect(app.getByRole("heading", { name: "Page one" })).toBeVisible();
    const sessionId = await newestSession();
    await gateway.getByRole("button", { name: "Sign out" }).click();
    await gateway.waitForURL(/\/signin/);
    await expect(app.getByRole("alert")).toContainText("has ended: you signed out of Gatehouse", { timeout: 10_000 });
    expect((await app.goto(`${appUrl()}/page1`))?.status()).toBe(403);
    const [ended] = await sql`select status, end_reason from sessions where id = ${sessionId}`;
    expect(ended).toMatchObject({ status: "ended", end_reason: "user_closed" });
    await context.close();
  });

  test("a time-limited visit says when it ends, is extended within its longest duration, then ends", { tag: "@security" }, async () => {
    const timed = `${name}-timed`;
    await createTarget(alice.request, { name: timed, protocol: "web", internalUrl: nodeRed.url, allowedUsers: ["bob"], sessionTtlSeconds: 5, extensionSeconds: 4, maxSessionSeconds: 9 });
    const app = await bob.newPage();
    await app.goto(`${ssoUrl()}/apps/${timed}?return=/page1`);
    await expect(app.getByRole("heading", { name: "Page one" })).toBeVisible();
    const sessionId = await newestSession(timed);
    const bar = app.locator("#gatehouse-expiry");
    await expect(bar).toContainText("This session ends at");
    await bar.getByRole("button", { name: /^Extend by 4 s/ }).click();
    await expect(bar).toContainText("It cannot be extended further.");
    await expect.poll(async () => (await sql`select action from audit_log where object_id = ${sessionId} and action = 'session.extend'`).length).toBe(1);
    await expect(app.getByRole("alert").filter({ hasText: "has ended" })).toContainText("has ended: it reached its time limit", { timeout: 15_000 });
    const [ended] = await sql`select status, end_reason, end_message, ended_at - started_at as lasted from sessions where id = ${sessionId}`;
    expect(ended).toMatchObject({ status: "ended", end_reason: "expired", end_message: "it reached its time limit" });
    expect((await app.goto(`${appUrl().replace(`//${name}.`, `//${timed}.`)}/page1`))?.status()).toBe(403);
  });

  test("a visit left idle past the app's idle timeout ends", async () => {
    const idleApp = `${name}-idle`;
    await createTarget(alice.request, { name: idleApp, protocol: "web", internalUrl: nodeRed.url, allowedUsers: ["bob"], idleTimeoutSeconds: 4 });
    const app = await bob.newPage();
    await app.goto(`${ssoUrl()}/apps/${idleApp}?return=/page1`);
    await expect(app.getByRole("heading", { name: "Page one" })).toBeVisible();
    const sessionId = await newestSession(idleApp);
    // Using the app keeps it open…
    for (let move = 0; move < 6; move++) {
      await app.mouse.move(20 + move * 10, 20);
      await app.waitForTimeout(1000);
    }
    expect((await sql`select status from sessions where id = ${sessionId}`)[0]!.status).toBe("active");
    // …and leaving it alone ends it.
    await expect(app.getByRole("alert")).toContainText("has ended: it was idle for too long", { timeout: 15_000 });
    const [ended] = await sql`select status, end_reason from sessions where id = ${sessionId}`;
    expect(ended).toMatchObject({ status: "ended", end_reason: "expired" });
    expect((await app.goto(`${appUrl().replace(`//${name}.`, `//${idleApp}.`)}/page1`))?.status()).toBe(403);
  });
});
