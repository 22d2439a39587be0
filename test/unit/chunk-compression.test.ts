// A flood of base64 is stored rather than compressed once the compression budget is spent: deflate would shrink
// it by a quarter at five to seven times the CPU. Text of every ordinary kind is still compressed.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { looksIncompressible, withChunkBody } from "@/server/recorder/chunk-writer";

const event = (text: string) => Buffer.from(`${JSON.stringify([1.25, "o", text])}\n`);

describe("which chunks are worth compressing", () => {
  it("takes encoded random data for incompressible", () => {
    expect(looksIncompressible(event(randomBytes(6000).toString("base64")))).toBe(true);
    expect(looksIncompressible(event(randomBytes(6000).toString("base64url")))).toBe(true);
  });

  it("compresses source, JSON, logs, coloured listings and hex dumps", () => {
    const samples = [
      readFileSync("server/session.ts", "utf8").slice(0, 8000),
      readFileSync("package-lock.json", "utf8").slice(10_000, 18_000),
      Array.from({ length: 100 }, (_, line) => `2026-12-01T04:0${line % 10}:00Z worker-${line % 7} INFO job ${line * 7919} done in ${line % 97} ms\r\n`).join(""),
      "\x1b[01;34mbin\x1b[0m  \x1b[01;32mrun.sh\x1b[0m  data.csv  README.md\r\n".repeat(80),
      randomBytes(6000).toString("hex"),
    ];
    for (const text of samples) expect(looksIncompressible(event(text)), text.slice(0, 60)).toBe(false);
  });

  it("does not judge a sample too short to tell", () => {
    expect(looksIncompressible(event(randomBytes(60).toString("base64")))).toBe(false);
  });

  it("lends a chunk's pieces as their UTF-8 bytes, in order, and a kept buffer to one chunk at a time", async () => {
    const texts = (filler: string) => ["[0.5,\"o\",\"héllo ✓\"]", "\n", filler.repeat(200_000), "\n", "🙂"];
    const pieces = (filler: string) => texts(filler).map((text) => Buffer.from(text));
    const first = await withChunkBody(pieces("x"), async (body) => body.toString("utf8"));
    expect(first).toBe(texts("x").join(""));
    // Two chunks compressed at once (two sessions' writers) never share a buffer.
    const [one, two] = await Promise.all(
      ["a", "b"].map((filler) =>
        withChunkBody(pieces(filler), async (body) => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return body.toString("utf8");
        }),
      ),
    );
    expect([one, two]).toEqual([texts("a").join(""), texts("b").join("")]);
  });
});
