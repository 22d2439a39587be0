import { describe, expect, it } from "vitest";
import { pageDrawnAt } from "@/lib/player/page-playback";
import { pageEventType } from "@/lib/protocol/page-recorder";

const { meta, fullSnapshot, incrementalSnapshot } = pageEventType;
// Two pages: the first starts at 100 and is drawn at 120, the second starts at 500 and is drawn at 530.
const events = [
  { type: meta, timestamp: 100 },
  { type: fullSnapshot, timestamp: 120 },
  { type: incrementalSnapshot, timestamp: 300 },
  { type: meta, timestamp: 500 },
  { type: fullSnapshot, timestamp: 530 },
  { type: incrementalSnapshot, timestamp: 600 },
];

describe("the moment a web recording shows", () => {
  it("is the moment asked for once its page is drawn", () => {
    expect(pageDrawnAt(events, 120)).toBe(120);
    expect(pageDrawnAt(events, 400)).toBe(400);
    expect(pageDrawnAt(events, 530)).toBe(530);
    expect(pageDrawnAt(events, 900)).toBe(900);
  });

  it("is the page's drawing for a moment between its start and its drawing", () => {
    expect(pageDrawnAt(events, 500)).toBe(530);
    expect(pageDrawnAt(events, 529)).toBe(530);
  });

  it("is the first drawing for a moment before it", () => {
    expect(pageDrawnAt(events, 0)).toBe(120);
    expect(pageDrawnAt(events, 100)).toBe(120);
  });

  it("stays put when a page is never drawn", () => {
    expect(pageDrawnAt([{ type: meta, timestamp: 100 }, { type: meta, timestamp: 200 }, { type: fullSnapshot, timestamp: 250 }], 150)).toBe(150);
    expect(pageDrawnAt([], 150)).toBe(150);
  });
});
