// Revocation that reaches live sessions, on a cluster of two nodes: a departing contractor (Dave) has a terminal
// on one node, a desktop and a web visit on the other. Disabling his account ends all three within 5 s, each
// telling him why; taking him off a target's allow list ends his session there; a role mapping removed closes
// the watch view it allowed; an admin ends all his sessions from the Users page. Every end is audited.
import path from "node:path";
import type { BrowserContext } from "@playwright/test";
import postgres from "postgres";
import WebSocket from "ws";
import { sessionServerMessageSchema, type SessionServerMessage } from "../../lib/protocol/session-socket";
import { startVncServer, type DesktopTarget } from "../../test/fixtures/desktop-targets";
import { startGateway, type RunningGateway } from "../../test/fixtures/gateway";
import { startHostileApp, type RunningHostileApp } from "../../test/fixtures/hostile-app";
import { freePort } from "../../test/fixtures/ports";
import { cookieHeader, createCredential, createTarget, sshdUnderTest, TerminalClient } from "../fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "../fixtures/test";

const sshd = sshdUnderTest();
const run = Date.now().toString(36);
/** How soon a revocation must reach every live session. */
const revocationDeadlineMs = 5000;

/** Any session socket (terminal, desktop) at the level of its JSON messages. */
async function openSessionSocket(context: BrowserContext, body: Record<string, string>, query: string, nodeUrl: string) {
  const response = await context.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: body });
  expect(response.status(), await response.text()).toBe(200);
  const { url } = (await response.json()) as { url: string };
  const socket = new WebSocket(new URL(`${url}${query}`, nodeUrl.replace(/^http/, "ws")), { headers: { cookie: await cookieHeader(context), origin: nodeUrl } });
  const messages: SessionServerMessage[] = [];
  socket.on("message", (data: Buffer, isBinary: boolean) => !isBinary && messages.push(sessionServerMessageSchema.parse(JSON.parse(data.toString()))));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await expect.poll(() => messages.some((message) => message.type === "connected"), { timeout: 20_000 }).toBe(true);
  return { messages, closed, ended: () => messages.find((message) => message.type === "ended") as Extract<SessionServerMessage, { type: "ended" }> | undefined };
}

test.describe("revocation reaches live sessions", { tag: "@security" }, () => {
  let node2: RunningGateway;
  let vnc: DesktopTarget;
  let hostile: RunningHostileApp;
  let alice: BrowserContext;
  let dave: BrowserContext;
  let sql: postgres.Sql;
  let daveId = "";
  const targets: Record<string, { id: string; input: Record<string, unknown> }> = {};

  const add = async (kind: string, input: Record<string, unknown>) => {
    const full = { name: `revoke-${kind}-${run}`, allowedGroups: ["contractors"], ...input };
    targets[kind] = { id: await createTarget(alice.request, full), input: full };
  };
  const api = (method: "patch" | "post" | "delete", route: string, data: unknown) => alice.request[method](`${ssoUrl()}${route}`, { headers: { origin: ssoUrl() }, data });

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(180_000);
    [vnc, hostile] = await Promise.all([startVncServer(), startHostileApp()]);
    node2 = await startGateway({ port: await freePort(), env: { ...JSON.parse(process.env.E2E_SSO_ENV!), NODE_NAME: "e2e-revocation-2" }, logFile: path.resolve(".test-artifacts/gateway-revocation-2.log") });
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    [alice, dave] = [await browser.newContext(), await browser.newContext()];
    await signInWithSso(await alice.newPage(), "alice");
    await signInWithSso(await dave.newPage(), "dave");
    daveId = (await sql`select id from users where username = 'dave'`)[0]!.id as string;
    const ssh = await createCredential(alice.request, { name: `revoke-ssh-${run}`, kind: "password", username: sshd.username, secret: sshd.password });
    const desktop = await createCredential(alice.request, { name: `revoke-vnc-${run}`, kind: "password", username: "vnc", secret: vnc.password });
    await add("ssh", { protocol: "ssh", host: sshd.host, port: sshd.port, credentialId: ssh });
    await add("ssh-other", { protocol: "ssh", host: sshd.host, port: sshd.port, credentialId: ssh });
    await add("vnc", { protocol: "vnc", host: vnc.host, port: vnc.port, credentialId: desktop });
    await add("web", { protocol: "web", internalUrl: hostile.url });
  });

  test.afterAll(async () => {
    if (sql && daveId) await sql`update users set disabled = false where id = ${daveId}`;
    await Promise.all([alice?.close(), dave?.close()]);
    await sql?.end();
    await node2?.stop();
    await Promise.all([vnc?.stop(), hostile?.stop()]);
  });

  test("disabling an account ends its terminal, desktop and web visit on every node within 5 s, each telling why", async () => {
    const terminal = await TerminalClient.open(dave, targets.ssh!.id, { cols: 80, rows: 24 }, node2.url);
    await terminal.waitForMessage("connected");
    const desktop = await openSessionSocket(dave, { purpose: "desktop", targetId: targets.vnc!.id }, "&width=800&height=600&dpi=96", ssoUrl());
    const app = await dave.newPage();
    await app.goto(`${ssoUrl()}/apps/${targets.web!.input.name}?return=/page`);
    await expect(app.getByRole("heading", { name: "Hostile app" })).toBeVisible();

    const disabledAt = Date.now();
    expect((await api("patch", `/api/admin/users/${daveId}`, { disabled: true })).status()).toBe(200);
    const ended = await terminal.waitForMessage("ended", revocationDeadlineMs);
    expect(ended.message).toBe("access revoked: the account was disabled");
    await expect.poll(() => desktop.ended()?.message, { timeout: Math.max(0, disabledAt + revocationDeadlineMs - Date.now()) }).toBe("access revoked: the account was disabled");
    await expect(app.getByRole("alert")).toContainText("has ended: access revoked: the account was disabled", { timeout: Math.max(0, disabledAt + revocationDeadlineMs - Date.now()) });
    console.log(`all three sessions ended ${Date.now() - disabledAt} ms after the account was disabled`);
    // The app stops answering his cookie, and every end is in the audit log.
    expect((await app.goto(`${ssoUrl().replace("//localhost", `//${targets.web!.input.name}.localhost`)}/page`))?.status()).toBe(403);
    // Each end is audited once the session has finished ending (its recording stored), a moment after the user was told.
    await expect
      .poll(async () => (await sql`select details from audit_log where action = 'session.revoked' and details->>'user' = 'dave'`).map((row) => row.details.target).sort())
      .toEqual([targets.ssh!.input.name, targets.vnc!.input.name, targets.web!.input.name].sort());
    expect((await api("patch", `/api/admin/users/${daveId}`, { disabled: false })).status()).toBe(200);
  });

  test("taking someone off a target's allow list ends their session there, and only there", async () => {
    const removed = await TerminalClient.open(dave, targets.ssh!.id);
    await removed.waitForMessage("connected");
    const kept = await TerminalClient.open(dave, targets["ssh-other"]!.id);
    await kept.waitForMessage("connected");
    expect((await api("patch", `/api/admin/targets/${targets.ssh!.id}`, { ...targets.ssh!.input, allowedGroups: [] })).status()).toBe(200);
    expect((await removed.waitForMessage("ended", revocationDeadlineMs)).message).toBe(`access revoked: ${targets.ssh!.input.name} no longer allows this account`);
    kept.type("echo still-allowed\r");
    await kept.waitForOutput("still-allowed\r\n");
    expect(kept.messages.some((message) => message.type === "ended")).toBe(false);
    await kept.close();
    expect((await api("patch", `/api/admin/targets/${targets.ssh!.id}`, targets.ssh!.input)).status()).toBe(200);
  });

  test("a role mapping removed closes the watch view it allowed", async () => {
    const group = { group: "contractors", role: "security" };
    expect((await api("post", "/api/admin/role-mappings", group)).status()).toBe(200);
    const watched = await TerminalClient.open(dave, targets["ssh-other"]!.id);
    const { sessionId } = await watched.waitForMessage("connected");
    // Dave's roles were recomputed when the mapping was added: he may watch now, without signing in again.
    const ticket = await dave.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: { purpose: "watch", sessionId } });
    expect(ticket.status()).toBe(200);
    const viewer = new WebSocket(new URL(((await ticket.json()) as { url: string }).url, ssoUrl().replace(/^http/, "ws")), { headers: { cookie: await cookieHeader(dave), origin: ssoUrl() } });
    const said: string[] = [];
    viewer.on("message", (data: Buffer, isBinary: boolean) => !isBinary && said.push(data.toString()));
    const closed = new Promise<number>((resolve) => viewer.once("close", (code) => resolve(code)));
    await expect.poll(() => said.some((text) => text.includes('"type":"joined"'))).toBe(true);
    expect((await api("delete", "/api/admin/role-mappings", group)).status()).toBe(200);
    expect(await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve("still open"), revocationDeadlineMs))])).toBe(4403);
    expect(said.at(-1)).toContain("you may no longer watch sessions");
    await watched.close();
  });

  test("an admin ends all of someone's sessions from the Users page, with a reason", async () => {
    const terminal = await TerminalClient.open(dave, targets.ssh!.id, { cols: 80, rows: 24 }, node2.url);
    await terminal.waitForMessage("connected");
    const app = await dave.newPage();
    await app.goto(`${ssoUrl()}/apps/${targets.web!.input.name}?return=/page`);
    await expect(app.getByRole("heading", { name: "Hostile app" })).toBeVisible();
    const users = await alice.newPage();
    await users.goto(`${ssoUrl()}/admin/users`);
    users.once("dialog", (dialog) => void dialog.accept("offboarding"));
    await users.getByRole("button", { name: "End the sessions of dave" }).click();
    await expect(users.getByRole("status")).toHaveText("dave: 2 of 2 live session(s) ended.");
    expect((await terminal.waitForMessage("ended")).message).toBe("terminated by alice from security: offboarding");
    await expect(app.getByRole("alert")).toContainText("has ended: terminated by alice from security: offboarding");
    const [summary] = await sql`select details from audit_log where action = 'user.end_sessions' and object_id = ${daveId} order by seq desc limit 1`;
    expect(summary!.details).toMatchObject({ reason: "offboarding", live: 2, ended: 2 });
    await Promise.all([users.close(), app.close()]);
  });
});
