// A stretch of desktop recording as the player replays it: its frames, each with its moment, and where the screen
// changes, so the player can skip the stretches where it stood still. Shared by the browser's player and its tests.
import { GuacamoleParser, storedStreamLimits, type GuacInstruction } from "../protocol/guacamole";

/** Instructions that draw nothing: a frame of only these left the screen as it was. */
const silentOpcodes = new Set(["sync", "nop", "ack", "mouse", "key", "clipboard", "end", "name", "ready", "log"]);

export interface DesktopFrame {
  /** When the engine finished it, in ms from the session's start. */
  atMs: number;
  /** What draws it, its `sync` last. */
  instructions: GuacInstruction[];
  /** Whether it changed the screen. */
  drew: boolean;
}

/**
 * The frames of `instructions`, oldest first; `startMs` is the moment of the stretch's first frame. A `sync`
 * without a timestamp does not end a frame; instructions after the last `sync` (a frame not finished) are left
 * out. Throws a GuacamoleSyntaxError for a stretch that does not parse.
 */
export function desktopFrames(instructions: string, startMs: number): DesktopFrame[] {
  const frames: DesktopFrame[] = [];
  let firstFrameAt: number | null = null;
  let pending: GuacInstruction[] = [];
  let drew = false;
  for (const instruction of new GuacamoleParser(storedStreamLimits).push(instructions)) {
    pending.push(instruction);
    if (instruction.opcode !== "sync") {
      drew ||= !silentOpcodes.has(instruction.opcode);
      continue;
    }
    const timestamp = Number(instruction.args[0]);
    if (!Number.isFinite(timestamp)) continue;
    firstFrameAt ??= timestamp;
    frames.push({ atMs: startMs + timestamp - firstFrameAt, instructions: pending, drew });
    pending = [];
    drew = false;
  }
  return frames;
}

/** The moments of the frames that drew something, oldest first. */
export const drawingMoments = (frames: DesktopFrame[]) => frames.filter((frame) => frame.drew).map((frame) => frame.atMs);

/** How many of `items` (sorted by `at`) come at or before `ms`. */
function countUntil<T>(items: T[], ms: number, at: (item: T) => number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (at(items[middle]!) <= ms) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The index of the last frame at or before `atMs`; the first frame for a moment before it, -1 without frames. */
export const frameAt = (frames: DesktopFrame[], atMs: number) => Math.min(Math.max(countUntil(frames, atMs, (frame) => frame.atMs) - 1, 0), frames.length - 1);

/** The first moment after `positionMs`, or null. */
export const nextMoment = (moments: number[], positionMs: number): number | null => moments[countUntil(moments, positionMs, (moment) => moment)] ?? null;
