// The recording formats the browser reads: an asciicast v2 file and the verification verdict.
import { z } from "zod";
import type { Protocol } from "./domain";

export const castHeaderSchema = z.object({ version: z.literal(2), width: z.number(), height: z.number() }).loose();
export const castEventSchema = z.tuple([z.number(), z.enum(["o", "i", "r", "m"]), z.string()]);
export type CastEvent = z.infer<typeof castEventSchema>;

/** Parses a .cast file; malformed lines are skipped rather than stopping the player. */
export function parseCast(text: string) {
  const [headerLine = "{}", ...lines] = text.split("\n");
  return { header: castHeaderSchema.parse(JSON.parse(headerLine)), events: parseCastEvents(lines) };
}

const decoder = new TextDecoder();

/**
 * One stored chunk, as its UTF-8 bytes: the first chunk (seq 0) opens with the header, the others are events only.
 * Decoded a line at a time: a whole chunk (up to 256 KiB) as one string is a large object to V8, whose allocation
 * and splitting cost twenty times the decoding.
 */
export function parseChunk(bytes: Uint8Array, seq: number) {
  const lines: string[] = [];
  for (let start = 0; start < bytes.length; ) {
    const newline = bytes.indexOf(0x0a, start);
    const end = newline === -1 ? bytes.length : newline;
    lines.push(decoder.decode(bytes.subarray(start, end)));
    start = end + 1;
  }
  let header: z.infer<typeof castHeaderSchema> | null = null;
  if (seq === 0) {
    try {
      header = castHeaderSchema.safeParse(JSON.parse(lines.shift() ?? "")).data ?? null;
    } catch {
      header = null;
    }
  }
  return { header, events: parseCastEvents(lines) };
}

/** Event lines of a recording (a chunk after the first has no header); malformed lines are skipped. */
export function parseCastEvents(lines: Iterable<string>): CastEvent[] {
  const events: CastEvent[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    let value: unknown = null;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const event = castEventSchema.safeParse(value);
    if (event.success) events.push(event.data);
  }
  return events;
}

/** What can be wrong with a recording, from its first chunk on (lib/data/recordings.ts verifyRecording). */
export const recordingProblemSchema = z.enum(["missing chunk", "content changed", "link broken", "blob missing", "unsigned chunk", "unknown key", "truncated", "seal mismatch"]);

/** GET /api/recordings/<id>/verify: whole, signed and (when it ended cleanly) sealed — or the first place it is not. */
export const recordingVerdictSchema = z.union([
  z.object({ intact: z.literal(true), chunks: z.number(), sealed: z.boolean() }),
  z.object({ intact: z.literal(false), chunks: z.number(), brokenAtSeq: z.number(), problem: recordingProblemSchema, detail: z.string().optional() }),
]);
export type RecordingVerdict = z.infer<typeof recordingVerdictSchema>;

/** A terminal a recording replays into: xterm.js in the player, @xterm/headless in the keyframer. */
export interface ReplayTerminal {
  write(data: string, callback?: () => void): void;
  resize(cols: number, rows: number): void;
}

/** `"120x40"` → its size; anything else → null (a malformed event is skipped, not fatal). */
export function parseResize(data: string): { cols: number; rows: number } | null {
  const match = /^(\d{1,4})x(\d{1,4})$/.exec(data);
  const cols = Number(match?.[1]);
  const rows = Number(match?.[2]);
  return cols > 0 && rows > 0 ? { cols, rows } : null;
}

/**
 * Plays output and resize events into a terminal. Writes are parsed asynchronously and a resize takes effect at
 * once, so each resize waits until the output before it has been parsed.
 */
export async function replay(term: ReplayTerminal, events: Iterable<CastEvent>): Promise<void> {
  let output = "";
  for (const [, code, data] of events) {
    if (code === "o") output += data;
    const size = code === "r" ? parseResize(data) : null;
    if (!size) continue;
    await new Promise<void>((resolve) => term.write(output, resolve));
    output = "";
    term.resize(size.cols, size.rows);
  }
  await new Promise<void>((resolve) => term.write(output, resolve));
}

/** Rows kept above the screen in a keyframe, so the player can scroll back after a seek. */
export const keyframeScrollback = 200;

/** The screen at a keyframe: the serialized terminal and the size it was serialized at. */
export const keyframeSchema = z.object({ cols: z.number().int().positive(), rows: z.number().int().positive(), screen: z.string() });
export type Keyframe = z.infer<typeof keyframeSchema>;

const chunkOrMs = z.coerce.number({ message: "Must be a number" }).int("Must be whole").min(0, "Cannot be negative").max(2 ** 31 - 1, "Too large");
/** How the player asks for a stretch of a recording: `?at=<ms>` to seek, `?seq=<chunk>` to continue. */
export const recordingWindowQuerySchema = z.union([z.object({ at: chunkOrMs }).transform(({ at }) => ({ atMs: at })), z.object({ seq: chunkOrMs })], {
  error: "Ask for ?at=<milliseconds> or ?seq=<chunk number>",
});

/**
 * A stretch of a recording for the player. A seek (`?at=`) starts at the nearest keyframe before that moment,
 * or at the beginning; a continuation (`?seq=`) picks up where the previous stretch ended.
 */
export const recordingWindowSchema = z.object({
  durationMs: z.number(),
  /** Where `events` start: the keyframe's moment, or 0. */
  startMs: z.number(),
  /** The screen size to start with; null for a continuation. */
  size: z.object({ cols: z.number(), rows: z.number() }).nullable(),
  keyframe: z.string().nullable(),
  events: z.array(castEventSchema),
  /** The chunk to ask for next; null at the end of the recording. */
  nextSeq: z.number().nullable(),
});
export type RecordingWindow = z.infer<typeof recordingWindowSchema>;

/**
 * A stretch of a desktop recording for the player: Guacamole instructions as the user's browser got them, from a
 * full frame on (or the recording's start). `startMs` is where their first frame is, from the session's start;
 * they show the screen from `playableFromMs` (the moment a seek asked for, whose earlier frames were made one)
 * up to `untilMs`, where the next stretch begins.
 */
export const desktopWindowSchema = z.object({
  durationMs: z.number(),
  /** Where the window's first frame is: for a seek, the moment's frame, made of those since the last full screen. */
  startMs: z.number(),
  playableFromMs: z.number(),
  untilMs: z.number(),
  instructions: z.string(),
  /** The chunk to ask for next, or null at the end of the recording. */
  nextSeq: z.number().nullable(),
});
export type DesktopWindow = z.infer<typeof desktopWindowSchema>;

/** `GET /api/recordings/search?q=`: words or a phrase to find in commands and output. */
export const recordingSearchQuerySchema = z.object({
  q: z.string().trim().min(2, "Search for at least 2 characters").max(200, "Search for at most 200 characters"),
});

/** How each kind of recording leaves the gateway: in the format of the tools that play it. */
export const recordingExports = {
  /** asciicast v2: `asciinema play`, any cast player. */
  terminal: { contentType: "application/x-asciicast", extension: "cast" },
  /** The Guacamole instruction stream, as Guacamole's own recording player reads it. */
  desktop: { contentType: "application/octet-stream", extension: "guac" },
  /** rrweb's events as one JSON array: what `rrweb-player` takes. */
  web: { contentType: "application/json", extension: "json" },
} as const;

export const exportKindOf = (protocol: Protocol) => (protocol === "ssh" ? "terminal" : protocol === "web" ? "web" : "desktop");
