// The terminal as a person uses it, in Chromium: sign in, click Connect, type, read the answer. Every byte the
// browser receives over HTTP and WebSocket is captured and searched for the target's secrets.
import type { Page } from "@playwright/test";
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
  await expect(page.locator(".xterm-rows")).toContainText("[gatehouse] This session ends in 1 minute.");
  await banner.getByRole("button", { name: /^Extend by/ }).click();
  await expect(banner).toContainText("It cannot be extended further.");
  await expect(page.getByTestId("terminal-status")).toHaveText("Session expired: the session reached its time limit", { timeout: 15_000 });
  await expect(banner).toHaveCount(0);
  await page.close();
});

test("the terminal page of a target the user may not reach is a 404", async ({ page }) => {
  await signInWithSso(page, "bob");
  const response = await page.goto(`${ssoUrl()}/connect/00000000-0000-4000-8000-000000000000`);
  expect(response?.status()).toBe(404);
  expect((await page.goto(`${ssoUrl()}/connect/not-an-id`))?.status()).toBe(404);
});
