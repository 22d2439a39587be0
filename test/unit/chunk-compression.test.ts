// A flood of base64 is stored rather than compressed once the compression budget is spent: deflate would shrink
// it by a quarter at five to seven times the CPU. Text of every ordinary kind is still compressed.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { looksIncompressible } from "@/server/recorder/chunk-writer";
import { ChunkBody, releaseChunkBytes } from "@/server/recorder/chunk-body";

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

});

describe("a chunk's body", () => {
  it("holds its lines' UTF-8 bytes in order as it grows from a small block to a kept buffer and past it", () => {
    const body = new ChunkBody();
    const lines = ["[0.5,\"o\",\"héllo ✓\"]\n", "🙂\n", "x".repeat(40_000), "é".repeat(150_000), "\n", "y".repeat(400_000), "end\n"];
    let expected = "";
    for (const line of lines) {
      body.append(line);
      expected += line;
      expect(body.length).toBe(Buffer.byteLength(expected));
      expect(body.written().toString("utf8")).toBe(expected);
    }
    expect(body.take().toString("utf8")).toBe(expected);
    expect(body.length).toBe(0);
    body.append("next");
    expect(body.take().toString("utf8")).toBe("next");
  });

  it("gives a stored chunk's kept buffer to a later chunk, never to one still being written", () => {
    const flood = (filler: string) => {
      const body = new ChunkBody();
      body.append(filler.repeat(100_000));
      return body;
    };
    const stored = flood("a").take();
    releaseChunkBytes(stored);
    const one = flood("b");
    const two = flood("c");
    // One of them took the released buffer (the same memory), the other a buffer of its own.
    const reused = [one, two].filter((body) => body.written().buffer === stored.buffer);
    expect(reused).toHaveLength(1);
    expect(one.written().buffer).not.toBe(two.written().buffer);
    expect(one.take().toString()).toBe("b".repeat(100_000));
    expect(two.take().toString()).toBe("c".repeat(100_000));
  });

  it("keeps no buffer of a small chunk for reuse", () => {
    const body = new ChunkBody();
    body.append("small");
    const bytes = body.take();
    releaseChunkBytes(bytes);
    const next = new ChunkBody();
    next.append("z".repeat(100_000));
    expect(next.written().buffer).not.toBe(bytes.buffer);
  });
});
