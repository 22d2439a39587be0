// A seek in a desktop recording replays every frame from the last keyframe to the moment sought, and the
// browser decodes every image in them, although a busy screen repaints the same places again and again. This
// drops the images, copies and colour fills that later drawing covers entirely before anything reads the pixels
// underneath (a copy, a cursor taken from a layer, a resize…), and makes those frames one: what the screen shows
// at the moment is the same. Only images whose size the stream itself tells (PNG and JPEG headers) are
// considered, and only fills of paths made of rectangles. Layers are taken as untransformed, as guacd and the
// engine draw them (neither sends `transform`); a fill on a layer the stretch transforms is kept as it is.
import { encodeInstruction, GuacamoleParser, GuacamoleSyntaxError, storedStreamLimits, type GuacInstruction } from "../protocol/guacamole";

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface ImageHeader {
  width: number;
  height: number;
  /** No pixel of it is transparent, so drawn over something it hides it. */
  opaque: boolean;
}

/**
 * Guacamole channel masks: SRC replaces what is under it, OVER blends with it (and hides it where opaque). Only
 * OVER drawing is ever dropped: a browser applies every other mask to the whole layer (SRC is the canvas's
 * "copy", which clears the layer outside what it draws), so such drawing changes more than its rectangle.
 */
const maskSource = 12;
const maskOver = 14;

/** Opcodes that draw or say something without reading any layer's pixels. */
const readsNothing = new Set([
  "sync", "img", "blob", "end", "rect", "cfill", "cstroke", "line", "arc", "curve", "start", "close", "png", "jpeg",
  "move", "shade", "distort", "mouse", "nop", "ack", "name", "audio", "clipboard", "file", "pipe", "argv", "body",
  "filesystem", "undefine", "msg", "required", "key",
]);

/** The layers whose pixels an instruction reads or whose later drawing it changes; "all" when unknown. */
function layersAffected({ opcode, args }: GuacInstruction): string[] | "all" {
  if (readsNothing.has(opcode)) return [];
  switch (opcode) {
    case "copy": // when its rectangles are not numbers (see `copyRects`)
    case "transfer":
      return [args[0] ?? "", args[6] ?? ""];
    case "cursor":
    case "lfill":
      return [args[2] ?? ""];
    case "lstroke":
      return [args[5] ?? ""];
    case "size":
    case "dispose":
    case "clip":
    case "push":
    case "pop":
    case "reset":
    case "identity":
    case "transform":
      return [args[0] ?? ""];
    default:
      return "all";
  }
}

function decodeBase64Prefix(data: string, bytes: number): Uint8Array {
  const prefix = data.slice(0, Math.ceil(bytes / 3) * 4).replace(/=+$/, "");
  try {
    return Uint8Array.from(atob(prefix.slice(0, prefix.length - (prefix.length % 4))), (character) => character.charCodeAt(0));
  } catch {
    return new Uint8Array();
  }
}

const readUint16 = (bytes: Uint8Array, at: number) => (bytes[at]! << 8) | bytes[at + 1]!;
const readUint32 = (bytes: Uint8Array, at: number) => readUint16(bytes, at) * 65536 + readUint16(bytes, at + 2);
const chunkType = (bytes: Uint8Array, at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));

/** A PNG's size from its IHDR; opaque if grey, RGB or a palette with no tRNS chunk before the image data. */
function pngHeader(bytes: Uint8Array): ImageHeader | null {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 33 || signature.some((byte, index) => bytes[index] !== byte) || chunkType(bytes, 12) !== "IHDR") return null;
  const colourType = bytes[25]!;
  let opaque = false;
  if (colourType === 0 || colourType === 2 || colourType === 3) {
    for (let at = 33; at + 8 <= bytes.length; at += 12 + readUint32(bytes, at)) {
      const type = chunkType(bytes, at + 4);
      if (type === "tRNS") break;
      if (type === "IDAT") {
        opaque = true;
        break;
      }
    }
  }
  return { width: readUint32(bytes, 16), height: readUint32(bytes, 20), opaque };
}

/** A JPEG's size from its first start-of-frame segment; JPEG has no transparency. */
function jpegHeader(bytes: Uint8Array): ImageHeader | null {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  for (let at = 2; at + 9 <= bytes.length; ) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    const startOfFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (startOfFrame) return { width: readUint16(bytes, at + 7), height: readUint16(bytes, at + 5), opaque: true };
    at += 2 + readUint16(bytes, at + 2);
  }
  return null;
}

function imageHeader(mimetype: string, firstBlob: string): ImageHeader | null {
  if (mimetype === "image/png") return pngHeader(decodeBase64Prefix(firstBlob, 4096));
  if (mimetype === "image/jpeg") return jpegHeader(decodeBase64Prefix(firstBlob, 16384));
  return null;
}

const overlaps = (a: Rect, b: Rect) => b.x < a.x + a.width && a.x < b.x + b.width && b.y < a.y + a.height && a.y < b.y + b.height;

/** What is left of `piece` outside `cut`: up to four rectangles. */
function subtract(piece: Rect, cut: Rect): Rect[] {
  const right = piece.x + piece.width;
  const bottom = piece.y + piece.height;
  const cutRight = cut.x + cut.width;
  const cutBottom = cut.y + cut.height;
  if (!overlaps(piece, cut)) return [piece];
  const left: Rect[] = [];
  const top = Math.max(piece.y, cut.y);
  const bandBottom = Math.min(bottom, cutBottom);
  if (cut.y > piece.y) left.push({ x: piece.x, y: piece.y, width: piece.width, height: cut.y - piece.y });
  if (cutBottom < bottom) left.push({ x: piece.x, y: cutBottom, width: piece.width, height: bottom - cutBottom });
  if (cut.x > piece.x) left.push({ x: piece.x, y: top, width: cut.x - piece.x, height: bandBottom - top });
  if (cutRight < right) left.push({ x: cutRight, y: top, width: right - cutRight, height: bandBottom - top });
  return left;
}

/** Past this many fragments the question is given up (and the image kept): it stays cheap on any stream. */
const maxFragments = 64;

/** What `covering` still covers once `read` is read (null past `maxFragments`: nothing, then). */
function uncover(covering: Rect[], read: Rect): Rect[] | null {
  const left = covering.flatMap((piece) => subtract(piece, read));
  return left.length > maxFragments ? null : left;
}

interface Copy {
  from: Rect;
  fromLayer: string;
  to: Rect;
  toLayer: string;
  mask: number;
}

/** A copy's rectangles: `copy,srclayer,x,y,width,height,mask,dstlayer,x,y`; null if any is not a number. */
function copyRects({ args }: GuacInstruction): Copy | null {
  const [x, y, width, height, mask, toX, toY] = [1, 2, 3, 4, 5, 7, 8].map((at) => Number(args[at]));
  if (![x, y, width, height, mask, toX, toY].every(Number.isFinite)) return null;
  return { from: { x: x!, y: y!, width: width!, height: height! }, fromLayer: args[0] ?? "", to: { x: toX!, y: toY!, width: width!, height: height! }, toLayer: args[6] ?? "", mask: mask! };
}

/**
 * Past this many rectangles a layer's coverage takes no more (the latest drawing is in it first): a screen of many
 * small pictures or fills would otherwise make every question walk all of them, and less coverage only keeps more.
 */
const maxCovering = 256;

function cover(coverage: Map<string, Rect[]>, layer: string, rects: Rect[]) {
  const covering = coverage.get(layer) ?? [];
  for (const rect of rects.slice(0, maxCovering - covering.length)) covering.push(rect);
  coverage.set(layer, covering);
}

function isCovered(target: Rect, covering: Rect[]): boolean {
  let remaining = [target];
  for (let index = covering.length - 1; index >= 0 && remaining.length > 0; index--) {
    const cut = covering[index]!;
    if (!remaining.some((piece) => overlaps(piece, cut))) continue;
    remaining = remaining.flatMap((piece) => subtract(piece, cut));
    if (remaining.length > maxFragments) return false;
  }
  return remaining.length === 0;
}

interface ImageStream {
  layer: string;
  mask: number;
  mimetype: string;
  x: number;
  y: number;
  header: ImageHeader | null;
  /** Where its img, blobs and end are. */
  parts: number[];
}

interface ColourFill {
  layer: string;
  rects: Rect[];
  mask: number;
  alpha: number;
  /** Where its rects and its cfill are. */
  parts: number[];
}

/** Path instructions other than `rect`: a path with them is not a set of rectangles. */
const pathShapes = new Set(["start", "line", "arc", "curve", "close"]);
/** Instructions that use a layer's path up (the next rect begins a new one), by where their layer is. */
const pathEnds = new Map([["cfill", 1], ["cstroke", 1], ["lfill", 1], ["lstroke", 1], ["clip", 0]]);
const transforming = new Set(["transform", "identity", "distort", "push", "pop", "reset"]);

/** The `cfill`s of paths made of rectangles only, by the cfill's index. */
function colourFills(instructions: GuacInstruction[]): Map<number, ColourFill> {
  const fills = new Map<number, ColourFill>();
  // Each layer's path being built: its rectangles, or null once it holds anything else.
  const paths = new Map<string, { rects: Rect[]; parts: number[] } | null>();
  const transformed = new Set(instructions.filter(({ opcode }) => transforming.has(opcode)).map(({ args }) => args[0] ?? ""));
  instructions.forEach((instruction, index) => {
    const { opcode, args } = instruction;
    const pathEnd = pathEnds.get(opcode);
    if (opcode === "rect") {
      const layer = args[0] ?? "";
      const [x, y, width, height] = [1, 2, 3, 4].map((at) => Number(args[at]));
      const path = paths.get(layer);
      if (path === null) return;
      if (![x, y, width, height].every(Number.isFinite) || width! < 0 || height! < 0) return void paths.set(layer, null);
      const building = path ?? { rects: [], parts: [] };
      building.rects.push({ x: x!, y: y!, width: width!, height: height! });
      building.parts.push(index);
      paths.set(layer, building);
    } else if (pathShapes.has(opcode)) {
      paths.set(args[0] ?? "", null);
    } else if (pathEnd !== undefined) {
      const layer = args[pathEnd] ?? "";
      const path = paths.get(layer);
      paths.delete(layer);
      if (opcode === "cfill" && path && !transformed.has(layer)) fills.set(index, { layer, rects: path.rects, mask: Number(args[0]), alpha: Number(args[5]), parts: [...path.parts, index] });
    } else {
      const affected = layersAffected(instruction);
      for (const layer of affected === "all" ? [...paths.keys()] : affected) if (paths.has(layer)) paths.set(layer, null);
    }
  });
  return fills;
}

/** The instructions without the images, copies and fills that later drawing hides before anything reads them. */
export function withoutOverdrawn(instructions: GuacInstruction[]): GuacInstruction[] {
  // An image is drawn when its stream ends (guacamole-common-js queues it there).
  const open = new Map<string, ImageStream>();
  const drawnAt = new Map<number, ImageStream>();
  instructions.forEach(({ opcode, args }, index) => {
    const stream = open.get(args[0] ?? "");
    if (opcode === "img") {
      open.set(args[0] ?? "", { mask: Number(args[1]), layer: args[2] ?? "", mimetype: args[3] ?? "", x: Number(args[4]), y: Number(args[5]), header: null, parts: [index] });
    } else if (opcode === "blob" && stream) {
      if (stream.parts.length === 1) stream.header = imageHeader(stream.mimetype, args[1] ?? "");
      stream.parts.push(index);
    } else if (opcode === "end" && stream) {
      stream.parts.push(index);
      open.delete(args[0] ?? "");
      drawnAt.set(index, stream);
    }
  });

  const fills = colourFills(instructions);
  const coverage = new Map<string, Rect[]>();
  const dropped = new Set<number>();
  for (let index = instructions.length - 1; index >= 0; index--) {
    const fill = fills.get(index);
    if (fill) {
      const covering = coverage.get(fill.layer) ?? [];
      if (fill.mask === maskOver && fill.rects.every((rect) => isCovered(rect, covering))) {
        for (const part of fill.parts) dropped.add(part);
      } else if (fill.mask === maskSource || (fill.mask === maskOver && fill.alpha === 255)) {
        cover(coverage, fill.layer, fill.rects);
      }
      continue;
    }
    const image = drawnAt.get(index);
    if (image) {
      if (!image.header || !Number.isFinite(image.x) || !Number.isFinite(image.y)) continue;
      const rect = { x: image.x, y: image.y, width: image.header.width, height: image.header.height };
      const covering = coverage.get(image.layer) ?? [];
      if (image.mask === maskOver && isCovered(rect, covering)) {
        for (const part of image.parts) dropped.add(part);
      } else if (image.mask === maskSource || (image.mask === maskOver && image.header.opaque)) {
        cover(coverage, image.layer, [rect]);
      }
      continue;
    }
    const copy = instructions[index]!.opcode === "copy" ? copyRects(instructions[index]!) : null;
    if (copy) {
      const covering = coverage.get(copy.toLayer) ?? [];
      if (copy.mask === maskOver && isCovered(copy.to, covering)) {
        dropped.add(index);
        continue;
      }
      // What it writes hides what came before there; what it reads (perhaps the same place) shows it.
      if (copy.mask === maskSource) cover(coverage, copy.toLayer, [copy.to]);
      const read = uncover(coverage.get(copy.fromLayer) ?? [], copy.from);
      if (read) coverage.set(copy.fromLayer, read);
      else coverage.delete(copy.fromLayer);
      continue;
    }
    const affected = layersAffected(instructions[index]!);
    if (affected === "all") coverage.clear();
    else for (const layer of affected) coverage.delete(layer);
  }
  return dropped.size === 0 ? instructions : instructions.filter((_, index) => !dropped.has(index));
}


/**
 * The frames of a stored stretch up to `withinMs` after its first one, made into one frame that draws what they
 * showed at the end, without the images painted over; the frames after it are left as they are, to play on.
 * Guacamole's display renders one frame per animation frame, so a seek that replayed each of them would take a
 * sixtieth of a second per frame. `skippedMs` says how much later than the stretch's first frame the merged
 * one is; a stretch that does not parse, or whose frames' times are not numbers, is returned unchanged.
 */
export function condenseLead(stream: string, withinMs: number): { stream: string; skippedMs: number } {
  let instructions: GuacInstruction[];
  try {
    instructions = new GuacamoleParser(storedStreamLimits).push(stream);
  } catch (error) {
    if (error instanceof GuacamoleSyntaxError) return { stream, skippedMs: 0 };
    throw error;
  }
  let firstFrameAt: number | null = null;
  let cut = -1;
  let cutAt = 0;
  let frames = 0;
  for (const [index, { opcode, args }] of instructions.entries()) {
    if (opcode !== "sync") continue;
    const timestamp = Number(args[0]);
    if (!Number.isFinite(timestamp)) return { stream, skippedMs: 0 };
    firstFrameAt ??= timestamp;
    if (timestamp - firstFrameAt > withinMs) break;
    cut = index;
    cutAt = timestamp;
    frames++;
  }
  if (frames < 2) return { stream, skippedMs: 0 };
  return { stream: asOneFrame(instructions.slice(0, cut + 1)) + encodeAll(instructions.slice(cut + 1)), skippedMs: cutAt - firstFrameAt! };
}

const encodeAll = (instructions: GuacInstruction[]) => instructions.map(({ opcode, args }) => encodeInstruction(opcode, args)).join("");

/** Frames ending with a `sync` made one frame that ends with that sync, without the images painted over. */
function asOneFrame(frames: GuacInstruction[]): string {
  const last = frames.at(-1)!;
  return encodeAll([...withoutOverdrawn(frames.slice(0, -1)).filter(({ opcode }) => opcode !== "sync"), last]);
}

/**
 * The whole frames at the start of `stream` made into one (as `condenseLead` does, whatever their timing), and
 * what follows the last `sync` as it came. `frame` is empty where there is no whole frame; a stream that does not
 * parse, or does not read back as it came, is returned whole as `frame`, to be kept as it is.
 */
export function condenseFrames(stream: string): { frame: string; rest: string } {
  let instructions: GuacInstruction[];
  try {
    instructions = new GuacamoleParser(storedStreamLimits).push(stream);
  } catch (error) {
    if (error instanceof GuacamoleSyntaxError) return { frame: stream, rest: "" };
    throw error;
  }
  const lastSync = instructions.findLastIndex(({ opcode }) => opcode === "sync");
  if (lastSync === -1) return { frame: "", rest: stream };
  const frames = instructions.slice(0, lastSync + 1);
  const framesText = encodeAll(frames);
  // Lengths written differently (leading zeros) would make the cut below land elsewhere: such a stream is kept.
  if (!stream.startsWith(framesText)) return { frame: stream, rest: "" };
  const rest = stream.slice(framesText.length);
  const syncs = frames.reduce((count, { opcode }) => count + (opcode === "sync" ? 1 : 0), 0);
  return { frame: syncs < 2 ? framesText : asOneFrame(frames), rest };
}

/**
 * What of `stream` a full frame of the screen does not draw again: everything but the images drawn on the screen
 * (layer 0), the copies within it, and the syncs that showed them. A stream that does not parse is kept whole.
 */
export function withoutScreenDrawing(stream: string): string {
  let instructions: GuacInstruction[];
  try {
    instructions = new GuacamoleParser(storedStreamLimits).push(stream);
  } catch (error) {
    if (error instanceof GuacamoleSyntaxError) return stream;
    throw error;
  }
  const screenStreams = new Set<string>();
  const kept = instructions.filter(({ opcode, args }) => {
    if (opcode === "img" && args[2] === "0") screenStreams.add(args[0] ?? "");
    if (opcode === "img" || opcode === "blob" || opcode === "end") {
      const onScreen = screenStreams.has(args[0] ?? "");
      if (opcode === "end") screenStreams.delete(args[0] ?? "");
      return !onScreen;
    }
    if (opcode === "copy") return !(args[0] === "0" && args[6] === "0");
    return opcode !== "sync";
  });
  return kept.length === instructions.length ? stream : encodeAll(kept);
}
