// A web visit's recording replayed into a video in Debian's Chromium: what the recorded page shows ends up in the
// frames, and nothing the recorded page names is fetched from the gateway's network (an app's page is hostile
// input: it must not make the gateway call anywhere).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PageEvent } from "@/lib/protocol/page-recorder";
import { renderWebVideo } from "@/server/exports/web-video";

const folder = mkdtempSync(path.join(tmpdir(), "gatehouse-web-video-test-"));
let beacon: http.Server;
let hits = 0;
let port = 0;
beforeAll(async () => {
  beacon = http.createServer((_request, response) => {
    hits += 1;
    response.end();
  });
  await new Promise<void>((resolve) => beacon.listen(0, "127.0.0.1", resolve));
  port = (beacon.address() as { port: number }).port;
});
afterAll(() => {
  beacon?.close();
  rmSync(folder, { recursive: true, force: true });
});

function recordedVisit(): PageEvent[] {
  const t0 = Date.now();
  const element = (id: number, tagName: string, attributes: Record<string, string>, childNodes: unknown[] = []) => ({ type: 2, id, tagName, attributes, childNodes });
  const page = {
    type: 0,
    id: 1,
    childNodes: [
      element(2, "html", {}, [
        element(3, "head", {}, [element(8, "link", { rel: "stylesheet", href: `http://127.0.0.1:${port}/style.css` })]),
        element(4, "body", { style: "margin:0;background:#ffffff" }, [
          element(5, "h1", { style: "font-size:120px;color:#000000;margin:40px" }, [{ type: 3, id: 6, textContent: "Quarterly" }]),
          element(7, "img", { src: `http://127.0.0.1:${port}/beacon.png` }),
          element(9, "script", {}, [{ type: 3, id: 10, textContent: `fetch("http://127.0.0.1:${port}/script")` }]),
        ]),
      ]),
    ],
  };
  return [
    { type: 4, data: { href: "http://app.example/report", width: 800, height: 600 }, timestamp: t0 },
    { type: 2, data: { node: page, initialOffset: { left: 0, top: 0 } }, timestamp: t0 + 10 },
    { type: 3, data: { source: 3, id: 1, x: 0, y: 0 }, timestamp: t0 + 2000 },
  ] as unknown as PageEvent[];
}

describe("web visit video", () => {
  it("shows the recorded page and fetches nothing it names", async () => {
    const outputPath = path.join(folder, "visit.mp4");
    const result = await renderWebVideo(recordedVisit(), { format: "mp4", outputPath, browserPath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", onProgress: () => {} });
    expect(result).toMatchObject({ width: 800, height: 600 });
    const frame = execFileSync("ffmpeg", ["-v", "error", "-ss", "1", "-i", outputPath, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"], { maxBuffer: 16 * 2 ** 20 });
    const dark = frame.filter((value) => value < 80).length / frame.length;
    expect(dark, "the heading's text is in the frame").toBeGreaterThan(0.005);
    expect(frame.filter((value) => value > 220).length / frame.length, "on the page's white").toBeGreaterThan(0.5);
    expect(hits, "requests the replayed page made").toBe(0);
  }, 60_000);

  it("says what is missing when the node has no Chromium", async () => {
    await expect(renderWebVideo(recordedVisit(), { format: "mp4", outputPath: path.join(folder, "x.mp4"), browserPath: "/nonexistent/chromium", onProgress: () => {} })).rejects.toThrow("which is not at /nonexistent/chromium on this node");
  });
});
