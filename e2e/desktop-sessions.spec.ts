// RDP and VNC desktops in the browser, against Debian's xrdp and Xtigervnc on loopback: a person signs in, opens
// the target, sees the desktop on the canvas, types into the remote xterm and sees the result; security watches,
// locks and terminates; a reviewer replays the recording. The desktop's pixels are checked in screenshots: the
// test xterm has a known background colour, and typed commands change it.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BrowserContext, Locator, Page } from "@playwright/test";
import { PNG } from "pngjs";
import postgres from "postgres";
import { lockedMessage } from "../lib/protocol/live";
import { desktopXterm, startVncServer, startXrdp, type DesktopTarget } from "../test/fixtures/desktop-targets";
import { scrapeSeries } from "../test/fixtures/gateway";
import { issueToken } from "./fixtures/api-tokens";
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

/**
 * The share of a desktop's screen that is drawn, not transparent: its largest canvas (the cursor has its own), within
 * the layer's size (guacamole-common-js makes canvases a multiple of 64 pixels). In a browser a copy with Guacamole's
 * SRC mask (the canvas's "copy") clears the whole layer outside what it copied.
 */
const drawnShare = (page: Page, testId: string) =>
  page.evaluate((id) => {
    const canvases = [...document.querySelectorAll<HTMLCanvasElement>(`[data-testid="${id}"] canvas`)];
    const screen = canvases.sort((one, other) => other.width * other.height - one.width * one.height)[0];
    const width = Math.min(screen?.width ?? 0, parseInt(screen?.parentElement?.style.width ?? "", 10) || Infinity);
    const height = Math.min(screen?.height ?? 0, parseInt(screen?.parentElement?.style.height ?? "", 10) || Infinity);
    if (!screen || width === 0 || height === 0) return 0;
    const pixels = screen.getContext("2d")!.getImageData(0, 0, width, height).data;
    let drawn = 0;
    for (let alpha = 3; alpha < pixels.length; alpha += 4) if (pixels[alpha] === 255) drawn += 1;
    return drawn / (width * height);
  }, testId);

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
    // The engine's thumbnails are for the dashboard: none may reach the user's browser.
    const thumbnailsSeen: string[] = [];
    let copiesSeen = 0;
    page.on("websocket", (socket) =>
      socket.on("framereceived", ({ payload }) => {
        const text = String(payload);
        if (text.includes(".thumbnail,")) thumbnailsSeen.push(text.slice(0, 80));
        if (text.includes("4.copy,")) copiesSeen += 1;
      }),
    );
    await page.goto(`${ssoUrl()}/`);
    await page.getByRole("link", { name: `Connect to ${targets[key]!.name}` }).click();
    await expect(page.getByTestId("desktop-status")).toHaveText("Connected", { timeout: 20_000 });
    const desktop = page.getByTestId("desktop");
    // The remote X session outlives a connection: an earlier test may have left the xterm another colour.
    await page.waitForTimeout(1000);
    await typeIntoXterm(page, paintXterm(blue));
    await expect.poll(() => shareOf(desktop, blue), { timeout: 15_000, message: "the remote xterm shows on the canvas" }).toBeGreaterThan(0.03);
    const [session] = await sql<{ id: string }[]>`select id from sessions where target_name = ${targets[key]!.name} and status <> 'ended' order by started_at desc limit 1`;
    return { page, desktop, sessionId: session!.id, thumbnailsSeen, copiesSeen: () => copiesSeen };
  }

  test("an RDP desktop: the desktop on the canvas, typing reaches it, a scrolling window leaves the rest of the screen, the recording replays it", async () => {
    test.setTimeout(120_000);
    const { page, desktop, sessionId, copiesSeen } = await openDesktop("rdp");
    await expect(page.getByTestId("recording-indicator")).toBeVisible();
    await typeIntoXterm(page, paintXterm(red));
    await expect.poll(() => shareOf(desktop, red), { timeout: 15_000, message: "the xterm turned red" }).toBeGreaterThan(0.03);
    expect(await drawnShare(page, "desktop")).toBeGreaterThan(0.99);
    // The xterm scrolls: the engine sends its rows as a copy of what the browser has, which must move them only.
    await typeIntoXterm(page, "for i in $(seq 1 40); do echo line $i; sleep 0.05; done\n");
    await expect.poll(copiesSeen, { timeout: 15_000, message: "the scrolling came as copies" }).toBeGreaterThan(0);
    await page.waitForTimeout(1000);
    expect(await drawnShare(page, "desktop"), "the screen outside the scrolled window is still drawn").toBeGreaterThan(0.99);

    await page.getByRole("button", { name: "Disconnect" }).click();
    await expect(page.getByTestId("desktop-status")).toHaveText(/^Session closed/);
    await expect.poll(async () => (await sql`select status from sessions where id = ${sessionId}`)[0]?.status).toBe("ended");
    // The gateway timed the desktop's own part of the start (engine, xrdp's login, the first frame) on its /metrics.
    const [node] = await sql<{ internal_url: string }[]>`select internal_url from nodes where name = 'e2e-sso'`;
    const [seconds, count] = await scrapeSeries(node!.internal_url, 'gatehouse_target_first_screen_seconds_sum{protocol="rdp"}', 'gatehouse_target_first_screen_seconds_count{protocol="rdp"}');
    expect(count).toBeGreaterThanOrEqual(1);
    expect(seconds! / count!).toBeGreaterThan(0.05);
    // The credential never reached the browser.
    const [stored] = await sql<{ count: number }[]>`select count(*)::int as count from recording_chunks where session_id = ${sessionId}`;
    expect(stored!.count).toBeGreaterThan(0);

    const review = await alice.newPage();
    // A seek: the window from the last keyframe before the moment, replayed up to it, shows the red xterm.
    await review.goto(`${ssoUrl()}/recordings/${sessionId}?t=3600`);
    await expect(review.getByTestId("verification")).toContainText("Verified");
    const player = review.getByTestId("desktop-player");
    await expect.poll(() => shareOf(player, red), { timeout: 15_000, message: "seeking to the end shows the xterm turned red" }).toBeGreaterThan(0.02);
    expect(await drawnShare(review, "desktop-player"), "the replayed scroll leaves the rest of the screen").toBeGreaterThan(0.99);
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
    const { page, desktop, sessionId, thumbnailsSeen } = await openDesktop("rdp");
    const security = await sam.newPage();
    const who = `bob on ${targets.rdp!.name}`;
    // The dashboard shows the desktop as a small picture, a few times a minute.
    await security.goto(`${ssoUrl()}/live`);
    const thumbnail = security.getByRole("img", { name: new RegExp(`^The screen of ${who} at \\d\\d:\\d\\d:\\d\\d$`) });
    await expect(thumbnail).toBeVisible({ timeout: 15_000 });
    await expect.poll(() => thumbnail.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth)).toBeGreaterThan(0);
    expect(await thumbnail.evaluate((image: HTMLImageElement) => image.naturalWidth)).toBeLessThanOrEqual(320);
    // The first picture may predate the xterm's paint (it is taken as the session starts); the next comes 20 s on.
    await expect.poll(() => shareOf(thumbnail, blue), { timeout: 30_000, message: "the thumbnail shows the blue xterm" }).toBeGreaterThan(0.01);
    const thumbnailUrl = (await thumbnail.getAttribute("src"))!;
    const picture = await sam.request.get(`${ssoUrl()}${thumbnailUrl}`);
    expect(picture.headers()["content-type"]).toBe("image/jpeg");
    expect(picture.headers()["cache-control"]).toBe("private, no-store");
    expect((await picture.body()).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect((await bob.request.get(`${ssoUrl()}${thumbnailUrl}`)).status(), "a plain user sees no one's screen").toBe(403);

    await security.goto(`${ssoUrl()}/live/${sessionId}`);
    await expect(security.getByTestId("watch-status")).toHaveText("Watching live");
    const watched = security.getByTestId("watch-desktop");
    await expect.poll(() => shareOf(watched, blue), { timeout: 15_000, message: "the watcher sees the desktop at once" }).toBeGreaterThan(0.02);
    await typeIntoXterm(page, paintXterm(green));
    await expect.poll(() => shareOf(watched, green), { timeout: 15_000, message: "the watcher sees the change live" }).toBeGreaterThan(0.02);

    await security.getByRole("button", { name: `Lock ${who}` }).click();
    await security.getByLabel(`Reason to lock ${who}`).fill("unexpected admin tool");
    await security.getByRole("button", { name: "Confirm lock" }).click();
    await expect(page.getByTestId("control-banner")).toHaveText(lockedMessage);
    await typeIntoXterm(page, paintXterm(red));
    await page.waitForTimeout(2000);
    expect(await shareOf(desktop, red), "keys typed while locked never reach the desktop").toBeLessThan(0.005);
    // A later thumbnail shows the change.
    const dashboard = await sam.newPage();
    await dashboard.goto(`${ssoUrl()}/live`);
    await expect
      .poll(() => shareOf(dashboard.getByRole("img", { name: new RegExp(`^The screen of ${who}`) }), green), { timeout: 30_000, message: "the dashboard's thumbnail turned green" })
      .toBeGreaterThan(0.01);
    await dashboard.close();
    expect(thumbnailsSeen).toEqual([]);

    await security.getByRole("button", { name: `Terminate ${who}`, exact: true }).click();
    await security.getByLabel(`Reason to terminate ${who}`).fill("end of the change window");
    await security.getByRole("button", { name: "Confirm terminate" }).click();
    await expect(page.getByTestId("desktop-status")).toHaveText("Session terminated: terminated by sam from security: end of the change window");
    await expect(security.getByTestId("watch-status")).toHaveText("The session ended: terminated by sam from security: end of the change window");
    // The control is audited once the node that ran it has answered, a moment after the user was told.
    await expect
      .poll(async () => (await sql`select action from audit_log where object_id = ${sessionId} and action in ('session.lock', 'session.terminate') order by seq`).map((row) => row.action))
      .toEqual(["session.lock", "session.terminate"]);
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

  test("the desktop player skips a still stretch, and lists its keyboard shortcuts", async () => {
    test.setTimeout(120_000);
    const { page, desktop, sessionId } = await openDesktop("vnc");
    // Twelve seconds where nothing on the screen changes, then the xterm turns red.
    await page.waitForTimeout(12_000);
    await typeIntoXterm(page, paintXterm(red));
    await expect.poll(() => shareOf(desktop, red), { timeout: 15_000, message: "the xterm turned red" }).toBeGreaterThan(0.03);
    await page.getByRole("button", { name: "Disconnect" }).click();
    await expect.poll(async () => (await sql`select status from sessions where id = ${sessionId}`)[0]?.status).toBe("ended");

    // The download is Guacamole's own instruction stream, named for it: what its recording player reads.
    const download = await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/export`);
    expect(download.headers()["content-disposition"]).toBe(`attachment; filename="gatehouse-${sessionId}.guac"`);
    const stream = await download.text();
    expect(stream).toMatch(/^\d+\.[a-z]+[,;]/);
    expect(stream).toContain("4.sync,");
    expect(stream.endsWith(";")).toBe(true);

    const review = await alice.newPage();
    await review.goto(`${ssoUrl()}/recordings/${sessionId}`);
    const player = review.getByTestId("desktop-player");
    await expect(review.getByRole("button", { name: "Play" })).toBeEnabled();
    await expect(review.getByLabel("Skip idle")).toBeChecked();
    // At 1×: the still stretch plays as a second, so the red shows well before the 12 s it lasted.
    await review.getByRole("button", { name: "Play" }).click();
    await expect.poll(() => shareOf(player, red), { timeout: 8_000, message: "skipping the still stretch, the red xterm shows" }).toBeGreaterThan(0.02);

    // The keys: ? lists them, Space pauses.
    await player.click();
    await review.keyboard.press("?");
    await expect(review.getByRole("dialog", { name: "Keyboard shortcuts" })).toContainText("Spaceplay or pause");
    await review.keyboard.press("?");
    await expect(review.getByRole("dialog", { name: "Keyboard shortcuts" })).toHaveCount(0);
    if (await review.getByRole("button", { name: "Pause" }).isVisible()) await review.keyboard.press(" ");
    await expect(review.getByRole("button", { name: "Play" })).toBeVisible();
    for (let back = 0; back < 8; back++) await review.keyboard.press("ArrowLeft");
    await expect(review.getByTestId("desktop-player-position")).toHaveText(/^0:00 /);
    await review.keyboard.press(" ");
    await expect(review.getByRole("button", { name: "Pause" })).toBeVisible();
    await review.keyboard.press(" ");
    await expect(review.getByRole("button", { name: "Play" })).toBeVisible();

    // A drag of the slider: the window of a moment passed over may come after the one where the drag ends, and
    // must not replace it. The still stretch's window is held back 2 s; the red end is already loaded.
    const slider = review.getByLabel("Position in the recording");
    const slideTo = (...moments: number[]) =>
      slider.evaluate((input: HTMLInputElement, values) => {
        for (const value of values) {
          Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")!.set!.call(input, String(value));
          input.dispatchEvent(new Event("input", { bubbles: true }));
        }
      }, moments);
    const end = Number(await slider.getAttribute("max"));
    await slideTo(end);
    await expect.poll(() => shareOf(player, red), { timeout: 15_000, message: "at the end, the red xterm" }).toBeGreaterThan(0.02);
    await review.route(/\/desktop\?at=\d+$/, async (route) => {
      if (Number(new URL(route.request().url()).searchParams.get("at")) < 5_000) await new Promise((resolve) => setTimeout(resolve, 2_000));
      await route.continue();
    });
    const lateWindow = review.waitForResponse(/\/desktop\?at=0$/);
    await slideTo(0, end);
    await lateWindow;
    // Time for the late window to be parsed and drawn, were it let in.
    await review.waitForTimeout(1_500);
    expect(await shareOf(player, red), "the drag ended at the red end, and the picture stays there").toBeGreaterThan(0.02);
    await expect(review.getByTestId("desktop-player-position")).not.toHaveText(/^0:00 /);
    await review.unrouteAll();

    // A video, rendered in the background by the job queue with ffmpeg: progress shown, then a real MP4 whose
    // last second shows the red xterm, its requester told, its signature given.
    await review.getByRole("button", { name: "Make an MP4 video" }).click();
    const exports = review.getByRole("list", { name: "Video exports" });
    await expect(exports.getByRole("link", { name: /^Download \(/ })).toBeVisible({ timeout: 60_000 });
    const [video] = await sql<{ id: string; bytes: number }[]>`select id, bytes::int as bytes from video_exports where session_id = ${sessionId} and status = 'ready'`;
    const file = path.join(mkdtempSync(path.join(tmpdir(), "gatehouse-video-")), "export.mp4");
    writeFileSync(file, await (await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/video-exports/${video!.id}/file`)).body());
    const probe = JSON.parse(execFileSync("ffprobe", ["-v", "error", "-show_streams", "-show_format", "-of", "json", file], { encoding: "utf8" })) as { streams: { codec_name: string }[]; format: { duration: string } };
    expect(probe.streams[0]).toMatchObject({ codec_name: "h264" });
    expect(Number(probe.format.duration)).toBeGreaterThan(12);
    const lastFrame = execFileSync("ffmpeg", ["-v", "error", "-sseof", "-1", "-i", file, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], { maxBuffer: 64 * 2 ** 20 });
    let reddish = 0;
    for (let offset = 0; offset < lastFrame.length; offset += 3) if (Math.abs(lastFrame[offset]! - red[0]) + Math.abs(lastFrame[offset + 1]! - red[1]) + Math.abs(lastFrame[offset + 2]! - red[2]) <= 40) reddish += 1;
    expect(reddish / (lastFrame.length / 3), "the video's last second shows the red xterm").toBeGreaterThan(0.02);
    expect((await sql`select count(*)::int as n from notifications where kind = 'export.ready' and payload->>'exportId' = ${video!.id}`)[0]!.n).toBe(1);
    const signature = await (await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/video-exports/${video!.id}/signature`)).json();
    expect(signature).toMatchObject({ sessionId, bytes: video!.bytes, sha256: createHash("sha256").update(readFileSync(file)).digest("hex") });
    // The command line asks for one too, shows it rendering, saves it with its signature, and checks the pair.
    const secret = await issueToken(review, `video-${run}`, ["recordings:read"]);
    const env = { ...process.env, GATEHOUSE_URL: ssoUrl(), GATEHOUSE_TOKEN: secret };
    const webm = path.join(path.dirname(file), "export.webm");
    execFileSync(process.execPath, [path.resolve("cli/gatehouse.mjs"), "recordings", "export", sessionId, "--video", "webm", "--file", webm], { env, timeout: 120_000, stdio: "ignore" });
    expect(execFileSync("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", webm], { encoding: "utf8" }).trim()).toBe("vp9");
    expect(execFileSync(process.execPath, [path.resolve("cli/gatehouse.mjs"), "recordings", "verify", "--file", webm], { env, encoding: "utf8" })).toContain(`verified: ${webm} is the export of session ${sessionId}`);
    await review.close();
  });
  test("clipboard rules: a large paste is held at the gateway and dropped, a small one goes through; a copy out of the desktop is measured and alerted", async () => {
    test.setTimeout(120_000);
    const rules: string[] = [];
    const addRule = async (rule: Record<string, unknown>) => {
      const response = await alice.request.post(`${ssoUrl()}/api/admin/command-rules`, { headers: { origin: ssoUrl() }, data: { kind: "clipboard", severity: "high", targetNames: [targets.rdp!.name], ...rule } });
      expect(response.status(), await response.text()).toBe(200);
      rules.push(((await response.json()) as { id: string }).id);
    };
    try {
      await addRule({ name: named("big pastes"), pattern: "paste >= 1k", action: "block", testMatch: ["paste 1024"], testNoMatch: ["paste 1023", "copy 5000"] });
      await addRule({ name: named("copies out"), pattern: "copy >= 10", action: "alert", severity: "medium" });
      const { page, desktop, sessionId } = await openDesktop("rdp");
      await page.getByRole("button", { name: "Clipboard" }).click();
      const paste = async (text: string) => {
        await page.getByLabel("Clipboard text").fill(text);
        await page.getByRole("button", { name: "Send to the desktop" }).click();
      };
      // Pasted into the xterm with Shift+Insert (then Return, after the text has come), a command that paints it:
      // only the small paste may arrive.
      const pasteIntoXterm = async () => {
        await typeIntoXterm(page, "");
        await page.keyboard.press("Shift+Insert");
        await page.waitForTimeout(1500);
        await page.keyboard.press("Enter");
      };
      await paste(`${paintXterm(red).trimEnd()} # ${"x".repeat(1100)}`);
      await expect(page.getByTestId("policy-banner")).toContainText(`Not done: the command policy does not allow a paste of`);
      await pasteIntoXterm();
      await page.waitForTimeout(1500);
      expect(await shareOf(desktop, red), "the dropped paste never reached the desktop").toBeLessThan(0.005);
      await paste(paintXterm(green).trimEnd());
      // The desktop owns the text only once its clipboard has announced it, which takes a moment on a busy
      // machine: an early Shift+Insert pastes nothing. Each try starts from an empty command line.
      await expect(async () => {
        await typeIntoXterm(page, "");
        await page.keyboard.press("Control+u");
        await pasteIntoXterm();
        await expect.poll(() => shareOf(desktop, green), { timeout: 5_000 }).toBeGreaterThan(0.03);
      }, "the small paste reached the desktop").toPass({ timeout: 40_000 });

      // Copied on the desktop (OSC 52 puts text on its clipboard): it reaches the panel, measured on its way.
      const copied = `copied-${run}-out-of-the-desktop`;
      await typeIntoXterm(page, `printf '\\033]52;c;${Buffer.from(copied).toString("base64")}\\007'\n`);
      await expect(page.getByLabel("Clipboard text")).toHaveValue(copied, { timeout: 15_000 });
      await expect
        .poll(async () => (await sql`select rule_name, outcome, subject from risk_events where session_id = ${sessionId} order by id`).map((event) => `${event.rule_name}: ${event.outcome}: ${event.subject}`))
        .toEqual(expect.arrayContaining([`${named("big pastes")}: blocked: a paste of ${paintXterm(red).trimEnd().length + 3 + 1100} bytes into the desktop`, `${named("copies out")}: alerted: a copy of ${copied.length} bytes out of the desktop`]));
    } finally {
      for (const id of rules) await alice.request.delete(`${ssoUrl()}/api/admin/command-rules/${id}`, { headers: { origin: ssoUrl() } });
    }
  });
});
