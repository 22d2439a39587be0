// An RDP target that runs one program (RemoteApp) on Debian's xrdp: the user sees only its window, and the
// titles its windows take reach the window-title rules: the built-in breakout rule alerts when a shell names the
// window, an admin's rule locks the session when a forbidden title shows, and the titles never reach the browser.
import type { BrowserContext, Page } from "@playwright/test";
import { PNG } from "pngjs";
import postgres from "postgres";
import { lockedMessage } from "../lib/protocol/live";
import { desktopXterm, remoteApp, startXrdp, type DesktopTarget } from "../test/fixtures/desktop-targets";
import { createCredential, createTarget } from "./fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const run = Date.now().toString(36);
const targetName = `remote-app-${run}`;
const blue = desktopXterm.background;

async function shareOfBlue(page: Page): Promise<number> {
  const png = PNG.sync.read(await page.getByTestId("desktop").screenshot());
  let matching = 0;
  for (let offset = 0; offset < png.data.length; offset += 4)
    if (Math.abs(png.data[offset]! - blue[0]) + Math.abs(png.data[offset + 1]! - blue[1]) + Math.abs(png.data[offset + 2]! - blue[2]) <= 24) matching += 1;
  return matching / (png.width * png.height);
}

/** With no window manager, the keyboard goes to the window under the pointer. */
async function typeIntoApp(page: Page, text: string) {
  const box = (await page.getByTestId("desktop").boundingBox())!;
  await page.mouse.move(box.x + desktopXterm.x + desktopXterm.width / 2, box.y + desktopXterm.y + desktopXterm.height / 2);
  await page.keyboard.type(text, { delay: 15 });
}

test.describe("RemoteApp desktops and window-title rules", () => {
  let alice: BrowserContext;
  let bob: BrowserContext;
  let sql: postgres.Sql;
  let xrdp: DesktopTarget;
  let targetId: string;
  const call = (method: "post" | "patch" | "get", route: string, data?: unknown) => alice.request[method](`${ssoUrl()}${route}`, { headers: { origin: ssoUrl() }, data });

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(120_000);
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    xrdp = await startXrdp({ remoteApps: true });
    alice = await browser.newContext();
    bob = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await signInWithSso(await alice.newPage(), "alice");
    await signInWithSso(await bob.newPage(), "bob");
    const login = await createCredential(alice.request, { name: `remote-app-login-${run}`, kind: "password", username: xrdp.username, secret: xrdp.password });
    targetId = await createTarget(alice.request, { name: targetName, protocol: "rdp", host: xrdp.host, port: xrdp.port, credentialId: login, remoteApp: remoteApp.path, allowedUsers: ["bob"] });
  });

  test.afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await sql?.end();
    await xrdp?.stop();
  });

  test("the target's program is set on the Targets page; only RDP can have one, and window-title rules cannot block", async () => {
    const page = await alice.newPage();
    await page.goto(`${ssoUrl()}/admin/targets?q=${targetName}`);
    await page.getByRole("button", { name: `Edit ${targetName}` }).click();
    await expect(page.getByLabel("RemoteApp program")).toHaveValue(remoteApp.path);

    const ssh = await call("post", "/api/admin/targets", { name: `ssh-app-${run}`, protocol: "ssh", host: "127.0.0.1", port: 22, remoteApp: "/usr/bin/xterm" });
    expect(ssh.status()).toBe(400);
    expect(JSON.stringify(await ssh.json())).toContain("Only an RDP target can run a RemoteApp program");
    const block = await call("post", "/api/admin/command-rules", { name: `title block ${run}`, kind: "window_title", pattern: "x", action: "block", severity: "high" });
    expect(block.status()).toBe(400);
    expect(JSON.stringify(await block.json())).toContain("This kind of rule cannot take that action");
  });

  test("the program's window shows; a shell's title alerts (built-in rule), a forbidden title locks the session, and no title reaches the browser", async () => {
    test.setTimeout(120_000);
    const rule = await call("post", "/api/admin/command-rules", {
      name: `forbidden window ${run}`,
      kind: "window_title",
      matchMode: "words",
      pattern: `ledger-${run}`,
      action: "lock",
      severity: "critical",
      targetNames: [targetName],
      testMatch: [`Secret ledger-${run} - Editor`],
      testNoMatch: ["Ledger"],
    });
    expect(rule.status(), await rule.text()).toBe(200);

    const page = await bob.newPage();
    const titlesSeen: string[] = [];
    page.on("websocket", (socket) => socket.on("framereceived", ({ payload }) => void (String(payload).includes(".title,") && titlesSeen.push(String(payload).slice(0, 80)))));
    await page.goto(`${ssoUrl()}/`);
    await page.getByRole("link", { name: `Connect to ${targetName}` }).click();
    await expect(page.getByTestId("desktop-status")).toHaveText("Connected", { timeout: 20_000 });
    await expect.poll(() => shareOfBlue(page), { timeout: 30_000, message: "the program's window (the blue xterm) shows" }).toBeGreaterThan(0.03);
    const [session] = await sql<{ id: string }[]>`select id from sessions where target_id = ${targetId} and status <> 'ended' order by started_at desc limit 1`;
    const events = async () => (await sql<{ rule_name: string; outcome: string; subject: string }[]>`select rule_name, outcome, subject from risk_events where session_id = ${session!.id} order by id`).map((event) => `${event.rule_name}: ${event.outcome}: ${event.subject}`);

    // The shell in the xterm names the window `user@host: ~`, as bash does: a breakout from a published program.
    await expect.poll(events, { timeout: 20_000, message: "the built-in rule saw the shell's title" }).toContainEqual(expect.stringMatching(new RegExp(`^Shell or system tool on a published app: alerted: window: ${xrdp.username}@[\\w.-]+: ~$`)));

    await typeIntoApp(page, `printf '\\033]2;Secret ledger-${run} - Editor\\007'; sleep 10\n`);
    await expect(page.getByTestId("control-banner")).toHaveText(lockedMessage, { timeout: 20_000 });
    expect(await events()).toContain(`forbidden window ${run}: locked: window: Secret ledger-${run} - Editor`);
    await expect
      .poll(async () => (await sql<{ details: { reason: string } }[]>`select details from audit_log where action = 'session.lock' and object_id = ${session!.id}`)[0]?.details.reason, { message: "the lock is audited with the rule" })
      .toBe(`rule forbidden window ${run} matched: window: Secret ledger-${run} - Editor`);
    expect(titlesSeen, "window titles are the gateway's: none reach the browser").toEqual([]);
    await page.close();
  });
});
