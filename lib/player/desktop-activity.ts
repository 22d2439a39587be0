// Where a desktop recording changes: the moments of the frames that drew something, so a player can skip the
// stretches where the screen stood still. Shared by the browser's player and its tests.
import { GuacamoleParser, GuacamoleSyntaxError, storedStreamLimits } from "../protocol/guacamole";

/** Instructions that draw nothing: a frame of only these left the screen as it was. */
const silentOpcodes = new Set(["sync", "nop", "ack", "mouse", "key", "clipboard", "end", "name", "ready", "log"]);

/**
 * The moments (ms from the session's start) of the frames in `instructions` that drew something, oldest first;
 * `startMs` is the moment of the stretch's first frame. A stretch that does not parse yields none (the player
 * then plays it in real time).
 */
export function drawingMoments(instructions: string, startMs: number): number[] {
  let parsed;
  try {
    parsed = new GuacamoleParser(storedStreamLimits).push(instructions);
  } catch (error) {
    if (error instanceof GuacamoleSyntaxError) return [];
    throw error;
  }
  const moments: number[] = [];
  let firstFrameAt: number | null = null;
  let drew = false;
  for (const { opcode, args } of parsed) {
    if (opcode !== "sync") {
      drew ||= !silentOpcodes.has(opcode);
      continue;
    }
    const timestamp = Number(args[0]);
    if (!Number.isFinite(timestamp)) continue;
    firstFrameAt ??= timestamp;
    if (drew) moments.push(startMs + timestamp - firstFrameAt);
    drew = false;
  }
  return moments;
}

/** The first moment after `positionMs`, or null. */
export function nextMoment(moments: number[], positionMs: number): number | null {
  let low = 0;
  let high = moments.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (moments[middle]! <= positionMs) low = middle + 1;
    else high = middle;
  }
  return moments[low] ?? null;
}
