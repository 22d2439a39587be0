// Dropping overdrawn images from the frames a seek replays: an image goes only where later drawing hides all of
// it before anything reads the pixels underneath; frames, their timing and everything else stay.
import { crc32, deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { condenseFrames, condenseLead, withoutOverdrawn, withoutScreenDrawing } from "@/lib/player/guacamole-overdraw";
import { desktopPictures } from "@/server/exports/desktop-video";
import { encodeInstruction, GuacamoleParser, type GuacInstruction } from "@/lib/protocol/guacamole";

function pngChunk(type: string, data: Buffer) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real PNG of one colour: RGB (opaque), RGBA, RGB with a transparent colour (tRNS), or a palette (with or without). */
function png(width: number, height: number, kind: "rgb" | "rgba" | "rgb+trns" | "palette" | "palette+trns" = "rgb") {
  const palette = kind.startsWith("palette");
  const channels = kind === "rgba" ? 4 : palette ? 1 : 3;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = kind === "rgba" ? 6 : palette ? 3 : 2;
  const rows = Buffer.alloc((width * channels + 1) * height, palette ? 0 : 0x40);
  for (let row = 0; row < height; row++) rows[row * (width * channels + 1)] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    ...(palette ? [pngChunk("PLTE", Buffer.from([0x40, 0x40, 0x40]))] : []),
    ...(kind === "rgb+trns" ? [pngChunk("tRNS", Buffer.from([0, 0x40, 0, 0x40, 0, 0x40]))] : []),
    ...(kind === "palette+trns" ? [pngChunk("tRNS", Buffer.from([0x80]))] : []),
    pngChunk("IDAT", deflateSync(rows)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The start of a baseline JPEG: SOI, a JFIF APP0 segment, then the frame header with its size. */
function jpeg(width: number, height: number) {
  const app0 = Buffer.from([0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const sof0 = Buffer.from([0xff, 0xc0, 0, 17, 8, height >> 8, height & 255, width >> 8, width & 255, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof0, Buffer.alloc(64, 0)]);
}

let nextStream = 1;
/** An image stream as the engine sends it: img, its data in blobs of at most 6 KiB of base64, end. */
function image(data: Buffer, at: { x: number; y: number; layer?: number; mask?: number; mimetype?: string }): GuacInstruction[] {
  const stream = String(nextStream++);
  const base64 = data.toString("base64");
  const blobs: GuacInstruction[] = [];
  for (let offset = 0; offset < base64.length; offset += 6144) blobs.push({ opcode: "blob", args: [stream, base64.slice(offset, offset + 6144)] });
  return [{ opcode: "img", args: [stream, String(at.mask ?? 14), String(at.layer ?? 0), at.mimetype ?? "image/png", String(at.x), String(at.y)] }, ...blobs, { opcode: "end", args: [stream] }];
}

const sync = (ms: number): GuacInstruction => ({ opcode: "sync", args: [String(ms)] });
/** The image streams left, by their first blob's stream number. */
const streamsLeft = (instructions: GuacInstruction[]) => instructions.filter(({ opcode }) => opcode === "img").map(({ args }) => args[0]);

describe("overdrawn images", () => {
  it("drops an image that a later opaque image covers, and keeps every frame", () => {
    const first = image(png(100, 50), { x: 10, y: 10 });
    const second = image(png(120, 60), { x: 0, y: 0 });
    const result = withoutOverdrawn([...first, sync(1), ...second, sync(2)]);
    expect(streamsLeft(result)).toEqual([second[0]!.args[0]]);
    expect(result.filter(({ opcode }) => opcode === "sync")).toHaveLength(2);
    expect(result.some(({ opcode, args }) => opcode === "blob" && args[0] === first[0]!.args[0])).toBe(false);
  });

  it("counts several later images together, JPEGs and palette PNGs included", () => {
    const under = image(png(200, 100), { x: 0, y: 0 });
    const left = image(jpeg(100, 100), { x: 0, y: 0, mimetype: "image/jpeg" });
    const right = image(png(100, 100, "palette"), { x: 100, y: 0 });
    expect(streamsLeft(withoutOverdrawn([...under, sync(1), ...left, ...right, sync(2)]))).toEqual([left[0]!.args[0], right[0]!.args[0]]);
  });

  it("keeps what is only partly covered, or covered by something see-through", () => {
    const under = image(png(100, 100), { x: 0, y: 0 });
    const partly = image(png(100, 99), { x: 0, y: 0 });
    expect(streamsLeft(withoutOverdrawn([...under, ...partly, sync(1)]))).toHaveLength(2);
    for (const seeThrough of [png(100, 100, "rgba"), png(100, 100, "rgb+trns"), png(100, 100, "palette+trns")]) {
      expect(streamsLeft(withoutOverdrawn([...under, ...image(seeThrough, { x: 0, y: 0 }), sync(1)]))).toHaveLength(2);
    }
    // A see-through image drawn with SRC replaces what is under it all the same.
    expect(streamsLeft(withoutOverdrawn([...under, ...image(png(100, 100, "rgba"), { x: 0, y: 0, mask: 12 }), sync(1)]))).toHaveLength(1);
    // Drawing with SRC stays however hidden it is: a browser clears the rest of its layer with it.
    const source = image(png(50, 50), { x: 0, y: 0, mask: 12 });
    expect(streamsLeft(withoutOverdrawn([...source, ...image(png(100, 100), { x: 0, y: 0 }), sync(1)]))).toHaveLength(2);
    const sourceCopy = { opcode: "copy", args: ["0", "0", "10", "100", "90", "12", "0", "0", "0"] };
    expect(withoutOverdrawn([sourceCopy, ...image(png(100, 100), { x: 0, y: 0 }), sync(1)]).filter(({ opcode }) => opcode === "copy")).toHaveLength(1);
  });

  it("keeps an image whose pixels are read before they are covered, and images on other layers", () => {
    const under = image(png(100, 100), { x: 0, y: 0 });
    const over = image(png(100, 100), { x: 0, y: 0 });
    const copy = { opcode: "copy", args: ["0", "0", "0", "50", "50", "14", "1", "0", "0"] };
    expect(streamsLeft(withoutOverdrawn([...under, copy, ...over, sync(1)]))).toHaveLength(2);
    const cursor = { opcode: "cursor", args: ["0", "0", "0", "0", "0", "16", "16"] };
    expect(streamsLeft(withoutOverdrawn([...under, cursor, ...over, sync(1)]))).toHaveLength(2);
    const resize = { opcode: "size", args: ["0", "800", "600"] };
    expect(streamsLeft(withoutOverdrawn([...under, resize, ...over, sync(1)]))).toHaveLength(2);
    const unknown = { opcode: "video", args: ["9", "0", "video/webm"] };
    expect(streamsLeft(withoutOverdrawn([...under, unknown, ...over, sync(1)]))).toHaveLength(2);
    expect(streamsLeft(withoutOverdrawn([...under, ...image(png(100, 100), { x: 0, y: 0, layer: 1 }), sync(1)]))).toHaveLength(2);
    // Reading another layer does not matter to this one.
    const copyFromBuffer = { opcode: "copy", args: ["-1", "0", "0", "50", "50", "14", "1", "0", "0"] };
    expect(streamsLeft(withoutOverdrawn([...under, copyFromBuffer, ...over, sync(1)]))).toHaveLength(1);
  });

  it("drops a scrolled screen that a later whole screen hides, copies and all, and keeps what a shown copy reads", () => {
    // Scrolling as the engine sends it: the screen moved up ten rows (OVER), then the new rows.
    const scroll = { opcode: "copy", args: ["0", "0", "10", "100", "90", "14", "0", "0", "0"] };
    const rows = () => image(png(100, 10), { x: 0, y: 90 });
    const [firstScreen, firstRows, laterScreen, laterRows] = [image(png(100, 100), { x: 0, y: 0 }), rows(), image(png(100, 100), { x: 0, y: 0 }), rows()];
    const result = withoutOverdrawn([...firstScreen, sync(1), scroll, ...firstRows, sync(2), ...laterScreen, sync(3), scroll, ...laterRows, sync(4)]);
    expect(streamsLeft(result)).toEqual([laterScreen[0]!.args[0], laterRows[0]!.args[0]]);
    expect(result.filter(({ opcode }) => opcode === "copy")).toHaveLength(1);
    expect(result.findIndex(({ opcode }) => opcode === "copy")).toBeGreaterThan(result.findIndex(({ opcode, args }) => opcode === "end" && args[0] === laterScreen[0]!.args[0]));
    // The rows a shown copy moves up stay, though the place they were drawn is drawn again.
    const moved = rows();
    expect(streamsLeft(withoutOverdrawn([...moved, sync(1), scroll, ...rows(), sync(2)]))).toContain(moved[0]!.args[0]);
    // A copy whose rectangles are not numbers reads and writes who knows where.
    const odd = { opcode: "copy", args: ["0", "0", "ten", "100", "90", "12", "0", "0", "0"] };
    expect(streamsLeft(withoutOverdrawn([...image(png(100, 100), { x: 0, y: 0 }), odd, ...image(png(100, 100), { x: 0, y: 0 }), sync(1)]))).toHaveLength(2);
  });

  it("drops colour fills of rectangles that later drawing hides, and images that opaque fills hide", () => {
    const rect = (x: number, y: number, width: number, height: number, layer = 0): GuacInstruction => ({ opcode: "rect", args: [String(layer), String(x), String(y), String(width), String(height)] });
    const cfill = (mask: number, alpha: number, layer = 0): GuacInstruction => ({ opcode: "cfill", args: [String(mask), String(layer), "255", "255", "255", String(alpha)] });
    const fillsLeft = (instructions: GuacInstruction[]) => instructions.filter(({ opcode }) => opcode === "cfill").length;
    // Two cells of a strip, painted again in the next frame: the first frame's fill and its rects go.
    const strip = () => [rect(0, 0, 10, 10), rect(20, 0, 10, 10), cfill(14, 255)];
    const twice = withoutOverdrawn([...strip(), sync(1), ...strip(), sync(2)]);
    expect(fillsLeft(twice)).toBe(1);
    expect(twice.filter(({ opcode }) => opcode === "rect")).toHaveLength(2);
    // Hidden by a later image; kept when one of its rectangles still shows.
    expect(fillsLeft(withoutOverdrawn([...strip(), ...image(png(30, 10), { x: 0, y: 0 }), sync(1)]))).toBe(0);
    expect(fillsLeft(withoutOverdrawn([...strip(), ...image(png(20, 10), { x: 0, y: 0 }), sync(1)]))).toBe(1);
    // An opaque fill hides the image under it; a see-through one does not.
    const under = image(png(30, 10), { x: 0, y: 0 });
    expect(streamsLeft(withoutOverdrawn([...under, rect(0, 0, 30, 10), cfill(14, 255), sync(1)]))).toEqual([]);
    expect(streamsLeft(withoutOverdrawn([...under, rect(0, 0, 30, 10), cfill(14, 128), sync(1)]))).toHaveLength(1);
    // SRC clears the rest of the layer in a browser: such a fill hides what is under it but is never dropped itself.
    expect(streamsLeft(withoutOverdrawn([...under, rect(0, 0, 30, 10), cfill(12, 0), sync(1)]))).toEqual([]);
    expect(fillsLeft(withoutOverdrawn([rect(0, 0, 30, 10), cfill(12, 255), ...image(png(30, 10), { x: 0, y: 0 }), sync(1)]))).toBe(1);
    // A path with more than rectangles in it, on a transformed layer, or spread over a resize is kept.
    const hidden = image(png(40, 40), { x: 0, y: 0 });
    const line = { opcode: "line", args: ["0", "5", "5"] };
    expect(fillsLeft(withoutOverdrawn([rect(0, 0, 10, 10), line, cfill(14, 255), ...hidden, sync(1)]))).toBe(1);
    const transform = { opcode: "transform", args: ["0", "2", "0", "0", "2", "0", "0"] };
    expect(fillsLeft(withoutOverdrawn([transform, rect(0, 0, 10, 10), cfill(14, 255), ...hidden, sync(1)]))).toBe(1);
    const resize = { opcode: "size", args: ["0", "800", "600"] };
    expect(fillsLeft(withoutOverdrawn([rect(0, 0, 10, 10), resize, cfill(14, 255), ...image(png(800, 600), { x: 0, y: 0 }), sync(1)]))).toBe(1);
    // Paths are per layer: a rect on another layer between them does not join this one's path.
    const interleaved = withoutOverdrawn([rect(0, 0, 10, 10), rect(50, 50, 10, 10, 1), cfill(14, 255), cfill(14, 255, 1), ...hidden, sync(1)]);
    expect(interleaved.map(({ opcode, args }) => `${opcode} ${args[0]}`)).toEqual(["rect 1", "cfill 14", ...hidden.map(({ opcode, args }) => `${opcode} ${args[0]}`), "sync 1"]);
  });

  it("asks each question of at most 256 rectangles a layer: a screen of many small fills stays cheap to condense", () => {
    const cell = (index: number): GuacInstruction[] => [
      { opcode: "rect", args: ["0", String((index % 100) * 10), String(Math.floor(index / 100) * 10), "10", "10"] },
      { opcode: "cfill", args: ["14", "0", "0", "0", "0", "255"] },
    ];
    const cells = Array.from({ length: 300 }, (_, index) => index);
    // The same 300 cells painted twice: the later 300 hide the earlier, but only the latest 256 are remembered.
    const result = withoutOverdrawn([...cells.flatMap(cell), ...cells.flatMap(cell), sync(1)]);
    expect(result.filter(({ opcode }) => opcode === "cfill")).toHaveLength(300 + 44);
  });

  it("leaves the screen as it was in 150 random streams of images and scrolling, as the video renderer draws them", async () => {
    let seed = 22;
    const random = (below: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * below);
    };
    const [width, height] = [48, 32];
    /** An opaque PNG whose every pixel differs from its neighbours, so a misplaced copy shows. */
    const patterned = (w: number, h: number, tint: number) => {
      const header = Buffer.alloc(13);
      header.writeUInt32BE(w, 0);
      header.writeUInt32BE(h, 4);
      header[8] = 8;
      header[9] = 2;
      const rows = Buffer.alloc((w * 3 + 1) * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rows.set([(x * 5 + tint) & 255, (y * 7 + tint) & 255, (x * y + tint) & 255], y * (w * 3 + 1) + 1 + x * 3);
      return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk("IHDR", header), pngChunk("IDAT", deflateSync(rows)), pngChunk("IEND", Buffer.alloc(0))]);
    };
    const lastPicture = async (stream: string) => {
      let pixels: Buffer | null = null;
      const once = (async function* () {
        yield stream;
      })();
      for await (const picture of desktopPictures(once, { frameMs: 1000, untilMs: 0 })) pixels = Buffer.from(picture.pixels);
      return pixels!;
    };
    const encode = (instructions: GuacInstruction[]) => instructions.map(({ opcode, args }) => encodeInstruction(opcode, args)).join("");
    let droppedSomewhere = 0;
    for (let run = 0; run < 150; run++) {
      const stream: GuacInstruction[] = [{ opcode: "size", args: ["0", String(width), String(height)] }];
      for (let frame = 0; frame < 12; frame++) {
        for (let step = random(3) + 1; step > 0; step--) {
          if (random(3) === 0) {
            // A scroll by some rows, up or down, of some columns: OVER as the engine and guacd send them, or SRC.
            const [x, w, rows] = [random(width / 2), width / 2 + random(width / 2), random(8) + 1];
            const up = random(2) === 0;
            const mask = random(2) === 0 ? "14" : "12";
            stream.push({ opcode: "copy", args: ["0", String(x), String(up ? rows : 0), String(w), String(height - rows), mask, "0", String(x), String(up ? 0 : rows)] });
          } else {
            const [w, h] = random(4) === 0 ? [width, height] : [random(width) + 1, random(height) + 1];
            stream.push(...image(patterned(w, h, random(256)), { x: random(width - w + 1), y: random(height - h + 1) }));
          }
        }
        stream.push(sync(1000 + frame * 40));
      }
      const whole = encode(stream);
      const { frame: condensed } = condenseFrames(whole);
      if (condensed.length < whole.length) droppedSomewhere++;
      expect(await lastPicture(condensed), `stream ${run}`).toEqual(await lastPicture(whole));
    }
    // The streams do give it something to drop.
    expect(droppedSomewhere).toBeGreaterThan(100);
  });

  it("keeps images whose size it cannot read, and streams that never end", () => {
    const unreadable = image(Buffer.from("not an image"), { x: 0, y: 0 });
    const webp = image(Buffer.from("RIFF\0\0\0\0WEBPVP8 "), { x: 0, y: 0, mimetype: "image/webp" });
    const unended = image(png(10, 10), { x: 0, y: 0 }).slice(0, -1);
    const over = image(png(500, 500), { x: 0, y: 0 });
    expect(streamsLeft(withoutOverdrawn([...unreadable, ...webp, ...unended, sync(1), ...over, sync(2)]))).toHaveLength(4);
  });

  it("makes the frames up to the moment sought one, without what they painted over, and leaves the rest", () => {
    const encode = (instructions: GuacInstruction[]) => instructions.map(({ opcode, args }) => encodeInstruction(opcode, args)).join("");
    const frames = [1000, 1040, 1080, 1120].map((at) => [...image(png(64, 64), { x: 0, y: 0 }), sync(at)]);
    const stream = encode(frames.flat());
    const { stream: condensed, skippedMs } = condenseLead(stream, 80);
    const instructions = new GuacamoleParser().push(condensed);
    // Up to 80 ms after the first frame only the last image counts, in one frame; the frame after it plays as recorded.
    expect(streamsLeft(instructions)).toEqual([frames[2]![0]!.args[0], frames[3]![0]!.args[0]]);
    expect(instructions.filter(({ opcode }) => opcode === "sync").map(({ args }) => args[0])).toEqual(["1080", "1120"]);
    expect(skippedMs).toBe(80);
    expect(condenseLead(stream, 10)).toEqual({ stream, skippedMs: 0 });
    expect(condenseLead(`${stream}4.sync,x.1;`, 80)).toEqual({ stream: `${stream}4.sync,x.1;`, skippedMs: 0 });
    // Frame times that are not numbers leave the stream as it is, with no time to place anything at.
    expect(condenseLead(`${stream}4.sync,4.soon;`, 200)).toEqual({ stream: `${stream}4.sync,4.soon;`, skippedMs: 0 });
  });

  it("makes whole frames one for the record, keeps the frame being drawn as it came, and keeps what it cannot read", () => {
    const encode = (instructions: GuacInstruction[]) => instructions.map(({ opcode, args }) => encodeInstruction(opcode, args)).join("");
    const frames = [0, 25, 50].map((at) => [...image(png(64, 64), { x: 0, y: 0 }), sync(at)]);
    const unfinished = encode(image(png(8, 8), { x: 70, y: 0 }).slice(0, -1));
    const { frame, rest } = condenseFrames(encode(frames.flat()) + unfinished);
    const instructions = new GuacamoleParser().push(frame);
    expect(streamsLeft(instructions)).toEqual([frames[2]![0]!.args[0]]);
    expect(instructions.filter(({ opcode }) => opcode === "sync").map(({ args }) => args[0])).toEqual(["50"]);
    expect(rest).toBe(unfinished);
    // No whole frame yet: nothing to record. One frame: it stays as it came.
    expect(condenseFrames(unfinished)).toEqual({ frame: "", rest: unfinished });
    const single = encode(frames[0]!);
    expect(condenseFrames(single)).toEqual({ frame: single, rest: "" });
    // A stream that does not parse, or whose lengths are written another way, is kept whole as it came.
    expect(condenseFrames(`${single}4.sync,x.1;`)).toEqual({ frame: `${single}4.sync,x.1;`, rest: "" });
    const padded = `04.sync,2.10;${encode(frames[1]!)}`;
    expect(condenseFrames(padded)).toEqual({ frame: padded, rest: "" });
  });

  it("keeps of held drawing what a keyframe does not draw again: not the screen's images, copies and syncs", () => {
    const encode = (instructions: GuacInstruction[]) => instructions.map(({ opcode, args }) => encodeInstruction(opcode, args)).join("");
    const screen = image(png(64, 64), { x: 0, y: 0 });
    const cursorImage = image(png(16, 16, "rgba"), { x: 0, y: 0, layer: -1 });
    const others = [
      { opcode: "cursor", args: ["0", "0", "-1", "0", "0", "16", "16"] },
      { opcode: "name", args: ["build server"] },
      { opcode: "copy", args: ["-1", "0", "0", "16", "16", "12", "1", "0", "0"] },
    ];
    const held = encode([{ opcode: "copy", args: ["0", "0", "13", "64", "51", "12", "0", "0", "0"] }, ...screen, ...cursorImage, ...others, sync(25)]);
    expect(withoutScreenDrawing(held)).toBe(encode([...cursorImage, ...others]));
    expect(withoutScreenDrawing(encode(others))).toBe(encode(others));
    expect(withoutScreenDrawing("4.sync,x.1;")).toBe("4.sync,x.1;");
  });
});
