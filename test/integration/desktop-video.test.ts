// Desktop recordings rendered to video with Debian's ffmpeg: a stream of Guacamole instructions as the engine
// sends them becomes frames on the recording's own clock, and the file ffmpeg writes shows what the stream drew,
// when it drew it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { encodeInstruction } from "@/lib/protocol/guacamole";
import { desktopPictures, renderDesktopVideo } from "@/server/exports/desktop-video";

const folder = mkdtempSync(path.join(tmpdir(), "gatehouse-video-test-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function png(width: number, height: number, [red, green, blue]: [number, number, number]): string {
  const image = new PNG({ width, height });
  for (let offset = 0; offset < image.data.length; offset += 4) image.data.set([red, green, blue, 255], offset);
  return PNG.sync.write(image).toString("base64");
}

/** What the engine sends for one picture: an image stream on layer 0, its data, its end. */
const picture = (stream: number, x: number, y: number, base64: string) => [encodeInstruction("img", [stream, 14, 0, "image/png", x, y]), encodeInstruction("blob", [stream, base64]), encodeInstruction("end", [stream])].join("");

async function* pieces(text: string) {
  // In odd-sized pieces, as blobs arrive: instructions cut anywhere.
  for (let start = 0; start < text.length; start += 777) yield text.slice(start, start + 777);
}

function pixelAt(file: string, second: number, x: number, y: number) {
  const frame = execFileSync("ffmpeg", ["-v", "error", "-ss", String(second), "-i", file, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], { maxBuffer: 16 * 2 ** 20 });
  const offset = (y * 320 + x) * 3;
  return [frame[offset]!, frame[offset + 1]!, frame[offset + 2]!];
}

const near = (actual: number[], expected: number[]) => actual.every((value, index) => Math.abs(value - expected[index]!) <= 24);

describe("desktop video", () => {
  it("draws each picture at its moment and encodes H.264 of the recording's length", async () => {
    const stream =
      encodeInstruction("size", [0, 320, 240]) +
      picture(1, 0, 0, png(320, 240, [0, 0, 200])) +
      encodeInstruction("sync", [100_000]) +
      picture(2, 40, 40, png(100, 100, [200, 0, 0])) +
      encodeInstruction("sync", [102_000]) +
      encodeInstruction("sync", [104_000]);
    const outputPath = path.join(folder, "a.mp4");
    const shares: number[] = [];
    const result = await renderDesktopVideo(pieces(stream), { durationMs: 5_000, format: "mp4", outputPath, onProgress: (share) => shares.push(share) });
    expect(result).toMatchObject({ width: 320, height: 240 });
    const probe = JSON.parse(execFileSync("ffprobe", ["-v", "error", "-show_streams", "-show_format", "-of", "json", outputPath], { encoding: "utf8" })) as { streams: { codec_name: string }[]; format: { duration: string } };
    expect(probe.streams[0]!.codec_name).toBe("h264");
    expect(Number(probe.format.duration)).toBeCloseTo(5, 0);
    expect(near(pixelAt(outputPath, 1, 80, 80), [0, 0, 200]), "blue before the red square").toBe(true);
    expect(near(pixelAt(outputPath, 3, 80, 80), [200, 0, 0]), "the red square after its moment").toBe(true);
    expect(near(pixelAt(outputPath, 3, 200, 200), [0, 0, 200]), "blue around it").toBe(true);
    expect(shares.at(-1)).toBe(1);
  });

  it("moves what a copy moves, in its frame's order, and shows it only from that frame's moment", async () => {
    // Three bands (red, green, blue rows of 10 px), then a scroll: the bottom two bands move up one band and a
    // new white band is drawn below, as the engine sends a window scrolling.
    const band = (stream: number, y: number, colour: [number, number, number]) => picture(stream, 0, y, png(40, 10, colour));
    const stream =
      encodeInstruction("size", [0, 40, 30]) +
      band(1, 0, [200, 0, 0]) +
      band(2, 10, [0, 200, 0]) +
      band(3, 20, [0, 0, 200]) +
      encodeInstruction("sync", [10_000]) +
      encodeInstruction("copy", [0, 0, 10, 40, 20, 12, 0, 0, 0]) +
      band(4, 20, [255, 255, 255]) +
      encodeInstruction("sync", [11_000]) +
      // Downward too: overlapping rows are read before they are written.
      encodeInstruction("copy", [0, 0, 0, 40, 20, 12, 0, 0, 10]) +
      encodeInstruction("sync", [12_000]);
    const bands: string[][] = [];
    for await (const { pixels, width } of desktopPictures(pieces(stream), { frameMs: 1000, untilMs: 0 }))
      bands.push([0, 10, 20].map((y) => [...pixels.subarray((y + 5) * width * 4, (y + 5) * width * 4 + 3)].join(",")));
    expect(bands).toEqual([
      ["200,0,0", "0,200,0", "0,0,200"],
      ["0,200,0", "0,0,200", "255,255,255"],
      ["0,200,0", "0,200,0", "0,0,200"],
    ]);
  });

  it("writes WebM (VP9) too", async () => {
    const outputPath = path.join(folder, "b.webm");
    await renderDesktopVideo(pieces(encodeInstruction("size", [0, 320, 240]) + picture(1, 0, 0, png(320, 240, [0, 150, 0])) + encodeInstruction("sync", [1])), { durationMs: 1_000, format: "webm", outputPath, onProgress: () => {} });
    expect(execFileSync("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", outputPath], { encoding: "utf8" }).trim()).toBe("vp9");
  });

  it("refuses a stream without a screen, or with a screen it will not allocate", async () => {
    const options = { durationMs: 1_000, format: "mp4" as const, outputPath: path.join(folder, "c.mp4"), onProgress: () => {} };
    await expect(renderDesktopVideo(pieces(encodeInstruction("sync", [1])), options)).rejects.toThrow("the recording holds no screen to render");
    await expect(renderDesktopVideo(pieces(encodeInstruction("size", [0, 100_000, 100_000])), options)).rejects.toThrow("which is not a size this renders");
  });
});
