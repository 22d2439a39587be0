// Live oversight as people use it: a user in one browser context types in a terminal; someone from security
// in another watches, reads the keystroke log, locks, pauses and terminates — on the same node and across two
// nodes on one database. Plus who may not do any of it, and what happens when a node dies.
import path from "node:path";
import type { BrowserContext, Page } from "@playwright/test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import postgres from "postgres";
import WebSocket from "ws";
import { lockedMessage, watchServerMessageSchema, type WatchServerMessage } from "../lib/protocol/live";
import { scrapeSeries, startGateway, type RunningGateway } from "../test/fixtures/gateway";
import { freePort } from "../test/fixtures/ports";
import { cookieHeader, createCredential, createTarget, sshdUnderTest, TerminalClient } from "./fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const sshd = sshdUnderTest();
const run = Date.now().toString(36);
const named = (name: string) => `${name}-${run}`;

/** A watcher at the socket level, as the watch page is, for what a page cannot show (frames, refusals). */
class WatchClient {
  screen = "";
  readonly messages: WatchServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.screen += data.toString("utf8");
      else this.messages.push(watchServerMessageSchema.parse(JSON.parse(data.toString())));
    });
    this.closed = new Promise((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async open(context: BrowserContext, sessionId: string, nodeUrl = ssoUrl()) {
    const response = await context.request.post(`${nodeUrl}/api/tickets`, { headers: { origin: nodeUrl }, data: { purpose: "watch", sessionId } });
    if (response.status() !== 200) throw new Error(`watch ticket refused: ${response.status()} ${await response.text()}`);
    const { url } = (await response.json()) as { url: string };
    const socket = new WebSocket(new URL(url, nodeUrl.replace(/^http/, "ws")), { headers: { cookie: await cookieHeader(context), origin: nodeUrl } });
    return new WatchClient(socket);
  }
}

async function openTerminalPage(context: BrowserContext, targetId: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${ssoUrl()}/connect/${targetId}`);
  await expect(page.getByTestId("terminal-status")).toHaveText("Connected");
  await page.getByTestId("terminal").click();
  return page;
}

const terminalText = (page: Page, testId = "terminal") => page.getByTestId(testId).locator(".xterm-rows");

test.describe("live sessions", () => {
  let alice: BrowserContext;
  let bob: BrowserContext;
  let sam: BrowserContext;
  let sql: postgres.Sql;
  let credentialId: string;

  /** A target of its own per test, so that each finds its session by target name. */
  async function newTarget(name: string, extra: Record<string, unknown> = {}) {
    const targetName = named(name);
    const id = await createTarget(alice.request, { name: targetName, protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["bob"], credentialId, ...extra });
    return { id, name: targetName };
  }

  async function liveSessionOn(targetName: string): Promise<string> {
    let id: string | undefined;
    await expect.poll(async () => (id = (await sql`select id from sessions where target_name = ${targetName} and status <> 'ended' order by started_at desc limit 1`)[0]?.id)).toBeTruthy();
    return id!;
  }

  const control = (context: BrowserContext, sessionId: string, action: string, reason: string, nodeUrl = ssoUrl()) =>
    context.request.post(`${nodeUrl}/api/sessions/${sessionId}/control`, { headers: { origin: nodeUrl }, data: { action, reason } });

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(120_000);
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    [alice, bob, sam] = [await browser.newContext(), await browser.newContext(), await browser.newContext()];
    await signInWithSso(await alice.newPage(), "alice");
    await signInWithSso(await bob.newPage(), "bob");
    await signInWithSso(await sam.newPage(), "sam");
    credentialId = await createCredential(alice.request, { name: named("live-password"), kind: "password", username: sshd.username, secret: sshd.password });
  });

  test.afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close(), sam?.close()]);
    await sql?.end();
  });

  test("the dashboard charts the sessions started per hour over the last week, by protocol", async () => {
    const [bobRow] = await sql`select id from users where username = 'bob'`;
    const before = (await (await sam.request.get(`${ssoUrl()}/api/sessions/over-time`)).json()) as { hours: number[]; started: Record<string, number[]> };
    expect(before.hours).toHaveLength(7 * 24);
    // Three desktops two hours ago, and one eight days ago (outside the week).
    await sql`insert into sessions (user_id, target_name, protocol, node, status, started_at, ended_at, end_reason)
      select ${bobRow!.id}::uuid, 'chart-desktop', 'rdp', 'e2e-sso', 'ended', now() - interval '2 hours', now() - interval '1 hour', 'user_closed' from generate_series(1, 3)
      union all select ${bobRow!.id}::uuid, 'chart-old', 'rdp', 'e2e-sso', 'ended', now() - interval '8 days', now() - interval '8 days', 'user_closed'`;
    const after = (await (await sam.request.get(`${ssoUrl()}/api/sessions/over-time`)).json()) as typeof before;
    const total = (series: number[]) => series.reduce((sum, count) => sum + count, 0);
    expect(total(after.started.rdp!) - total(before.started.rdp!)).toBe(3);
    const twoHoursAgo = after.hours.findIndex((hour) => hour * 1000 > Date.now() - 2 * 3_600_000) - 1;
    expect(after.started.rdp![twoHoursAgo]! - (before.started.rdp![twoHoursAgo] ?? 0)).toBe(3);
    expect((await bob.request.get(`${ssoUrl()}/api/sessions/over-time`)).status()).toBe(403);

    const page = await sam.newPage();
    await page.goto(`${ssoUrl()}/live`);
    const chart = page.getByRole("figure", { name: "Sessions started per hour over the last 7 days" });
    await expect(chart.locator("canvas")).toBeVisible();
    await expect(chart.getByTestId("sessions-chart-totals")).toContainText(`RDP ${total(after.started.rdp!)}`);
    await page.close();
  });

  test("security sees the current screen on joining, then each keystroke within a second, with the keystroke log; the user is told", async () => {
    const target = await newTarget("live-watch");
    const user = await openTerminalPage(bob, target.id);
    await user.keyboard.type("echo before-$((40+2))\n");
    await expect(terminalText(user)).toContainText("before-42");
    await expect(user.getByTestId("recording-indicator")).toHaveText("This session is recorded");

    const security = await sam.newPage();
    await security.goto(`${ssoUrl()}/live`);
    const row = security.getByRole("listitem", { name: `bob on ${target.name}` });
    await expect(row.getByTestId("session-status")).toHaveText("active");
    // The preview refreshes on its own: no reload.
    await expect(row.getByTestId("session-preview")).toContainText("before-42");
    await row.getByRole("link", { name: `Watch bob on ${target.name}` }).click();
    await expect(security.getByTestId("watch-status")).toHaveText("Watching live");
    // Snapshot on join: what was on the screen before the watcher came.
    await expect(terminalText(security, "watch-terminal")).toContainText("before-42");
    await expect(user.getByTestId("watchers-banner")).toHaveText("Someone from security is watching this session.");

    await user.keyboard.type("echo typed-live");
    await expect(terminalText(security, "watch-terminal")).toContainText("echo typed-live", { timeout: 1_000 });
    await user.keyboard.press("Enter");
    await expect(terminalText(security, "watch-terminal")).toContainText(/echo typed-live\s*typed-live/, { timeout: 1_000 });
    const log = security.getByTestId("keystroke-log");
    await expect(log.getByRole("listitem").filter({ hasText: "$ echo typed-live" })).toHaveCount(1);
    await expect(log.getByRole("listitem").filter({ hasText: "echo typed-live⏎" })).toHaveCount(1);
    // Newest first puts the last command on top.
    await user.keyboard.type("echo second-command\n");
    await expect(log.getByRole("listitem").last()).toContainText("$ echo second-command");
    await security.getByLabel("Newest first").check();
    await expect(log.getByRole("listitem").first()).toContainText("$ echo second-command");
    await expect(log.getByRole("listitem").nth(1)).toContainText("echo second-command⏎");

    // Keys typed in the watch view reach nothing (the view is read-only).
    await security.getByTestId("watch-terminal").click();
    await security.keyboard.type("echo from-watcher\n");
    const sessionId = await liveSessionOn(target.name);
    await security.close();
    await expect(user.getByTestId("watchers-banner")).toHaveCount(0);
    await user.keyboard.type("echo done\n");
    await expect(terminalText(user)).toContainText(/echo done\s*done/);
    await expect(terminalText(user)).not.toContainText("from-watcher");

    await expect
      .poll(async () => (await sql`select kind, actor_name from session_events where session_id = ${sessionId} order by id`).map((event) => `${event.kind} ${event.actor_name}`))
      .toEqual(["watch.join sam", "watch.leave sam"]);
    const audited = await sql`select action from audit_log where object_id = ${sessionId} and actor_name = 'sam' order by seq`;
    expect(audited.map((entry) => entry.action)).toEqual(["connect.ticket", "session.watch.join", "session.watch.leave"]);
    await user.close();
  });

  test("a watcher's socket refuses input, and a watcher joining mid-session gets the screen as it is", async () => {
    const target = await newTarget("live-refuse");
    const terminal = await TerminalClient.open(bob, target.id);
    const { sessionId } = await terminal.waitForMessage("connected");
    terminal.type("clear; printf 'line-%s\\n' $(seq 1 30)\r");
    await terminal.waitForOutput("line-30");
    const watcher = await WatchClient.open(sam, sessionId);
    await expect.poll(() => watcher.screen).toContain("line-30");
    expect(watcher.messages.slice(0, 3).map((message) => message.type)).toEqual(["joined", "state", "log"]);
    expect(watcher.messages.find((message) => message.type === "screen")).toEqual({ type: "screen", cols: 80, rows: 24 });

    watcher.socket.send(Buffer.from("echo injected-by-watcher\r"), { binary: true });
    await expect.poll(() => watcher.messages.filter((message) => message.type === "error")).toEqual([{ type: "error", message: "a watcher cannot send input to the session" }]);
    terminal.type("echo after\r");
    await terminal.waitForOutput("\rafter\r\n");
    expect(terminal.output).not.toContain("injected-by-watcher");
    await expect.poll(() => watcher.screen).toContain("\rafter\r\n");

    await terminal.close();
    expect((await watcher.closed).code).toBe(1000);
    expect(watcher.messages.at(-1)).toEqual({ type: "ended", reason: "user_closed", message: "you closed the session" });
  });

  test("lock drops the user's keys and tells them; unlock restores input — from the dashboard and the watch page", async () => {
    const target = await newTarget("live-lock");
    const user = await openTerminalPage(bob, target.id);
    await user.keyboard.type("echo ready\n");
    await expect(terminalText(user)).toContainText(/echo ready\s*ready/);
    const sessionId = await liveSessionOn(target.name);

    const security = await sam.newPage();
    await security.goto(`${ssoUrl()}/live`);
    const row = security.getByRole("listitem", { name: `bob on ${target.name}` });
    await row.getByRole("button", { name: `Lock bob on ${target.name}` }).click();
    await row.getByLabel(`Reason to lock bob on ${target.name}`).fill("suspicious download");
    await row.getByRole("button", { name: "Confirm lock" }).click();
    await expect(row.getByTestId("session-status")).toHaveText("locked");

    await expect(user.getByTestId("control-banner")).toHaveText(lockedMessage);
    await expect(terminalText(user)).not.toContainText("[gatehouse]");
    await user.keyboard.type("echo while-locked\n");

    await security.goto(`${ssoUrl()}/live/${sessionId}`);
    await expect(security.getByTestId("watch-control-state")).toHaveText("Locked by sam: suspicious download");
    await security.getByRole("button", { name: `Unlock bob on ${target.name}` }).click();
    await security.getByLabel(`Reason to unlock bob on ${target.name}`).fill("checked with the user");
    await security.getByRole("button", { name: "Confirm unlock" }).click();
    await expect(security.getByTestId("watch-control-state")).toHaveCount(0);
    await expect(user.getByTestId("control-banner")).toHaveCount(0);

    await user.keyboard.type("echo after-unlock\n");
    await expect(terminalText(user)).toContainText(/echo after-unlock\s*after-unlock/);
    await expect(terminalText(user)).not.toContainText("while-locked");
    const audited = await sql`select action, details->>'reason' as reason, outcome from audit_log where object_id = ${sessionId} and action in ('session.lock', 'session.unlock') order by seq`;
    expect(audited).toEqual([
      { action: "session.lock", reason: "suspicious download", outcome: "success" },
      { action: "session.unlock", reason: "checked with the user", outcome: "success" },
    ]);
    const [row2] = await sql`select status from sessions where id = ${sessionId}`;
    expect(row2?.status).toBe("active");
    await security.close();
    await user.close();
  });

  test("pause holds output and input and resume delivers all of it, in order, nothing lost", async () => {
    const target = await newTarget("live-pause");
    const terminal = await TerminalClient.open(bob, target.id);
    const { sessionId } = await terminal.waitForMessage("connected");
    terminal.type("for i in $(seq 1 400); do echo tick-$i; sleep 0.01; done; echo end-of-$((2*200))\r");
    await terminal.waitForOutput("tick-20\r\n");
    expect((await control(sam, sessionId, "pause", "look at this")).status()).toBe(200);
    expect(await terminal.waitForMessage("state")).toEqual({ type: "state", state: "paused", message: "Your session was paused by sam from security." });
    // What was already on its way may still land; after that, nothing until resume.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const heldAt = terminal.output.length;
    terminal.type("echo typed-$((3*3))-while-paused\r");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(terminal.output.length).toBe(heldAt);
    expect(terminal.output).not.toContain("end-of-400");
    const [paused] = await sql`select status from sessions where id = ${sessionId}`;
    expect(paused?.status).toBe("paused");

    expect((await control(sam, sessionId, "resume", "fine")).status()).toBe(200);
    await terminal.waitForOutput("typed-9-while-paused", 30_000);
    // The held line's echo may land in front of a tick (its Enter waits for that echo before the command policy
    // reads it, while the loop keeps printing): ticks are found wherever their line starts.
    const ticks = [...terminal.output.matchAll(/tick-(\d+)\r$/gm)].map((match) => Number(match[1]));
    expect(ticks).toEqual(Array.from({ length: 400 }, (_, index) => index + 1));
    expect(terminal.output).toContain("end-of-400");
    expect(terminal.output.indexOf("end-of-400")).toBeLessThan(terminal.output.indexOf("typed-9-while-paused"));
    await terminal.close();
  });

  test("terminate ends the session, the user's page says why, and it moves to recordings", async () => {
    const target = await newTarget("live-terminate");
    const user = await openTerminalPage(bob, target.id);
    await user.keyboard.type("echo working\n");
    await expect(terminalText(user)).toContainText(/echo working\s*working/);
    const sessionId = await liveSessionOn(target.name);

    const security = await sam.newPage();
    await security.goto(`${ssoUrl()}/live/${sessionId}`);
    await expect(terminalText(security, "watch-terminal")).toContainText("working");
    await security.getByRole("button", { name: `Terminate bob on ${target.name}`, exact: true }).click();
    await security.getByLabel(`Reason to terminate bob on ${target.name}`).fill("end of the change window");
    await security.getByRole("button", { name: "Confirm terminate" }).click();
    await expect(user.getByTestId("terminal-status")).toHaveText("Session terminated: terminated by sam from security: end of the change window");
    await expect(security.getByTestId("watch-status")).toHaveText("The session ended: terminated by sam from security: end of the change window");

    await expect.poll(async () => (await sql`select status, end_reason from sessions where id = ${sessionId}`)[0]).toEqual({ status: "ended", end_reason: "terminated" });
    const reviewer = await alice.newPage();
    await reviewer.goto(`${ssoUrl()}/recordings?target=${target.name}`);
    await reviewer.getByRole("link", { name: `Play the recording of bob on ${target.name}` }).click();
    await expect(reviewer.getByRole("region", { name: "Session timeline" })).toContainText("terminate by sam: end of the change window");
    await Promise.all([reviewer.close(), security.close(), user.close()]);
  });

  test("terminate and cancel ends every session of the user on that target and refuses new ones until an admin restores access", async () => {
    const target = await newTarget("live-cancel");
    const first = await TerminalClient.open(bob, target.id);
    const { sessionId } = await first.waitForMessage("connected");
    const second = await TerminalClient.open(bob, target.id);
    await second.waitForMessage("connected");

    const response = await control(sam, sessionId, "terminate_and_cancel", "credential sharing");
    expect(response.status()).toBe(200);
    expect(await first.waitForMessage("ended")).toEqual({ type: "ended", reason: "terminated", message: "terminated by sam from security: credential sharing" });
    expect(await second.waitForMessage("ended")).toMatchObject({ type: "ended", reason: "terminated" });
    const refused = await bob.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: { targetId: target.id, purpose: "terminal" } });
    expect(refused.status()).toBe(403);
    const home = await bob.newPage();
    await home.goto(ssoUrl());
    await expect(home.getByRole("link", { name: `Connect to ${target.name}` })).toHaveCount(0);
    // The user is told why, and whom to ask: on the home page and on the target's own page.
    const why = new RegExp(`your access to ${target.name} was cancelled by sam at \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC \\(credential sharing\\); ask sam or an administrator to restore it`);
    await expect(home.getByRole("listitem").filter({ hasText: target.name }).getByTestId("access-refused")).toHaveText(why);
    await home.goto(`${ssoUrl()}/connect/${target.id}`);
    await expect(home.getByText(why)).toBeVisible();
    await home.goto(ssoUrl());

    const admin = await alice.newPage();
    await admin.goto(`${ssoUrl()}/admin/targets`);
    admin.once("dialog", (dialog) => void dialog.accept());
    await admin.getByRole("button", { name: `Restore bob's access to ${target.name}` }).click();
    await expect(admin.getByRole("button", { name: `Restore bob's access to ${target.name}` })).toHaveCount(0);
    const again = await bob.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: { targetId: target.id, purpose: "terminal" } });
    expect(again.status()).toBe(200);
    const actions = await sql`select action from audit_log where action in ('session.terminate_and_cancel', 'access.restore') and (object_id = ${sessionId} or object_id = ${target.id}) order by seq`;
    expect(actions.map((entry) => entry.action)).toEqual(["session.terminate_and_cancel", "access.restore"]);
    await Promise.all([home.close(), admin.close()]);
  });

  test("the recording indicator follows the target and the global setting", async () => {
    const unrecorded = await newTarget("live-unrecorded", { recordSessions: false });
    const page = await openTerminalPage(bob, unrecorded.id);
    await expect(page.getByTestId("terminal-status")).toHaveText("Connected");
    await expect(page.getByTestId("recording-indicator")).toHaveCount(0);
    await page.close();

    const recorded = await newTarget("live-indicator");
    const settings = await alice.newPage();
    await settings.goto(`${ssoUrl()}/admin/settings`);
    await settings.getByLabel(/Show users a red/).uncheck();
    await expect(settings.getByRole("status")).toHaveText("Saved.");
    const hidden = await openTerminalPage(bob, recorded.id);
    await expect(hidden.getByTestId("recording-indicator")).toHaveCount(0);
    await settings.getByLabel(/Show users a red/).check();
    await expect(settings.getByLabel(/Show users a red/)).toBeChecked();
    const shown = await openTerminalPage(bob, recorded.id);
    await expect(shown.getByTestId("recording-indicator")).toBeVisible();
    const [audited] = await sql`select details from audit_log where action = 'settings.update' and actor_name = 'alice' order by seq desc limit 1`;
    expect(audited?.details).toEqual({ showRecordingIndicator: true });
    await Promise.all([settings.close(), hidden.close(), shown.close()]);
  });

  test("a plain user cannot list, watch or control other people's sessions; tampered ids and foreign sockets are refused", async ({ browser }) => {
    const target = await newTarget("live-authz");
    const terminal = await TerminalClient.open(bob, target.id);
    const { sessionId } = await terminal.waitForMessage("connected");

    const carolContext = await browser.newContext();
    try {
      await signInWithSso(await carolContext.newPage(), "carol");
      const sessions = (await (await carolContext.request.get(`${ssoUrl()}/api/sessions?status=live`)).json()) as { id: string }[];
      expect(sessions.map((session) => session.id)).not.toContain(sessionId);
      const livePage = await carolContext.newPage();
      const response = await livePage.goto(`${ssoUrl()}/live`);
      expect(response?.status()).toBe(403);
      expect((await livePage.goto(`${ssoUrl()}/live/${sessionId}`))?.status()).toBe(403);
      const ticket = await carolContext.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: { purpose: "watch", sessionId } });
      expect(ticket.status()).toBe(403);
      expect((await control(carolContext, sessionId, "terminate", "because")).status()).toBe(403);
      // The session's own user is no security officer either.
      expect((await control(bob, sessionId, "lock", "because")).status()).toBe(403);
    } finally {
      await carolContext.close();
    }

    expect((await control(sam, "00000000-0000-4000-8000-000000000000", "lock", "x")).status()).toBe(404);
    expect((await control(sam, "not-a-session", "lock", "x")).status()).toBe(404);
    const noReason = await control(sam, sessionId, "lock", "  ");
    expect(noReason.status()).toBe(400);
    expect(((await noReason.json()) as { fields: Record<string, string> }).fields.reason).toBe("Say why: the reason goes to the audit log");
    expect((await control(sam, sessionId, "unlock", "not locked")).status()).toBe(409);
    const crossSite = await sam.request.post(`${ssoUrl()}/api/sessions/${sessionId}/control`, { headers: { origin: "http://evil.localhost:9" }, data: { action: "terminate", reason: "csrf" } });
    expect(crossSite.status()).toBe(403);

    // A watch ticket is sam's alone, good once, and only from the gateway's own origin.
    const mint = async () => ((await (await sam.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: { purpose: "watch", sessionId } })).json()) as { url: string }).url;
    const refusal = (url: string, headers: Record<string, string>) =>
      new Promise<{ code: number; reason: string }>((resolve) => new WebSocket(new URL(url, ssoUrl().replace(/^http/, "ws")), { headers }).once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    expect(await refusal(await mint(), { cookie: await cookieHeader(bob), origin: ssoUrl() })).toEqual({ code: 4403, reason: "connect ticket belongs to another user" });
    expect(await refusal(await mint(), { cookie: await cookieHeader(sam), origin: "http://evil.localhost:9" })).toEqual({ code: 4403, reason: "origin not allowed" });
    const terminalTicket = ((await (await bob.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: { targetId: target.id, purpose: "terminal" } })).json()) as { url: string }).url;
    expect(await refusal(terminalTicket.replace("/ws/terminal", "/ws/watch"), { cookie: await cookieHeader(bob), origin: ssoUrl() })).toEqual({ code: 4403, reason: "connect ticket is for terminal, not watch" });
    // The node-to-node link is not on the public port at all, and on the nodes' own listener it wants their secret.
    const linkPath = `/internal/watch?session=${sessionId}&from=e2e-forger&expires=${Date.now() + 10_000}&nonce=${"n".repeat(24)}`;
    const attempt = (base: string) =>
      new Promise<string>((resolve) => {
        const socket = new WebSocket(`${base.replace(/^http/, "ws")}${linkPath}`, { headers: { authorization: "Gatehouse-Node forged" } });
        socket.once("unexpected-response", (_request, response) => resolve(String(response.statusCode)));
        socket.once("open", () => resolve("opened"));
        socket.once("error", () => resolve("refused"));
      });
    expect(await attempt(ssoUrl())).toBe("refused");
    const [node] = await sql`select internal_url from nodes where name = 'e2e-sso'`;
    expect(new URL(node!.internal_url as string).hostname).toBe("127.0.0.1");
    expect(await attempt(node!.internal_url as string)).toBe("401");
    await terminal.close();
  });

  test.describe("across two nodes", () => {
    let node2: RunningGateway;

    test.beforeAll(async () => {
      const port = await freePort();
      node2 = await startGateway({ port, env: { ...JSON.parse(process.env.E2E_SSO_ENV!), NODE_NAME: "e2e-live-2" }, logFile: path.resolve(".test-artifacts/gateway-live-2.log") });
    });
    test.afterAll(async () => {
      await node2?.stop();
    });

    test("a session on one node is watched live and locked, unlocked and terminated from the other", async () => {
      const target = await newTarget("live-cluster");
      const terminal = await TerminalClient.open(bob, target.id);
      const { sessionId } = await terminal.waitForMessage("connected");
      terminal.type("echo on-node-one\r");
      await terminal.waitForOutput("\ron-node-one\r\n");

      // Security's browser talks to node 2 only; the session runs on node 1.
      const security = await sam.newPage();
      await security.goto(`${node2.url}/live`);
      const row = security.getByRole("listitem", { name: `bob on ${target.name}` });
      await expect(row).toContainText("node e2e-sso");
      await row.getByRole("link", { name: `Watch bob on ${target.name}` }).click();
      await expect(terminalText(security, "watch-terminal")).toContainText("on-node-one");
      terminal.type("echo seen-across-nodes\r");
      await expect(terminalText(security, "watch-terminal")).toContainText(/echo seen-across-nodes\s*seen-across-nodes/, { timeout: 1_000 });
      await expect(security.getByTestId("keystroke-log").getByRole("listitem").filter({ hasText: "$ echo seen-across-nodes" })).toHaveCount(1);

      // A second watcher on node 2 shares node 2's link: caught up there, live from there, counted for the user.
      const second = await WatchClient.open(sam, sessionId, node2.url);
      await expect.poll(() => second.messages.some((message) => message.type === "live")).toBe(true);
      expect(second.screen).toContain("seen-across-nodes");
      await expect.poll(() => terminal.messages.filter((message) => message.type === "watchers").at(-1)).toEqual({ type: "watchers", count: 2 });
      terminal.type("echo both-$((6*7))\r");
      await expect.poll(() => second.screen, { timeout: 1_000 }).toContain("both-42");
      await expect(terminalText(security, "watch-terminal")).toContainText("both-42", { timeout: 1_000 });
      expect(second.screen.match(/\rseen-across-nodes\r\n/g)).toHaveLength(1);
      second.socket.close();
      await expect.poll(() => terminal.messages.filter((message) => message.type === "watchers").at(-1)).toEqual({ type: "watchers", count: 1 });

      await security.getByRole("button", { name: `Lock bob on ${target.name}` }).click();
      await security.getByLabel(`Reason to lock bob on ${target.name}`).fill("from node two");
      await security.getByRole("button", { name: "Confirm lock" }).click();
      expect(await terminal.waitForMessage("state")).toEqual({ type: "state", state: "locked", message: lockedMessage });
      await expect(security.getByTestId("watch-control-state")).toHaveText("Locked by sam: from node two");
      expect((await control(sam, sessionId, "unlock", "all clear", node2.url)).status()).toBe(200);
      await expect.poll(() => terminal.messages.at(-1)).toEqual({ type: "state", state: "active", message: "Your session has been unlocked." });

      expect((await control(sam, sessionId, "terminate", "ended from node two", node2.url)).status()).toBe(200);
      expect(await terminal.waitForMessage("ended")).toEqual({ type: "ended", reason: "terminated", message: "terminated by sam from security: ended from node two" });
      await expect(security.getByTestId("watch-status")).toHaveText("The session ended: terminated by sam from security: ended from node two");
      const [events] = [await sql`select kind from session_events where session_id = ${sessionId} order by id`];
      expect(events.filter((event) => event.kind === "watch.join")).toHaveLength(2);
      expect(events.map((event) => event.kind)).toEqual(expect.arrayContaining(["watch.leave", "lock", "unlock", "terminate"]));
      await security.close();
    });

    test("each node answers /healthz and /readyz, and gives its figures to Prometheus on its internal listener only", async () => {
      for (const url of [ssoUrl(), node2.url]) {
        const alive = await fetch(`${url}/healthz`);
        expect(alive.status).toBe(200);
        expect(await alive.json()).toMatchObject({ status: "alive" });
        const ready = await fetch(`${url}/readyz`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({ status: "ready" });
        expect((await fetch(`${url}/metrics`)).status).toBe(404);
      }
      // Anyone may ask, many at once: each still answers, and the database is asked at most once a second.
      const burst = await Promise.all(Array.from({ length: 100 }, () => fetch(`${node2.url}/readyz`).then((answer) => answer.status)));
      expect(new Set(burst)).toEqual(new Set([200]));
      const target = await newTarget("live-metrics");
      const terminal = await TerminalClient.open(bob, target.id, { cols: 80, rows: 24 }, node2.url);
      await terminal.waitForMessage("connected");
      terminal.type("echo counted-$((6*7))\r");
      await terminal.waitForOutput("counted-42");
      const [node] = await sql`select internal_url from nodes where name = 'e2e-live-2'`;
      const scraped = await fetch(`${node!.internal_url as string}/metrics`);
      expect(scraped.headers.get("content-type")).toContain("text/plain; version=0.0.4");
      const families = parsePrometheusTextFormat(await scraped.text());
      const family = (name: string) => families.find((candidate) => candidate.name === name);
      expect(family("gatehouse_node_info")?.metrics).toEqual([{ labels: { node: "e2e-live-2", version: "0.1.0" }, value: "1" }]);
      expect(family("gatehouse_sessions")?.metrics).toContainEqual({ labels: { protocol: "ssh", state: "active" }, value: "1" });
      const relayed = (direction: string) => Number(family("gatehouse_relayed_bytes_total")?.metrics.find((sample) => sample.labels?.protocol === "ssh" && sample.labels.direction === direction)?.value);
      expect(relayed("to_user")).toBeGreaterThan(0);
      expect(relayed("from_user")).toBeGreaterThanOrEqual("echo counted-$((6*7))\r".length);
      // The shell's connect, login and first output, timed apart from the gateway's own share of the start.
      // (The text format's parser above keeps no labels of a histogram: these series are read by name.)
      const [firstScreenSeconds, firstScreens] = await scrapeSeries(node!.internal_url as string, 'gatehouse_target_first_screen_seconds_sum{protocol="ssh"}', 'gatehouse_target_first_screen_seconds_count{protocol="ssh"}');
      expect(firstScreens).toBeGreaterThanOrEqual(1);
      expect(firstScreenSeconds).toBeGreaterThan(0);
      expect(family("gatehouse_audit_events_total")?.metrics).toContainEqual(expect.objectContaining({ labels: { action: "session.start", outcome: "success" } }));
      const requests = family("gatehouse_http_request_duration_seconds");
      expect(requests?.type).toBe("HISTOGRAM");
      expect(requests?.metrics.some((sample) => Number(sample.buckets?.["+Inf"]) > 0)).toBe(true);
      // Present once the node has given its allocator's free memory back (at start, then every minute): the native helper loaded and ran.
      expect(Number(family("gatehouse_free_memory_returned_bytes_total")?.metrics[0]?.value)).toBeGreaterThanOrEqual(0);
      for (const name of ["gatehouse_login_failures_total", "gatehouse_keyframer_backlog_bytes", "gatehouse_blob_spool_pending", "gatehouse_event_loop_delay_p99_seconds", "gatehouse_desktop_engine_up", "gatehouse_process_resident_memory_bytes"]) expect(family(name), name).toBeDefined();
      const heapSpace = (space: string, kind: string) => Number(family("gatehouse_process_heap_space_bytes")?.metrics.find((sample) => sample.labels?.space === space && sample.labels.kind === kind)?.value);
      expect(heapSpace("old_space", "committed")).toBeGreaterThanOrEqual(heapSpace("old_space", "used"));
      expect(heapSpace("old_space", "used")).toBeGreaterThan(0);
      expect(Number(family("gatehouse_process_external_memory_bytes")?.metrics[0]?.value)).toBeGreaterThan(0);
      await terminal.close();
    });

    test("the nodes list each other; when a node dies, a survivor sees its connections gone and marks its sessions interrupted", async () => {
      test.setTimeout(120_000);
      const port = await freePort();
      const doomed = await startGateway({ port, env: { ...JSON.parse(process.env.E2E_SSO_ENV!), NODE_NAME: "e2e-live-doomed" }, logFile: path.resolve(".test-artifacts/gateway-live-doomed.log") });
      try {
        const registered = await sql`select name, version from nodes order by name`;
        expect(registered).toEqual(expect.arrayContaining([{ name: "e2e-sso", version: "0.1.0" }, { name: "e2e-live-2", version: "0.1.0" }, { name: "e2e-live-doomed", version: "0.1.0" }]));
        const target = await newTarget("live-doomed");
        const terminal = await TerminalClient.open(bob, target.id, { cols: 80, rows: 24 }, doomed.url);
        const { sessionId } = await terminal.waitForMessage("connected");
        // The fleet, as security sees it: the node up, carrying the session, with its figures.
        const fleet = async () => ((await (await sam.request.get(`${ssoUrl()}/api/admin/nodes`)).json()) as { name: string; health: string; stats: Record<string, unknown> }[]).find((node) => node.name === "e2e-live-doomed");
        await expect.poll(async () => (await fleet())?.stats.sessions, { timeout: 15_000 }).toEqual({ ssh: 1 });
        expect(await fleet()).toMatchObject({ health: "up", stats: { desktopEngine: "ok", cpuPercent: expect.any(Number), rssBytes: expect.any(Number), eventLoopDelayMs: expect.any(Number), keyframerBacklogBytes: expect.any(Number), spooledBlobs: 0 } });
        const page = await sam.newPage();
        await page.goto(`${ssoUrl()}/admin/nodes`);
        await expect(page.getByTestId("node-e2e-live-doomed")).toContainText("Up");
        await expect(page.getByTestId("node-e2e-live-doomed")).toContainText("1 SSH");
        process.kill(doomed.pid, "SIGKILL");
        const killedAt = Date.now();
        // The page says so once the node misses its heartbeat, before a survivor retires it.
        await expect(async () => {
          await page.reload();
          await expect(page.getByTestId("node-e2e-live-doomed")).toContainText(/Late: no heartbeat for \d+ s|Stopped sending heartbeats/, { timeout: 1_000 });
        }).toPass({ timeout: 15_000 });
        expect(Date.now() - killedAt).toBeLessThan(15_000);
        await expect
          .poll(async () => (await sql`select status, end_reason from sessions where id = ${sessionId}`)[0], { timeout: 30_000, intervals: [500] })
          .toEqual({ status: "ended", end_reason: "interrupted" });
        expect(Date.now() - killedAt).toBeLessThan(30_000);
        const [kept] = await sql`select retired_at from nodes where name = 'e2e-live-doomed'`;
        expect(kept?.retired_at).toBeInstanceOf(Date);
        await page.reload();
        await expect(page.getByTestId("node-e2e-live-doomed")).toContainText("Stopped sending heartbeats; retired at");
        await page.close();
        const [retired] = await sql`select details from audit_log where action = 'node.retire' and object_id = 'e2e-live-doomed'`;
        // Retired for its connections being gone, not after the 15 s of silence a stalled node is given.
        expect(retired?.details).toMatchObject({ interruptedSessions: 1, disconnected: true });
      } finally {
        await doomed.stop();
      }
    });

    test("a node cut off from the database is retired within seconds, and once back it ends the sessions it carried", async () => {
      test.setTimeout(120_000);
      const port = await freePort();
      const cutOff = await startGateway({ port, env: { ...JSON.parse(process.env.E2E_SSO_ENV!), NODE_NAME: "e2e-live-cut-off" }, logFile: path.resolve(".test-artifacts/gateway-live-cut-off.log") });
      try {
        const target = await newTarget("live-cut-off");
        const terminal = await TerminalClient.open(bob, target.id, { cols: 80, rows: 24 }, cutOff.url);
        const { sessionId } = await terminal.waitForMessage("connected");
        // Frozen, so that it cannot reconnect, with its connections ended as a broken network would end them.
        process.kill(cutOff.pid, "SIGSTOP");
        try {
          const ended = await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'gatehouse e2e-live-cut-off'`;
          expect(ended.length).toBeGreaterThan(0);
          await expect
            .poll(async () => (await sql`select status, end_reason from sessions where id = ${sessionId}`)[0], { timeout: 15_000, intervals: [500] })
            .toEqual({ status: "ended", end_reason: "interrupted" });
          const [retired] = await sql`select details from audit_log where action = 'node.retire' and object_id = 'e2e-live-cut-off'`;
          expect(retired?.details).toMatchObject({ interruptedSessions: 1, disconnected: true });
        } finally {
          process.kill(cutOff.pid, "SIGCONT");
        }
        // Back, it learns at its next heartbeat that it was retired: the session it still held ends, and its user is told.
        expect(await terminal.waitForMessage("ended", 20_000)).toEqual({ type: "ended", reason: "interrupted", message: "this gateway node lost touch with the cluster; connect again" });
        await expect.poll(async () => (await sql`select retired_at from nodes where name = 'e2e-live-cut-off'`)[0]?.retired_at, { timeout: 10_000 }).toBeNull();
      } finally {
        await cutOff.stop();
      }
    });
  });
});
