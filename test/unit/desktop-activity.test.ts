import { describe, expect, it } from "vitest";
import { drawingMoments, nextMoment } from "../../lib/player/desktop-activity";
import { encodeInstruction } from "../../lib/protocol/guacamole";

const frame = (timestamp: number, ...drawing: [string, (string | number)[]][]) => [...drawing.map(([opcode, args]) => encodeInstruction(opcode, args)), encodeInstruction("sync", [timestamp])].join("");

describe("desktop activity", () => {
  it("finds the frames that drew something, as moments from the session's start", () => {
    const stream = [
      frame(5_000, ["size", [0, 1024, 768]], ["rect", [0, 0, 0, 10, 10]]),
      frame(5_040),
      frame(5_080, ["mouse", [10, 10, 0, 5_080]]),
      // Twenty seconds of nothing, then a window opens.
      frame(25_080, ["img", [1, 12, 0, "image/png", 0, 0]], ["blob", [1, "AAAA"]], ["end", [1]]),
      frame(25_120, ["cursor", [0, 0, -1, 0, 0, 8, 8]]),
    ].join("");
    expect(drawingMoments(stream, 60_000)).toEqual([60_000, 80_080, 80_120]);
  });

  it("gives no moments for a stream that does not parse, so the player plays it as it is", () => {
    expect(drawingMoments("4.sync,bogus", 0)).toEqual([]);
    expect(drawingMoments("x.rect;", 0)).toEqual([]);
  });

  it("finds the next moment after a position", () => {
    const moments = [1_000, 2_000, 30_000];
    expect(nextMoment(moments, 0)).toBe(1_000);
    expect(nextMoment(moments, 1_000)).toBe(2_000);
    expect(nextMoment(moments, 2_500)).toBe(30_000);
    expect(nextMoment(moments, 30_000)).toBeNull();
    expect(nextMoment([], 5)).toBeNull();
  });
});
