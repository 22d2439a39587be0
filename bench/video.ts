// npm run bench:video — how fast a desktop recording becomes a video: a synthetic recording of a 1024×768 screen
// where a window moves and its text changes every 200 ms (JPEG and PNG images as the engine sends them), rendered
// by the export's renderer, next to the same run's floor: ffmpeg encoding the same frames handed to it already
// drawn (no parsing, no decoding, no drawing). Figures: seconds of recording rendered per second of work.
// Every phase has a deadline; on one, the phase is named and the figures so far are printed as the JSON line, last.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { encodeInstruction } from "../lib/protocol/guacamole";
import { encoderArguments, renderDesktopVideo, videoFramesPerSecond } from "../server/exports/desktop-video";
import { atEnd, phase, runBenchmark } from "./support";

const seconds = Number(process.env.BENCH_VIDEO_SECONDS ?? 120);
const width = 1024;
const height = 768;

/** One frame's picture: a grey desktop, a window at a place that moves, its stripes shifted by the frame. */
function frame(index: number): Buffer {
  const pixels = Buffer.alloc(width * height * 4);
  const left = (index * 7) % (width - 400);
  const top = (index * 5) % (height - 300);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 4;
      const inside = x >= left && x < left + 400 && y >= top && y < top + 300;
      const value = inside ? ((y + index) % 12 < 2 ? 20 : 235) : 96;
      pixels[offset] = value;
      pixels[offset + 1] = value;
      pixels[offset + 2] = inside ? 255 : value;
      pixels[offset + 3] = 255;
    }
  }
  return pixels;
}

await runBenchmark("video", async (figures) => {
  const folder = mkdtempSync(path.join(tmpdir(), "gatehouse-bench-video-"));
  atEnd(() => rmSync(folder, { recursive: true, force: true }));
  const frames = seconds * videoFramesPerSecond;
  Object.assign(figures, { recordingSeconds: seconds, width, height, framesPerSecond: videoFramesPerSecond });

  const { stream, drawn } = await phase(`making a ${seconds} s recording`, 600_000, async () => {
    const parts: string[] = [encodeInstruction("size", [0, width, height])];
    const drawnFrames: Buffer[] = [];
    for (let index = 0; index < frames; index++) {
      const pixels = frame(index);
      drawnFrames.push(pixels);
      // Every tenth frame whole, as PNG (the engine's lossless keyframes); the others as JPEG.
      const data = index % 10 === 0 ? PNG.sync.write(Object.assign(new PNG({ width, height }), { data: pixels })) : jpeg.encode({ data: pixels, width, height }, 80).data;
      const mimetype = index % 10 === 0 ? "image/png" : "image/jpeg";
      parts.push(encodeInstruction("img", [1, 14, 0, mimetype, 0, 0]), encodeInstruction("blob", [1, Buffer.from(data).toString("base64")]), encodeInstruction("end", [1]), encodeInstruction("sync", [1_000_000 + index * (1000 / videoFramesPerSecond)]));
    }
    return { stream: parts.join(""), drawn: drawnFrames };
  });
  figures.streamMiB = Math.round((stream.length / 2 ** 20) * 10) / 10;

  const floorSeconds = await phase("the floor: ffmpeg encoding frames already drawn", 600_000, async () => {
    const started = performance.now();
    const encoder = spawn("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgba", "-s", `${width}x${height}`, "-r", String(videoFramesPerSecond), "-i", "-", ...encoderArguments("mp4"), "-y", path.join(folder, "floor.mp4")], { stdio: ["pipe", "ignore", "inherit"] });
    for (const pixels of drawn) if (!encoder.stdin.write(pixels)) await once(encoder.stdin, "drain");
    encoder.stdin.end();
    await once(encoder, "exit");
    return (performance.now() - started) / 1000;
  });
  figures.floorSeconds = Math.round(floorSeconds * 10) / 10;

  const renderSeconds = await phase("the export's renderer", 900_000, async () => {
    async function* pieces() {
      for (let start = 0; start < stream.length; start += 64 * 1024) yield stream.slice(start, start + 64 * 1024);
    }
    const started = performance.now();
    await renderDesktopVideo(pieces(), { durationMs: seconds * 1000, format: "mp4", outputPath: path.join(folder, "export.mp4"), onProgress: () => {} });
    return (performance.now() - started) / 1000;
  });
  Object.assign(figures, {
    renderSeconds: Math.round(renderSeconds * 10) / 10,
    recordingSecondsPerSecond: Math.round((seconds / renderSeconds) * 10) / 10,
    floorRecordingSecondsPerSecond: Math.round((seconds / floorSeconds) * 10) / 10,
    exportMiB: Math.round((statSync(path.join(folder, "export.mp4")).size / 2 ** 20) * 100) / 100,
  });
});
