// The gateway as production runs it: on its embedded default (as `npm start` runs it) behind Debian's nginx
// terminating TLS (the README's configuration, TRUST_PROXY=1), apps on a registrable domain
// (`*.gate.example.test`, which Chromium maps to loopback), so that every published app is same-site with every
// other and with the gateway. Sign-in, a terminal over wss and `__Host-` cookies work through the proxy, and a
// client's own X-Forwarded-For is not believed. A hostile app then tries what
// same-site buys it: driving requests into a sibling app with the user's cookie and the sibling's injected
// credential, and tossing cookies at the sibling and the gateway. And a reviewer replays a recorded page full
// of traps: nothing in it may run, navigate or load in the reviewer's browser.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { startGateway, type RunningGateway } from "../../test/fixtures/gateway";
import { startHostileApp, type RunningHostileApp } from "../../test/fixtures/hostile-app";
import { startNginx, type RunningNginx } from "../../test/fixtures/nginx";
import { freePort } from "../../test/fixtures/ports";
import { sshdUnderTest } from "../fixtures/terminal-client";
import { expect, setAdminPassword, test } from "../fixtures/test";

const domain = "gate.example.test";
const password = "isolation test admin password";
const logDir = path.resolve(import.meta.dirname, "../../.test-artifacts");

test.describe("app hosts on one site, behind TLS", { tag: "@security" }, () => {
  let hostile: RunningHostileApp;
  let nginx: RunningNginx;
  let gateway: RunningGateway;
  let browser: Browser;
  let admin: BrowserContext;
  let dataDir: string;
  const origin = () => nginx.url;
  const appOrigin = (name: string) => origin().replace(`//${domain}`, `//${name}.${domain}`);
  /** The gateway's API, called from one of its own pages (this process cannot resolve the test domain). */
  let gatewayPage: Page;
  const api = (method: "POST" | "GET", route: string, data?: unknown) =>
    gatewayPage.evaluate(
      async ([method, route, data]) => {
        const response = await fetch(route, { method, headers: { "content-type": "application/json" }, body: data === undefined ? undefined : JSON.stringify(data) });
        return { status: response.status, body: await response.text() };
      },
      [method, route, data] as const,
    );

  test.beforeAll(async () => {
    test.setTimeout(180_000);
    hostile = await startHostileApp();
    const gatewayPort = await freePort();
    nginx = await startNginx({ domain, upstreamPort: gatewayPort, logFile: path.join(logDir, "nginx-isolation.log") });
    dataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-isolation-"));
    gateway = await startGateway({ port: gatewayPort, logFile: path.join(logDir, "gateway-isolation.log"), env: { PUBLIC_URL: nginx.url, DATA_DIR: dataDir, NODE_NAME: "e2e-isolation", TRUST_PROXY: "1" } });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--host-resolver-rules=MAP ${domain} 127.0.0.1, MAP *.${domain} 127.0.0.1`],
    });
    admin = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await admin.newPage();
    await setAdminPassword(page, gateway.setupUrl!, password);
    await page.goto(`${origin()}/signin`);
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("signed-in-as")).toBeVisible();
    gatewayPage = page;
    const key = await api("POST", "/api/admin/credentials", { name: "victim-key", kind: "password", username: "api", secret: `victim-key-${randomBytes(6).toString("hex")}` });
    expect(key.status, key.body).toBe(200);
    for (const target of [
      { name: "victim", protocol: "web", internalUrl: hostile.url, allowedUsers: ["admin"], credentialId: (JSON.parse(key.body) as { id: string }).id, webAuthHeader: "X-Api-Key" },
      { name: "sibling", protocol: "web", internalUrl: hostile.url, allowedUsers: ["admin"] },
    ]) {
      const created = await api("POST", "/api/admin/targets", target);
      expect(created.status, created.body).toBe(200);
    }
  });

  test.afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await gateway?.stop();
    await Promise.all([nginx?.stop(), hostile?.stop()]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const openApp = async (name: string, pathname: string): Promise<Page> => {
    const page = await admin.newPage();
    await page.goto(`${appOrigin(name)}${pathname}`);
    return page;
  };

  test("the gateway's and the apps' cookies are __Host-: host-only, Secure, for the whole path", async () => {
    const page = await openApp("victim", "/page");
    await expect(page.getByRole("heading", { name: "Hostile app" })).toBeVisible();
    const gatewayCookie = (await admin.cookies(origin())).find((cookie) => cookie.name === "__Host-authjs.session-token");
    expect(gatewayCookie).toMatchObject({ domain, path: "/", secure: true, httpOnly: true });
    const appCookie = (await admin.cookies(appOrigin("victim"))).find((cookie) => cookie.name === "__Host-gatehouse_app");
    expect(appCookie).toMatchObject({ domain: `victim.${domain}`, path: "/", secure: true, httpOnly: true, sameSite: "Lax" });
    expect(hostile.requests.find((request) => request.url === "/page")?.headers["x-api-key"]).toMatch(/^victim-key-/);
    await page.close();
  });

  test("a terminal over wss through the proxy, and a client's own X-Forwarded-For not believed", async () => {
    const sshd = sshdUnderTest();
    const login = await api("POST", "/api/admin/credentials", { name: "behind-proxy", kind: "password", username: sshd.username, secret: sshd.password });
    const target = await api("POST", "/api/admin/targets", { name: "behind-proxy", protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["admin"], credentialId: (JSON.parse(login.body) as { id: string }).id });
    expect(target.status, target.body).toBe(200);
    const page = await admin.newPage();
    await page.setExtraHTTPHeaders({ "x-forwarded-for": "6.6.6.6" });
    await page.goto(`${origin()}/connect/${(JSON.parse(target.body) as { id: string }).id}`);
    await expect(page.getByTestId("terminal-status")).toHaveText("Connected");
    await page.getByTestId("terminal").click();
    await page.keyboard.type("echo through-nginx-$((6*7))\n");
    await expect(page.locator(".xterm-rows")).toContainText("through-nginx-42");
    await page.close();
    const audit = JSON.parse((await api("GET", "/api/admin/audit")).body) as { entries: { action: string; sourceIp: string | null; details: { target?: string } }[] };
    const connects = audit.entries.filter((entry) => entry.action === "connect" && entry.details.target === "behind-proxy");
    expect(connects.length).toBeGreaterThan(0);
    expect(new Set(audit.entries.map((entry) => entry.sourceIp).filter(Boolean))).toEqual(new Set(["127.0.0.1"]));
  });

  test("a sibling app cannot act in another app with the user's cookie and its credential, nor toss cookies at it", async () => {
    const victim = await openApp("victim", "/page");
    await expect(victim.getByRole("heading", { name: "Hostile app" })).toBeVisible();
    const before = hostile.requests.length;
    const tossed = ["__Host-gatehouse_app", "__gatehouse_app", "__Host-authjs.session-token", "authjs.session-token"];
    const sibling = await openApp("sibling", `/cross-app?${new URLSearchParams({ victim: appOrigin("victim"), domain, cookies: tossed.join(",") })}`);
    await expect(sibling).toHaveTitle("attacks sent", { timeout: 15_000 });
    // Nothing the sibling sent reached the app through the victim's host (where the credential would be added).
    const reached = hostile.requests.slice(before).filter((request) => request.url.startsWith("/api/"));
    expect(reached.map((request) => `${request.method} ${request.url}`)).toEqual([]);

    // The browser refused every __Host- cookie set for the whole domain; the gateway ignores the rest.
    const domainCookies = (await admin.cookies([origin(), appOrigin("victim")])).filter((cookie) => cookie.domain === `.${domain}`);
    expect(domainCookies.map((cookie) => cookie.name).sort()).toEqual(["__gatehouse_app", "authjs.session-token"]);
    // The victim app and the gateway still see the user's own sessions.
    await victim.goto(`${appOrigin("victim")}/api/after-toss`);
    await expect(victim.locator("body")).toContainText('"ok":true');
    expect(hostile.requests.find((request) => request.url === "/api/after-toss")?.headers["x-api-key"]).toMatch(/^victim-key-/);
    const home = await admin.newPage();
    await home.goto(`${origin()}/`);
    await expect(home.getByTestId("signed-in-as")).toBeVisible();

    // The refusals are audited.
    const audit = JSON.parse((await api("GET", "/api/admin/audit")).body) as { entries: { action: string; outcome: string; details: { reason?: string } }[] };
    const refused = audit.entries.filter((entry) => entry.action === "web.request" && entry.outcome === "refused").map((entry) => entry.details.reason ?? "");
    expect(refused.some((reason) => /POST from another site/.test(reason))).toBe(true);
    await Promise.all([victim.close(), sibling.close(), home.close()]);
  });

  test("a recorded page replays without running, navigating or loading anything in the reviewer's browser", async () => {
    // A visit of its own, so that its recording opens on the page with the traps.
    await admin.clearCookies({ name: "__Host-gatehouse_app" });
    const visit = await openApp("victim", "/replay-traps");
    await expect(visit.getByRole("heading", { name: "Replay traps" })).toBeVisible();
    // Live, the page is the app's to run: its traps go off in the user's browser (that is the app, not a replay).
    await expect.poll(() => hostile.canary.hits.length).toBeGreaterThan(0);
    const sessions = JSON.parse((await api("GET", "/api/sessions?target=victim&status=live")).body) as { id: string; startedAt: string }[];
    const sessionId = sessions.sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0]!.id;
    await visit.waitForTimeout(1000);
    await visit.close();
    hostile.canary.hits.splice(0);

    const reviewer = await admin.newPage();
    const navigations: string[] = [];
    reviewer.on("framenavigated", (frame) => navigations.push(frame.url()));
    await reviewer.goto(`${origin()}/recordings/${sessionId}`);
    const replayed = reviewer.frameLocator('[data-testid="web-player"] iframe').first();
    await expect(replayed.getByRole("heading", { name: "Replay traps" })).toBeVisible({ timeout: 15_000 });
    await replayed.locator("#top-link").dispatchEvent("click");
    await replayed.locator("#trap-form").evaluate((form: HTMLFormElement) => form.requestSubmit()).catch(() => null);
    await reviewer.waitForTimeout(3000);
    expect(hostile.canary.hits.map((hit) => hit.url)).toEqual([]);
    expect(reviewer.url()).toBe(`${origin()}/recordings/${sessionId}`);
    expect(navigations.filter((url) => url.startsWith(hostile.canary.url))).toEqual([]);
    await reviewer.close();
  });
});
