import { describe, expect, it } from "vitest";
import { desktopFrames, drawingMoments, frameAt, nextMoment } from "../../lib/player/desktop-activity";
import { encodeInstruction, GuacamoleSyntaxError } from "../../lib/protocol/guacamole";

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
    const frames = desktopFrames(stream, 60_000);
    expect(frames.map((frame) => frame.atMs)).toEqual([60_000, 60_040, 60_080, 80_080, 80_120]);
    expect(frames.map((frame) => frame.instructions.map(({ opcode }) => opcode))).toEqual([["size", "rect", "sync"], ["sync"], ["mouse", "sync"], ["img", "blob", "end", "sync"], ["cursor", "sync"]]);
    expect(drawingMoments(frames)).toEqual([60_000, 80_080, 80_120]);
  });

  it("ends a frame only at a sync with a time, leaves out a frame not finished, and refuses a stream that does not parse", () => {
    const frames = desktopFrames(frame(1_000, ["rect", [0, 0, 0, 1, 1]]) + encodeInstruction("sync", ["soon"]) + frame(1_040, ["cfill", [14, 0, 0, 0, 0, 255]]) + encodeInstruction("rect", [0, 0, 0, 2, 2]), 0);
    expect(frames.map((frame) => [frame.atMs, frame.instructions.length])).toEqual([
      [0, 2],
      [40, 3],
    ]);
    expect(() => desktopFrames("4.sync,bogus.1;", 0)).toThrow(GuacamoleSyntaxError);
    expect(() => desktopFrames("x.rect;", 0)).toThrow(GuacamoleSyntaxError);
  });

  it("finds the frame that shows a moment: the last at or before it, the first before the first", () => {
    const frames = desktopFrames([frame(100), frame(140), frame(140), frame(300)].join(""), 1_000);
    expect([900, 1_000, 1_039, 1_040, 1_199, 1_200, 5_000].map((atMs) => frameAt(frames, atMs))).toEqual([0, 0, 0, 2, 2, 3, 3]);
    expect(frameAt([], 10)).toBe(-1);
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
