// RDP and VNC desktops in the browser, against Debian's xrdp and Xtigervnc on loopback: a person signs in, opens
// the target, sees the desktop on the canvas, types into the remote xterm and sees the result; security watches,
// locks and terminates; a reviewer replays the recording. The desktop's pixels are checked in screenshots: the
// test xterm has a known background colour, and typed commands change it.
import type { BrowserContext, Locator, Page } from "@playwright/test";
import { PNG } from "pngjs";
import postgres from "postgres";
import { lockedMessage } from "../lib/protocol/live";
import { desktopXterm, startVncServer, startXrdp, type DesktopTarget } from "../test/fixtures/desktop-targets";
import { createCredential, createTarget } from "./fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const run = Date.now().toString(36);
const named = (name: string) => `${name}-${run}`;

type Rgb = [number, number, number];
const blue: Rgb = [...desktopXterm.background];
const red: Rgb = [0xc8, 0x32, 0x32];
const green: Rgb = [0x32, 0xa0, 0x46];

/** The share of an element's pixels within a small distance of a colour, from a screenshot. */
async function shareOf(element: Locator, colour: Rgb): Promise<number> {
  const png = PNG.sync.read(await element.screenshot());
  let matching = 0;
  for (let offset = 0; offset < png.data.length; offset += 4) {
    if (Math.abs(png.data[offset]! - colour[0]) + Math.abs(png.data[offset + 1]! - colour[1]) + Math.abs(png.data[offset + 2]! - colour[2]) <= 24) matching += 1;
  }
  return matching / (png.width * png.height);
}

/** The xterm's background, set by an escape sequence typed into it: proof that keys reached the remote shell. */
const paintXterm = (colour: Rgb) => `printf '\\033]11;#${colour.map((part) => part.toString(16).padStart(2, "0")).join("")}\\007'\n`;

async function typeIntoXterm(page: Page, text: string) {
  // twm gives the keyboard to the window under the pointer: click inside the xterm (the canvas is not scaled
  // down while the window is larger than the remote screen's minimum).
  const box = (await page.getByTestId("desktop").boundingBox())!;
  await page.mouse.click(box.x + desktopXterm.x + desktopXterm.width / 2, box.y + desktopXterm.y + desktopXterm.height / 2);
  await page.keyboard.type(text, { delay: 15 });
}

test.describe("RDP and VNC desktops", () => {
  let alice: BrowserContext;
  let bob: BrowserContext;
  let sam: BrowserContext;
  let sql: postgres.Sql;
  let xrdp: DesktopTarget;
  let vnc: DesktopTarget;
  const targets: Record<string, { id: string; name: string }> = {};

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(120_000);
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    [xrdp, vnc] = await Promise.all([startXrdp(), startVncServer()]);
    alice = await browser.newContext();
    bob = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    sam = await browser.newContext();
    await signInWithSso(await alice.newPage(), "alice");
    await signInWithSso(await bob.newPage(), "bob");
    await signInWithSso(await sam.newPage(), "sam");
    const api = alice.request;
    const rdpLogin = await createCredential(api, { name: named("rdp-login"), kind: "password", username: xrdp.username, secret: xrdp.password });
    // VNC's own authentication has a password only; the credential's username is just its label.
    const vncLogin = await createCredential(api, { name: named("vnc-login"), kind: "password", username: "vnc-viewer", secret: vnc.password });
    const vncWrong = await createCredential(api, { name: named("vnc-wrong"), kind: "password", username: "vnc-viewer", secret: "not-the-password" });
    const add = async (key: string, target: Record<string, unknown>) => {
      const name = named(key);
      targets[key] = { id: await createTarget(api, { name, allowedUsers: ["bob"], ...target }), name };
    };
    await add("rdp", { protocol: "rdp", host: xrdp.host, port: xrdp.port, credentialId: rdpLogin });
    await add("vnc", { protocol: "vnc", host: vnc.host, port: vnc.port, credentialId: vncLogin });
    await add("vnc-wrong", { protocol: "vnc", host: vnc.host, port: vnc.port, credentialId: vncWrong });
  });

  test.afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close(), sam?.close()]);
    await sql?.end();
    await Promise.all([xrdp?.stop(), vnc?.stop()]);
  });

  async function openDesktop(key: string) {
    const page = await bob.newPage();
    await page.goto(`${ssoUrl()}/`);
    await page.getByRole("link", { name: `Connect to ${targets[key]!.name}` }).click();
    await expect(page.getByTestId("desktop-status")).toHaveText("Connected", { timeout: 20_000 });
    const desktop = page.getByTestId("desktop");
    // The remote X session outlives a connection: an earlier test may have left the xterm another colour.
    await page.waitForTimeout(1000);
    await typeIntoXterm(page, paintXterm(blue));
    await expect.poll(() => shareOf(desktop, blue), { timeout: 15_000, message: "the remote xterm shows on the canvas" }).toBeGreaterThan(0.03);
    const [session] = await sql<{ id: string }[]>`select id from sessions where target_name = ${targets[key]!.name} and status <> 'ended' order by started_at desc limit 1`;
    return { page, desktop, sessionId: session!.id };
  }

  test("an RDP desktop: the desktop on the canvas, typing reaches it, the recording replays it", async () => {
    test.setTimeout(120_000);
    const { page, desktop, sessionId } = await openDesktop("rdp");
    await expect(page.getByTestId("recording-indicator")).toBeVisible();
    await typeIntoXterm(page, paintXterm(red));
    await expect.poll(() => shareOf(desktop, red), { timeout: 15_000, message: "the xterm turned red" }).toBeGreaterThan(0.03);

    await page.getByRole("button", { name: "Disconnect" }).click();
    await expect(page.getByTestId("desktop-status")).toHaveText(/^Session closed/);
    await expect.poll(async () => (await sql`select status from sessions where id = ${sessionId}`)[0]?.status).toBe("ended");
    // The credential never reached the browser.
    const [stored] = await sql<{ count: number }[]>`select count(*)::int as count from recording_chunks where session_id = ${sessionId}`;
    expect(stored!.count).toBeGreaterThan(0);

    const review = await alice.newPage();
    // A seek: the window from the last keyframe before the moment, replayed up to it, shows the red xterm.
    await review.goto(`${ssoUrl()}/recordings/${sessionId}?t=3600000`);
    await expect(review.getByTestId("verification")).toContainText("Verified");
    const player = review.getByTestId("desktop-player");
    await expect.poll(() => shareOf(player, red), { timeout: 15_000, message: "seeking to the end shows the xterm turned red" }).toBeGreaterThan(0.02);
    // Playing from the start, faster than real time, reaches the same picture.
    await review.goto(`${ssoUrl()}/recordings/${sessionId}`);
    await expect(review.getByRole("button", { name: "Play" })).toBeEnabled();
    await review.getByLabel("Playback speed").selectOption("8");
    await review.getByRole("button", { name: "Play" }).click();
    await expect.poll(() => shareOf(player, red), { timeout: 30_000, message: "played on, the recording shows the xterm turned red" }).toBeGreaterThan(0.02);
    await expect(review.getByTestId("desktop-player-position")).not.toHaveText(/^0:00 /);
  });

  test("security watches an RDP desktop live, locks it (input dropped, an overlay) and terminates it", async () => {
    test.setTimeout(120_000);
    const { page, desktop, sessionId } = await openDesktop("rdp");
    const security = await sam.newPage();
    await security.goto(`${ssoUrl()}/live/${sessionId}`);
    await expect(security.getByTestId("watch-status")).toHaveText("Watching live");
    const watched = security.getByTestId("watch-desktop");
    await expect.poll(() => shareOf(watched, blue), { timeout: 15_000, message: "the watcher sees the desktop at once" }).toBeGreaterThan(0.02);
    await typeIntoXterm(page, paintXterm(green));
    await expect.poll(() => shareOf(watched, green), { timeout: 15_000, message: "the watcher sees the change live" }).toBeGreaterThan(0.02);

    const who = `bob on ${targets.rdp!.name}`;
    await security.getByRole("button", { name: `Lock ${who}` }).click();
    await security.getByLabel(`Reason to lock ${who}`).fill("unexpected admin tool");
    await security.getByRole("button", { name: "Confirm lock" }).click();
    await expect(page.getByTestId("control-banner")).toHaveText(lockedMessage);
    await typeIntoXterm(page, paintXterm(red));
    await page.waitForTimeout(2000);
    expect(await shareOf(desktop, red), "keys typed while locked never reach the desktop").toBeLessThan(0.005);

    await security.getByRole("button", { name: `Terminate ${who}`, exact: true }).click();
    await security.getByLabel(`Reason to terminate ${who}`).fill("end of the change window");
    await security.getByRole("button", { name: "Confirm terminate" }).click();
    await expect(page.getByTestId("desktop-status")).toHaveText("Session terminated: terminated by sam from security: end of the change window");
    await expect(security.getByTestId("watch-status")).toHaveText("The session ended: terminated by sam from security: end of the change window");
    const audited = await sql`select action from audit_log where object_id = ${sessionId} and action in ('session.lock', 'session.terminate') order by seq`;
    expect(audited.map((row) => row.action)).toEqual(["session.lock", "session.terminate"]);
  });

  test("a VNC desktop: shown, typed into, resized with the window; a wrong password is a clear error", async () => {
    test.setTimeout(90_000);
    const { page, desktop } = await openDesktop("vnc");
    await typeIntoXterm(page, paintXterm(red));
    await expect.poll(() => shareOf(desktop, red), { timeout: 15_000, message: "the xterm turned red" }).toBeGreaterThan(0.03);
    // Guacamole's display element holds the display at the remote screen's own size (then scaled to fit).
    const remoteWidth = () => page.evaluate(() => parseInt((document.querySelector('[data-testid="desktop"]')!.firstElementChild!.firstElementChild as HTMLElement).style.width, 10));
    await page.setViewportSize({ width: 1000, height: 800 });
    const viewWidth = await desktop.evaluate((element) => element.clientWidth);
    expect(viewWidth).toBeLessThan(1000);
    await expect.poll(remoteWidth, { timeout: 15_000, message: "the remote screen follows the window" }).toBe(viewWidth);
    await page.getByRole("button", { name: "Disconnect" }).click();

    const refused = await bob.newPage();
    await refused.goto(`${ssoUrl()}/connect/${targets["vnc-wrong"]!.id}`);
    await expect(refused.getByTestId("desktop-status")).toHaveText(`Could not connect: ${targets["vnc-wrong"]!.name} rejected the stored credential for user vnc-viewer; ask an admin to check it`, { timeout: 20_000 });
  });
});
