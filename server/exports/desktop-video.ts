// A desktop recording as a video: the Guacamole stream the engine sent (size, img + blob + end, copy, sync) is drawn
// onto a canvas in memory, a frame taken every 1/fps s of the recording's own clock (its sync timestamps), and
// the frames piped raw into Debian's ffmpeg, which encodes H.264 (MP4) or VP9 (WebM). Memory stays one canvas
// and one image being received, whatever the recording's length.
import { spawn } from "node:child_process";
import { once } from "node:events";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { GuacamoleParser, storedStreamLimits, type GuacInstruction } from "../../lib/protocol/guacamole";

export const videoFramesPerSecond = 5;
/** The largest canvas drawn: a 4K screen. A recording that says more is refused, not allocated. */
const largestSide = 4096;
/** An image larger than this (base64) is dropped rather than held: the engine's are far smaller. */
const largestImageBytes = 32 * 1024 * 1024;

const encoders = {
  mp4: ["-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-pix_fmt", "yuv420p", "-movflags", "+faststart"],
  webm: ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "0", "-crf", "40", "-pix_fmt", "yuv420p"],
} as const;

export type VideoFormat = keyof typeof encoders;

/** How ffmpeg encodes the frames it is given, of any size (yuv420p wants even sides: an odd one is padded). */
export const encoderArguments = (format: VideoFormat) => ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", ...encoders[format]];

class Canvas {
  readonly pixels: Buffer;

  /** An opaque image replaces what is under it: whole rows at a time, clipped to the canvas. */
  private copy(image: DecodedImage, x: number, y: number) {
    const fromColumn = Math.max(0, -x);
    const toColumn = Math.min(image.width, this.width - x);
    if (toColumn <= fromColumn) return;
    for (let row = Math.max(0, -y); row < image.height && y + row < this.height; row++) {
      const source = (row * image.width + fromColumn) * 4;
      this.pixels.set(image.data.subarray(source, source + (toColumn - fromColumn) * 4), ((y + row) * this.width + x + fromColumn) * 4);
    }
  }

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = Buffer.alloc(width * height * 4);
    for (let offset = 3; offset < this.pixels.length; offset += 4) this.pixels[offset] = 255;
  }

  /** Moves a rectangle of the canvas to x, y (Guacamole's copy within the screen), clipped to the canvas. */
  copyWithin(from: { x: number; y: number; width: number; height: number }, x: number, y: number) {
    const left = Math.max(0, -from.x, -x);
    const right = Math.min(from.width, this.width - from.x, this.width - x);
    const top = Math.max(0, -from.y, -y);
    const bottom = Math.min(from.height, this.height - from.y, this.height - y);
    if (right <= left || bottom <= top) return;
    // Rows moving up are copied top down, rows moving down bottom up: overlapping rows are read before written.
    const rows = Array.from({ length: bottom - top }, (_, index) => top + index);
    if (y > from.y) rows.reverse();
    for (const row of rows) {
      const source = ((from.y + row) * this.width + from.x + left) * 4;
      this.pixels.copyWithin(((y + row) * this.width + x + left) * 4, source, source + (right - left) * 4);
    }
  }

  /** Draws RGBA pixels at x, y over what is there (Guacamole's default "over"), clipped to the canvas. */
  draw(image: DecodedImage, x: number, y: number) {
    if (image.opaque) return this.copy(image, x, y);
    for (let row = 0; row < image.height; row++) {
      const targetY = y + row;
      if (targetY < 0 || targetY >= this.height) continue;
      for (let column = 0; column < image.width; column++) {
        const targetX = x + column;
        if (targetX < 0 || targetX >= this.width) continue;
        const from = (row * image.width + column) * 4;
        const to = (targetY * this.width + targetX) * 4;
        const alpha = image.data[from + 3]!;
        if (alpha === 255) {
          this.pixels[to] = image.data[from]!;
          this.pixels[to + 1] = image.data[from + 1]!;
          this.pixels[to + 2] = image.data[from + 2]!;
        } else if (alpha > 0) {
          for (let channel = 0; channel < 3; channel++) this.pixels[to + channel] = Math.round((image.data[from + channel]! * alpha + this.pixels[to + channel]! * (255 - alpha)) / 255);
        }
      }
    }
  }
}

interface DecodedImage {
  width: number;
  height: number;
  data: Uint8Array;
  /** Every pixel's alpha is 255: drawn row by row as a copy. */
  opaque: boolean;
}

function everyPixelOpaque(data: Uint8Array) {
  for (let offset = 3; offset < data.length; offset += 4) if (data[offset] !== 255) return false;
  return true;
}

function decode(mimetype: string, data: Buffer): DecodedImage | null {
  try {
    if (mimetype === "image/png") {
      const png = PNG.sync.read(data);
      return { width: png.width, height: png.height, data: png.data, opaque: everyPixelOpaque(png.data) };
    }
    if (mimetype === "image/jpeg") return { ...jpeg.decode(data, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 }), opaque: true };
  } catch {
    // A broken image is skipped: the next full frame draws over it.
  }
  return null;
}

/** The screen at `atMs` of the recording's own clock: RGBA pixels in one buffer that the next picture draws over. */
export interface DesktopPicture {
  atMs: number;
  width: number;
  height: number;
  pixels: Buffer;
}

/**
 * The screen as the stream shows it every `frameMs` of its own clock (its sync timestamps, from the first), up to
 * `untilMs` and at least a second past the last sync (a session often ends right after its last change). A
 * picture's pixels are only valid until the next one is asked for.
 */
export async function* desktopPictures(stream: AsyncIterable<string>, { frameMs, untilMs }: { frameMs: number; untilMs: number }): AsyncGenerator<DesktopPicture> {
  const parser = new GuacamoleParser(storedStreamLimits);
  let canvas: Canvas | null = null;
  let firstSync: number | null = null;
  let lastSyncMs = 0;
  let frames = 0;
  /** What the frame being read draws, in order: shown when its sync says when. */
  let pending: ({ decoded: DecodedImage; x: number; y: number } | { copy: { x: number; y: number; width: number; height: number }; x: number; y: number })[] = [];
  const drawPending = () => {
    for (const operation of pending) {
      if ("decoded" in operation) canvas?.draw(operation.decoded, operation.x, operation.y);
      else canvas?.copyWithin(operation.copy, operation.x, operation.y);
    }
    pending = [];
  };
  const images = new Map<string, { mimetype: string; x: number; y: number; base64: string[]; size: number; layer: string }>();
  /** The pictures before `timeMs`, each the canvas as it is. */
  function* picturesBefore(timeMs: number): Generator<DesktopPicture> {
    if (!canvas) return;
    for (; frames * frameMs < timeMs; frames++) yield { atMs: frames * frameMs, width: canvas.width, height: canvas.height, pixels: canvas.pixels };
  }

  /** Applies one instruction; at a sync, says when the recording showed what came before it. */
  function apply(instruction: GuacInstruction): number | null {
    const [first, second, third, fourth, fifth] = instruction.args;
    switch (instruction.opcode) {
      case "size":
        if (first === "0" && !canvas) {
          const width = Number(second);
          const height = Number(third);
          if (!(width > 0 && height > 0 && width <= largestSide && height <= largestSide)) throw new Error(`the recording's screen is ${second}×${third}, which is not a size this renders`);
          canvas = new Canvas(width, height);
        }
        break;
      case "img":
        // img stream mask layer mimetype x y
        if (first !== undefined && fourth !== undefined) images.set(first, { mimetype: fourth, layer: third ?? "", x: Number(fifth), y: Number(instruction.args[5]), base64: [], size: 0 });
        break;
      case "blob": {
        const image = first !== undefined ? images.get(first) : undefined;
        if (image && second !== undefined) {
          image.size += second.length;
          if (image.size > largestImageBytes) images.delete(first!);
          else image.base64.push(second);
        }
        break;
      }
      case "end": {
        const image = first !== undefined ? images.get(first) : undefined;
        images.delete(first ?? "");
        // Layer 0 is the screen; the cursor (layer -1) is not part of the picture.
        if (!image || !canvas || image.layer !== "0") break;
        const decoded = decode(image.mimetype, Buffer.from(image.base64.join(""), "base64"));
        // Drawn when its frame's sync says when it was shown: the frames before that show the screen before it.
        if (decoded) pending.push({ decoded, x: image.x, y: image.y });
        // A stream that never says when (no sync) must not pile images up: past a few screens' worth, draw now.
        if (pending.reduce((pixels, held) => pixels + ("decoded" in held ? held.decoded.width * held.decoded.height : 0), 0) > 4 * (canvas as Canvas).width * (canvas as Canvas).height) drawPending();
        break;
      }
      case "copy": {
        // copy srclayer srcx srcy width height mask dstlayer dstx dsty: a part of the screen moved (a scroll).
        const [x, y, width, height] = [second, third, fourth, fifth].map(Number);
        const [toX, toY] = [instruction.args[7], instruction.args[8]].map(Number);
        const numbers = [x, y, width, height, toX, toY];
        if (first === "0" && instruction.args[6] === "0" && numbers.every(Number.isSafeInteger)) pending.push({ copy: { x: x!, y: y!, width: width!, height: height! }, x: toX!, y: toY! });
        if (pending.length > 4096) drawPending();
        break;
      }
      case "sync": {
        const timestamp = Number(first);
        if (!Number.isFinite(timestamp)) break;
        firstSync ??= timestamp;
        lastSyncMs = timestamp - firstSync;
        return lastSyncMs;
      }
    }
    return null;
  }

  for await (const text of stream) {
    for (const instruction of parser.push(text)) {
      const shownAtMs = apply(instruction);
      if (shownAtMs === null) continue;
      yield* picturesBefore(shownAtMs);
      drawPending();
    }
  }
  if (!canvas) throw new Error("the recording holds no screen to render");
  drawPending();
  yield* picturesBefore(Math.max(untilMs, lastSyncMs + 1000));
}

export interface RenderResult {
  frames: number;
  width: number;
  height: number;
}

/**
 * Renders the stream to `outputPath`. `durationMs` is the recording's length (for the last frames and the
 * progress); `onProgress` hears the share done now and then.
 */
export async function renderDesktopVideo(stream: AsyncIterable<string>, options: { durationMs: number; format: VideoFormat; outputPath: string; onProgress(share: number): void }): Promise<RenderResult> {
  const frameMs = 1000 / videoFramesPerSecond;
  let ffmpeg: ReturnType<typeof spawn> | null = null;
  let ffmpegErrors = "";
  let encoderExited: Promise<unknown> = new Promise(() => {});
  let frames = 0;
  let size = { width: 0, height: 0 };

  const startEncoder = async (width: number, height: number) => {
    const encoder = spawn(
      "ffmpeg",
      ["-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgba", "-s", `${width}x${height}`, "-r", String(videoFramesPerSecond), "-i", "-", ...encoderArguments(options.format), "-y", options.outputPath],
      { stdio: ["pipe", "ignore", "pipe"] },
    );
    encoder.stderr!.on("data", (data: Buffer) => (ffmpegErrors = (ffmpegErrors + data.toString()).slice(-2000)));
    encoder.stdin!.on("error", () => {});
    encoderExited = once(encoder, "exit");
    encoderExited.catch(() => undefined);
    // ffmpeg missing is said plainly, not as ENOENT.
    const failedToStart = new Promise<never>((_, reject) => encoder.once("error", (error) => reject(new Error((error as NodeJS.ErrnoException).code === "ENOENT" ? "ffmpeg is not installed on this node (apt-get install ffmpeg)" : error.message))));
    failedToStart.catch(() => undefined);
    await Promise.race([new Promise((resolve) => setImmediate(resolve)), failedToStart]);
    return encoder;
  };

  try {
    for await (const picture of desktopPictures(stream, { frameMs, untilMs: options.durationMs })) {
      if (!ffmpeg) {
        size = { width: picture.width, height: picture.height };
        ffmpeg = await startEncoder(picture.width, picture.height);
      }
      if (!ffmpeg.stdin!.write(picture.pixels)) await Promise.race([once(ffmpeg.stdin!, "drain"), encoderExited]);
      if (ffmpeg.exitCode !== null) throw new Error(`ffmpeg stopped: ${ffmpegErrors.trim() || `exit ${ffmpeg.exitCode}`}`);
      frames += 1;
      if (frames % (videoFramesPerSecond * 10) === 0) options.onProgress(Math.min(1, picture.atMs / Math.max(1, options.durationMs)));
    }
    if (!ffmpeg) throw new Error("the recording holds no screen to render");
    const encoder = ffmpeg as ReturnType<typeof spawn>;
    encoder.stdin!.end();
    const [code] = (encoder.exitCode !== null ? [encoder.exitCode] : await once(encoder, "exit")) as [number | null];
    if (code !== 0) throw new Error(`ffmpeg failed: ${ffmpegErrors.trim() || `exit ${code}`}`);
    options.onProgress(1);
    return { frames, ...size };
  } catch (error) {
    (ffmpeg as ReturnType<typeof spawn> | null)?.kill("SIGKILL");
    throw error;
  }
}
