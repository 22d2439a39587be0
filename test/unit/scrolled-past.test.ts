// The keyframer leaves out output that scrolls past before the next keyframe: the screen, scrollback and cursor
// must come out exactly as if everything had been emulated, whatever the output and however it is cut up.
import serialize from "@xterm/addon-serialize";
import headless from "@xterm/headless";
import { describe, expect, it } from "vitest";
import { ScrolledPastOutput } from "@/server/recorder/scrolled-past";
import { seededRandom } from "../fixtures/seeded-random";

const scrollback = 10;

function terminal(cols: number, rows: number) {
  const term = new headless.Terminal({ cols, rows, scrollback, allowProposedApi: true });
  const serializer = new serialize.SerializeAddon();
  term.loadAddon(serializer);
  return { term, state: () => ({ screen: serializer.serialize({ scrollback }), x: term.buffer.active.cursorX, y: term.buffer.active.cursorY }) };
}

const write = (term: headless.Terminal, data: string) => new Promise<void>((resolve) => term.write(data, resolve));

const base64 = (next: () => number, length: number) => Array.from({ length }, () => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[Math.floor(next() * 64)]).join("");
const pieces: ((next: () => number) => string)[] = [
  (next) => base64(next, Math.floor(next() * 5000)),
  (next) => Array.from({ length: Math.floor(next() * 200) }, (_, line) => `log line ${line} ${"x".repeat(Math.floor(next() * 45))}\r\n`).join(""),
  (next) => Array.from({ length: Math.floor(next() * 100) }, (_, line) => `bare LF ${line} ${"y".repeat(Math.floor(next() * 30))}\n`).join(""),
  (next) => `\x1b[3${Math.floor(next() * 8)}m${base64(next, 30)}\x1b[0m`,
  (next) => `progress ${Math.floor(next() * 100)}%\r`,
  () => "\x1b[?1049h full screen \x1b[5;3H here\x1b[?1049l",
  () => "\x1b[2;4r",
  () => "\x1b[r",
  () => "\x1b[?7l",
  () => "\x1b[?7h",
  () => "\x1b[4h",
  () => "\x1b[4l",
  () => "wide 漢字 and é",
  () => "\x1b[H\x1b[2J",
  () => "\x1b[20h",
  () => "\x1b[20l",
];

describe("output that scrolls past the keyframe's reach", () => {
  it("is left out without changing the screen, scrollback or cursor, for any mix of output cut anywhere", async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const next = seededRandom(seed);
      const cols = 8 + Math.floor(next() * 40);
      const rows = 3 + Math.floor(next() * 12);
      const whole = terminal(cols, rows);
      const skipped = terminal(cols, rows);
      const output = new ScrolledPastOutput(skipped.term, scrollback);
      let all = "";
      for (let step = 0; step < 30; step++) all += pieces[Math.floor(next() * pieces.length)]!(next);
      // Cut into pieces of random length, as output events and chunks cut it.
      for (let at = 0; at < all.length; ) {
        const length = 1 + Math.floor(next() * 3000);
        await output.write(all.slice(at, at + length));
        at += length;
        // Sometimes a keyframe is taken in the middle of it all.
        if (next() < 0.1) {
          await output.flush();
          await write(whole.term, all.slice(0, at));
          expect(skipped.state(), `seed ${seed} at ${at}`).toEqual(whole.state());
          whole.term.reset();
          await write(whole.term, "\x1bc");
          whole.term.dispose();
          Object.assign(whole, terminal(cols, rows));
          await write(whole.term, "");
        }
      }
      await output.flush();
      const reference = terminal(cols, rows);
      await write(reference.term, all);
      expect(skipped.state(), `seed ${seed}`).toEqual(reference.state());
    }
  });

  it("leaves out most of a flood of base64 on one endless line, and of a log", async () => {
    for (const flood of [base64(seededRandom(7), 400_000), Array.from({ length: 10_000 }, (_, line) => `2026-12-01 12:00:00 worker ${line} done\r\n`).join("")]) {
      const skipped = terminal(100, 30);
      const output = new ScrolledPastOutput(skipped.term, scrollback);
      for (let at = 0; at < flood.length; at += 65_536) await output.write(flood.slice(at, at + 65_536));
      await output.flush();
      const reference = terminal(100, 30);
      await write(reference.term, flood);
      expect(skipped.state()).toEqual(reference.state());
      expect(output.counts.skipped / flood.length).toBeGreaterThan(0.95);
    }
  });
});
