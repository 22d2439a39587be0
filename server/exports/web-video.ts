// A web visit's recording as a video: its rrweb events replayed by rrweb's own Replayer in Debian's Chromium,
// headless, a screenshot taken every 1/fps s of the recording's clock and piped as JPEG into ffmpeg. The replayed
// page is the recorded DOM, which the app wrote: Chromium refuses every request it makes, runs in its sandbox
// (unless the gateway runs as root), and rrweb replays into a sandboxed frame that runs no script.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium } from "playwright-core";
import type { PageEvent } from "../../lib/protocol/page-recorder";
import { encoderArguments, videoFramesPerSecond, type RenderResult, type VideoFormat } from "./desktop-video";

const largestSide = 4096;
const require = createRequire(import.meta.url);

/** The page's size as its first page load recorded it (rrweb's meta event). */
function viewportOf(events: PageEvent[]) {
  const meta = events.find((event) => event.type === 4) as { data?: { width?: unknown; height?: unknown } } | undefined;
  const width = Math.round(Number(meta?.data?.width));
  const height = Math.round(Number(meta?.data?.height));
  if (!(width > 0 && height > 0)) throw new Error("the recording holds no page load to replay");
  return { width: Math.min(width, largestSide), height: Math.min(height, largestSide) };
}

export async function renderWebVideo(events: PageEvent[], options: { format: VideoFormat; outputPath: string; browserPath: string; onProgress(share: number): void }): Promise<RenderResult> {
  if (!existsSync(options.browserPath)) throw new Error(`a web visit's video is replayed in Chromium, which is not at ${options.browserPath} on this node (apt-get install chromium, or set CHROMIUM_PATH)`);
  const viewport = viewportOf(events);
  const startedAt = events[0]!.timestamp;
  const durationMs = Math.max(1000, events.at(-1)!.timestamp - startedAt);
  const browser = await chromium.launch({
    executablePath: options.browserPath,
    chromiumSandbox: process.getuid?.() !== 0,
    args: ["--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"],
  });
  let ffmpeg: ReturnType<typeof spawn> | null = null;
  try {
    const context = await browser.newContext({ viewport, javaScriptEnabled: true, serviceWorkers: "block" });
    // Nothing the recorded page names is fetched: not the app, not the internet.
    await context.route("**/*", (route) => route.abort());
    const page = await context.newPage();
    await page.setContent("<!doctype html><html><head><style>html,body{margin:0;background:#fff;overflow:hidden}.replayer-mouse{display:none}</style></head><body></body></html>");
    // rrweb's browser build, beside the build its package exports.
    await page.addScriptTag({ path: path.join(path.dirname(require.resolve("rrweb")), "rrweb.umd.cjs") });
    await page.addStyleTag({ path: require.resolve("rrweb/dist/style.css") });
    await page.evaluate((recorded) => {
      const replay = globalThis as unknown as { rrweb: { Replayer: new (events: unknown[], config: object) => { pause(timeOffset: number): void } }; replayer: unknown };
      const replayer = new replay.rrweb.Replayer(recorded, { root: document.body, mouseTail: false, showWarning: false, skipInactive: false, triggerFocus: false });
      replayer.pause(0);
      replay.replayer = replayer;
    }, events as unknown[]);

    const encoder = spawn("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "image2pipe", "-c:v", "mjpeg", "-framerate", String(videoFramesPerSecond), "-i", "-", ...encoderArguments(options.format), "-y", options.outputPath], { stdio: ["pipe", "ignore", "pipe"] });
    ffmpeg = encoder;
    let ffmpegErrors = "";
    encoder.stderr!.on("data", (data: Buffer) => (ffmpegErrors = (ffmpegErrors + data.toString()).slice(-2000)));
    encoder.stdin!.on("error", () => {});
    const exited = once(encoder, "exit");
    const failedToStart = new Promise<never>((_, reject) => encoder.once("error", (error) => reject(new Error((error as NodeJS.ErrnoException).code === "ENOENT" ? "ffmpeg is not installed on this node (apt-get install ffmpeg)" : error.message))));
    failedToStart.catch(() => undefined);

    const frameMs = 1000 / videoFramesPerSecond;
    let frames = 0;
    for (let atMs = 0; atMs <= durationMs; atMs += frameMs) {
      await page.evaluate((offset) => (globalThis as unknown as { replayer: { pause(timeOffset: number): void } }).replayer.pause(offset), atMs);
      const picture = await page.screenshot({ type: "jpeg", quality: 85, clip: { x: 0, y: 0, ...viewport } });
      if (!encoder.stdin!.write(picture)) await Promise.race([once(encoder.stdin!, "drain"), exited, failedToStart]);
      if (encoder.exitCode !== null) throw new Error(`ffmpeg stopped: ${ffmpegErrors.trim() || `exit ${encoder.exitCode}`}`);
      frames += 1;
      if (frames % (videoFramesPerSecond * 10) === 0) options.onProgress(Math.min(1, atMs / durationMs));
    }
    encoder.stdin!.end();
    const [code] = (encoder.exitCode !== null ? [encoder.exitCode] : await Promise.race([exited, failedToStart])) as [number | null];
    if (code !== 0) throw new Error(`ffmpeg failed: ${ffmpegErrors.trim() || `exit ${code}`}`);
    options.onProgress(1);
    return { frames, ...viewport };
  } catch (error) {
    ffmpeg?.kill("SIGKILL");
    throw error;
  } finally {
    await browser.close();
  }
}
