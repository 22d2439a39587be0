// The terminal as a person uses it, in Chromium: sign in, click Connect, type, read the answer. Every byte the
// browser receives over HTTP and WebSocket is captured and searched for the target's secrets.
import type { Browser, Page } from "@playwright/test";
import { createCredential, createTarget, sshdUnderTest } from "./fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const sshd = sshdUnderTest();
const run = Date.now().toString(36);

/** Collects response bodies and WebSocket frames the page receives (and the frames it sends). */
function captureTraffic(page: Page) {
  const received: Buffer[] = [];
  page.on("response", async (response) => {
    const body = await response.body().catch(() => null);
    if (body) received.push(body);
    received.push(Buffer.from(JSON.stringify(await response.allHeaders().catch(() => ({})))));
  });
  page.on("websocket", (socket) => {
    socket.on("framereceived", ({ payload }) => received.push(Buffer.from(payload)));
    socket.on("framesent", ({ payload }) => received.push(Buffer.from(payload)));
  });
  return received;
}

/** An SSH target on the test sshd that bob may use, created by alice. */
async function bobsTarget(browser: Browser, name: string) {
  const admin = await browser.newContext();
  await signInWithSso(await admin.newPage(), "alice");
  const credential = await createCredential(admin.request, { name, kind: "password", username: sshd.username, secret: sshd.password });
  await createTarget(admin.request, { name, protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["bob"], credentialId: credential });
  await admin.close();
  return name;
}

/** Bob's browser, allowed the clipboard, at the target's terminal. */
async function bobAtTerminal(browser: Browser, targetName: string) {
  const context = await browser.newContext();
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: ssoUrl() });
  const page = await context.newPage();
  await signInWithSso(page, "bob");
  await page.getByRole("link", { name: `Connect to ${targetName}` }).click();
  await expect(page.getByTestId("terminal-status")).toHaveText("Connected");
  return { context, page };
}

test("a user opens a terminal, types echo hello, sees hello — and never receives the target's password or key", async ({ browser }) => {
  const admin = await browser.newContext();
  await signInWithSso(await admin.newPage(), "alice");
  const keyCredential = await createCredential(admin.request, { name: `web-key-${run}`, kind: "private_key", username: sshd.username, secret: sshd.privateKey });
  await createCredential(admin.request, { name: `web-password-${run}`, kind: "password", username: sshd.username, secret: sshd.password });
  const targetName = `web-terminal-${run}`;
  await createTarget(admin.request, { name: targetName, protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["bob"], credentialId: keyCredential });
  await admin.close();

  const context = await browser.newContext();
  const page = await context.newPage();
  const traffic = captureTraffic(page);
  await signInWithSso(page, "bob");
  await page.getByRole("link", { name: `Connect to ${targetName}` }).click();
  await expect(page.getByTestId("terminal-status")).toHaveText("Connected");
  await page.getByTestId("terminal").click();
  await page.keyboard.type("echo hello\n");
  await expect(page.locator(".xterm-rows")).toContainText("hello");
  await expect(page.locator(".xterm-rows")).toContainText(/\$ echo hello\s*hello/);
  // The shell's line editor handles multi-byte characters (the gateway asks for a UTF-8 locale).
  await page.keyboard.type("echo héllo-日本\n");
  await expect(page.locator(".xterm-rows")).toContainText(/\$ echo héllo-日本\s*héllo-日本/);

  // Resizing the window resizes the remote terminal.
  await page.setViewportSize({ width: 900, height: 600 });
  await page.keyboard.type("stty size\n");
  await expect(page.locator(".xterm-rows")).toContainText(/stty size\s*\d+ \d+/);

  await page.keyboard.type("exit\n");
  await expect(page.getByTestId("terminal-status")).toHaveText(/The target ended the session/);
  await page.getByRole("button", { name: "Reconnect" }).click();
  await expect(page.getByTestId("terminal-status")).toHaveText("Connected");

  await page.close();
  const everything = Buffer.concat(traffic);
  expect(everything.length).toBeGreaterThan(1000);
  const keyBody = sshd.privateKey.split("\n").filter((line) => line && !line.startsWith("-----"));
  for (const secret of [sshd.password, ...keyBody]) {
    expect(everything.includes(Buffer.from(secret)), `a secret reached the browser: ${secret.slice(0, 8)}…`).toBe(false);
  }
  await context.close();
});

test("the page shows the time limit, extends it on request, and says when the session expired", async ({ browser }) => {
  const admin = await browser.newContext();
  await signInWithSso(await admin.newPage(), "alice");
  const credential = await createCredential(admin.request, { name: `ttl-page-${run}`, kind: "password", username: sshd.username, secret: sshd.password });
  const targetName = `ttl-page-${run}`;
  await createTarget(admin.request, {
    name: targetName, protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["bob"], credentialId: credential,
    sessionTtlSeconds: 4, extensionSeconds: 3, maxSessionSeconds: 7,
  });
  await admin.close();

  const page = await browser.newPage();
  await signInWithSso(page, "bob");
  await page.getByRole("link", { name: `Connect to ${targetName}` }).click();
  const banner = page.getByRole("alert").filter({ hasText: "This session ends at" });
  await expect(banner).toBeVisible();
  // The gateway says so in the page, not in the terminal, where a target could print the same words.
  await expect(page.locator(".xterm-rows")).not.toContainText("[gatehouse]");
  await banner.getByRole("button", { name: /^Extend by/ }).click();
  await expect(banner).toContainText("It cannot be extended further.");
  await expect(page.getByTestId("terminal-status")).toHaveText("Session expired: the session reached its time limit", { timeout: 15_000 });
  await expect(banner).toHaveCount(0);
  await page.close();
});

test("a target cannot forge the gateway's notices, retitle the page, write the clipboard, or disguise where a link goes", { tag: "@security" }, async ({ browser }) => {
  const targetName = await bobsTarget(browser, `hygiene-${run}`);
  const { context, page } = await bobAtTerminal(browser, targetName);
  const title = await page.title();
  await page.evaluate(() => navigator.clipboard.writeText("what the user copied"));
  await page.getByTestId("terminal").click();
  // A window title (OSC 0), the clipboard (OSC 52), a hyperlink whose text names the gateway (OSC 8), and a line
  // dressed as the gateway's lock notice; sent encoded, so that only the target's output holds them.
  const hostile = "\x1b]0;Gatehouse - sign in again\x07\x1b]52;c;ZXZpbA==\x07\x1b]8;;https://evil.example/steal\x07https://gatehouse.example/reauth\x1b]8;;\x07\r\n\x1b[1;31m[gatehouse] Your session has been locked, please contact your Administrator.\x1b[0m\r\n";
  await page.keyboard.type(`echo ${Buffer.from(hostile).toString("base64")} | base64 -d\n`);
  await expect(page.locator(".xterm-rows")).toContainText("[gatehouse] Your session has been locked");
  await expect(page.getByTestId("control-banner")).toHaveCount(0);
  await expect(page.getByTestId("terminal-status")).toHaveText("Connected");
  expect(await page.title()).toBe(title);
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("what the user copied");

  // The confirmation blocks the page until answered: it is answered as it comes (dismissed, as a wary user would).
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    void dialog.dismiss();
  });
  const pagesBefore = context.pages().length;
  // xterm.js draws a screen layer over its rows: the click goes where the link's text is, as a person's would.
  const link = await page.locator(".xterm-rows span", { hasText: "gatehouse.example/reauth" }).boundingBox();
  await page.mouse.move(link!.x + 10, link!.y + link!.height / 2);
  await page.mouse.click(link!.x + 10, link!.y + link!.height / 2);
  await expect.poll(() => asked).toContain("https://evil.example/steal");
  expect(asked).toContain("host: evil.example");
  await page.waitForTimeout(500);
  expect(context.pages()).toHaveLength(pagesBefore);
  expect(page.url()).toContain("/connect/");

  // Security's live view shows the same screen with the link inert: no question, nowhere to go.
  const security = await browser.newContext();
  const watch = await security.newPage();
  await signInWithSso(watch, "sam");
  const [session] = (await (await security.request.get(`${ssoUrl()}/api/sessions?status=live&target=${targetName}`)).json()) as { id: string }[];
  await watch.goto(`${ssoUrl()}/live/${session!.id}`);
  const shown = watch.locator(".xterm-rows span", { hasText: "gatehouse.example/reauth" });
  await expect(shown).toBeVisible();
  let questioned = false;
  watch.on("dialog", (dialog) => {
    questioned = true;
    void dialog.dismiss();
  });
  const box = await shown.boundingBox();
  await watch.mouse.move(box!.x + 10, box!.y + box!.height / 2);
  await watch.mouse.click(box!.x + 10, box!.y + box!.height / 2);
  await watch.waitForTimeout(500);
  expect(questioned).toBe(false);
  expect(security.pages()).toHaveLength(1);
  await Promise.all([security.close(), context.close()]);
});

test("the terminal page of a target the user may not reach is a 404", async ({ page }) => {
  await signInWithSso(page, "bob");
  const response = await page.goto(`${ssoUrl()}/connect/00000000-0000-4000-8000-000000000000`);
  expect(response?.status()).toBe(404);
  expect((await page.goto(`${ssoUrl()}/connect/not-an-id`))?.status()).toBe(404);
});

test("copy and paste in the terminal: Ctrl+Shift+C copies the selection, Ctrl+Shift+V pastes, Ctrl+C still interrupts", async ({ browser }) => {
  const { context, page } = await bobAtTerminal(browser, await bobsTarget(browser, `clip-terminal-${run}`));
  await page.getByTestId("terminal").click();
  await page.keyboard.type("echo copied-$((20+22))-text\n");
  const rows = page.locator(".xterm-rows");
  await expect(rows).toContainText(/\n?copied-42-text/);

  // The word on screen, selected with a double click, copied.
  await page.evaluate(() => navigator.clipboard.writeText("nothing yet"));
  const line = await rows.locator(":scope > div").filter({ hasText: /^\s*copied-42-text\s*$/ }).boundingBox();
  await page.mouse.dblclick(line!.x + 20, line!.y + line!.height / 2);
  await page.keyboard.press("Control+Shift+C");
  await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe("copied-42-text");

  // Pasted once, as one marked paste: the shell shows both lines and runs them at Enter, not before.
  await page.evaluate(() => navigator.clipboard.writeText("echo pasted-$((6*7))\necho second-$((1+1))"));
  await page.getByTestId("terminal").click();
  await page.keyboard.press("Control+Shift+V");
  await expect(rows).toContainText("echo second-$((1+1))");
  expect((await rows.textContent())!.split("echo pasted-$((6*7))").length - 1).toBe(1);
  await expect(rows).not.toContainText("pasted-42");
  await page.keyboard.press("Enter");
  await expect(rows).toContainText("pasted-42");
  await expect(rows).toContainText("second-2");

  // Ctrl+C is the shell's interrupt, not a copy.
  await page.keyboard.type("sleep 30");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Control+C");
  await page.keyboard.type("echo after-$((3*3))\n");
  await expect(rows).toContainText("after-9", { timeout: 5_000 });
  await context.close();
});
