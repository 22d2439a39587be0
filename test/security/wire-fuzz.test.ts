// Fuzzing the wire: every schema a socket or API route applies to what a browser, a page or another node sends,
// and the Guacamole parser the desktop socket feeds, get random values and mutations of valid messages. They
// must answer each with a verdict — never throw — and what they accept must keep the bounds they promise.
// Seeded, so a failure names the seed that reproduces it.
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { credentialInputSchema, targetInputSchema, userUpdateSchema } from "@/lib/protocol/admin";
import { desktopSizeSchema } from "@/lib/protocol/desktop";
import { GuacamoleParser, GuacamoleSyntaxError } from "@/lib/protocol/guacamole";
import { parseJsonFrame } from "@/lib/protocol/json-frame";
import { controlCommandSchema, controlRequestSchema, nodeLinkMessageSchema, watchServerMessageSchema } from "@/lib/protocol/live";
import { navigationOf } from "@/lib/protocol/page-recorder";
import { sessionFilterSchema } from "@/lib/protocol/sessions";
import { sessionClientMessageSchema } from "@/lib/protocol/session-socket";
import { ticketRequestSchema } from "@/lib/protocol/tickets";
import { pageAddressLimit, pageEventBatchSchema } from "@/lib/protocol/web-recording";
import { seededRandom } from "../fixtures/seeded-random";

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const rounds = Number(process.env.FUZZ_ROUNDS ?? 4000);

const keys = ["type", "sentAt", "events", "timestamp", "data", "href", "payload", "tag", "cols", "rows", "count", "action", "reason", "purpose", "targetId", "sessionId", "width", "height", "dpi", "name", "protocol", "host", "port", "internalUrl", "__proto__", "constructor", "toString"];
const strings = ["", "a", "resize", "extend", "viewers", "resync", "lock", "terminate", "watch", "terminal", "gatehouse.navigation", "https://app.example/x", "javascript:alert(1)", "\u0000", "\ud800", "é日本", "9".repeat(400), "a".repeat(5000), "../../etc/passwd", "%2F%2Fevil"];
const numbers = [0, -1, 1, 2, 80, 1000, 1001, 2 ** 31, -(2 ** 53), 2 ** 53, 1e308, -1e308, 0.5, Number.MAX_SAFE_INTEGER, 1732000000000];

function randomValue(next: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const roll = next();
  if (depth > 4 || roll < 0.15) return pick(numbers);
  if (roll < 0.3) return pick(strings);
  if (roll < 0.4) return next() < 0.5;
  if (roll < 0.45) return null;
  if (roll < 0.7) return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth + 1));
  const object: Record<string, unknown> = {};
  for (let count = Math.floor(next() * 6); count > 0; count--) object[pick(keys)] = randomValue(next, depth + 1);
  return object;
}

/** A valid message with one part swapped, dropped, duplicated or stretched, a stray key added, or the whole thing wrapped. */
function mutate(valid: unknown, next: () => number): unknown {
  const copy = structuredClone(valid) as Record<string, unknown>;
  const paths: (string | number)[][] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (value && typeof value === "object") for (const [key, child] of Object.entries(value)) walk(child, [...path, Array.isArray(value) ? Number(key) : key]);
  };
  walk(copy, []);
  const path = paths[Math.floor(next() * paths.length)]!;
  if (path.length === 0) return next() < 0.5 ? [copy] : randomValue(next);
  const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((node, key) => node[key] as Record<string | number, unknown>, copy);
  const last = path.at(-1)!;
  const roll = next();
  if (roll < 0.3) parent[last] = randomValue(next);
  else if (roll < 0.45) delete parent[last];
  else if (roll < 0.6) parent[last] = [parent[last], parent[last]];
  // A stray key (`__proto__` among them) beside valid ones: lenient objects must strip it, strict ones refuse it.
  else if (roll < 0.8 && !Array.isArray(parent)) parent[keys[Math.floor(next() * keys.length)]!] = randomValue(next);
  else parent[last] = typeof parent[last] === "string" ? `${parent[last] as string}${"x".repeat(3000)}` : -1;
  return copy;
}

interface Case {
  name: string;
  schema: z.ZodType;
  valid: unknown[];
  /** What an accepted value must satisfy beyond its type. */
  invariant?: (value: never) => void;
}

const now = 1_732_000_000_000;
const cases: Case[] = [
  { name: "terminal client messages", schema: sessionClientMessageSchema, valid: [{ type: "resize", cols: 80, rows: 24 }, { type: "extend" }], invariant: (message: z.infer<typeof sessionClientMessageSchema>) => {
    if (message.type === "resize") expect(message.cols >= 2 && message.cols <= 1000 && message.rows >= 1 && message.rows <= 500).toBe(true);
  } },
  { name: "node link messages", schema: nodeLinkMessageSchema, valid: [{ type: "resync" }, { type: "viewers", count: 3 }] },
  { name: "watch messages from another node", schema: watchServerMessageSchema, valid: [{ type: "state", state: "locked", by: "sam", reason: "x" }, { type: "log", entries: [{ at: 1, kind: "keys", text: "ls" }] }, { type: "resize", cols: 80, rows: 24 }] },
  { name: "control commands on the bus", schema: controlCommandSchema, valid: [{ requestId: "r", node: "n", sessionId: "s", action: "lock", reason: "x", actorName: "sam" }] },
  { name: "control requests", schema: controlRequestSchema, valid: [{ action: "terminate", reason: "policy" }] },
  { name: "ticket requests", schema: ticketRequestSchema, valid: [{ purpose: "terminal", targetId: "00000000-0000-4000-8000-000000000000" }, { purpose: "watch", sessionId: "00000000-0000-4000-8000-000000000000" }] },
  { name: "desktop sizes", schema: desktopSizeSchema, valid: [{ width: 1024, height: 768, dpi: 96 }] },
  { name: "session filters", schema: sessionFilterSchema, valid: [{ user: "bob", protocol: "ssh", status: "live", from: "2026-11-01" }] },
  { name: "targets", schema: targetInputSchema, valid: [{ name: "wiki", protocol: "web", internalUrl: "http://10.0.0.5:8080" }, { name: "db", protocol: "ssh", host: "db", port: 22 }] },
  { name: "credentials", schema: credentialInputSchema, valid: [{ name: "k", kind: "password", username: "u", secret: "s" }] },
  { name: "user updates", schema: userUpdateSchema, valid: [{ disabled: true, roles: ["admin"] }] },
  {
    name: "page event batches",
    schema: pageEventBatchSchema,
    valid: [
      { sentAt: now, events: [{ type: 4, timestamp: now, data: { href: "https://wiki/x", width: 1, height: 1 } }, { type: 3, timestamp: now, data: { source: 2 } }] },
      { sentAt: now, events: [{ type: 5, timestamp: now, data: { tag: "gatehouse.navigation", payload: { href: "https://wiki/y" } } }] },
    ],
    invariant: (batch: z.infer<typeof pageEventBatchSchema>) => {
      expect(batch.events.length).toBeLessThanOrEqual(10_000);
      for (const event of batch.events) {
        const address = navigationOf(event);
        if (address !== null) {
          expect(address.length).toBeLessThanOrEqual(pageAddressLimit);
          expect(() => new URL(address)).not.toThrow();
        }
        expect(Math.abs(event.timestamp - batch.sentAt)).toBeLessThanOrEqual(24 * 60 * 60 * 1000);
      }
    },
  },
];

describe(`wire schemas under fuzzing (seed ${seed}, FUZZ_SEED=${seed} reproduces)`, () => {
  for (const { name, schema, valid, invariant } of cases) {
    it(`${name}: a verdict for every input, never an exception, and accepted values within their bounds`, () => {
      const next = seededRandom(seed ^ name.length);
      for (const message of valid) expect(schema.safeParse(message).success, JSON.stringify(message)).toBe(true);
      let accepted = 0;
      for (let round = 0; round < rounds; round++) {
        const input = next() < 0.5 ? randomValue(next) : mutate(valid[round % valid.length], next);
        const text = next() < 0.1 ? JSON.stringify(input).slice(0, Math.floor(next() * 40)) : JSON.stringify(input) ?? "undefined";
        const verdict = parseJsonFrame(schema, text);
        if (verdict.success) {
          accepted += 1;
          invariant?.(verdict.data as never);
        }
      }
      // The mutations leave some inputs valid: the fuzzer reached past the first check.
      expect(accepted).toBeGreaterThan(0);
    });
  }
});

describe(`the Guacamole parser under fuzzing (seed ${seed})`, () => {
  const valid = ["3.key,5.65307,1.1;", "5.mouse,3.100,3.200,1.1;", "4.size,4.1024,3.768;", "4.sync,13.1732000000000;", "9.clipboard,1.1,10.text/plain;", "4.blob,1.1,8.aGVsbG8=;", "3.end,1.1;", "4.nop;", "3.key,1.😀,1.1;"];

  it("parses or refuses every stream, in any chunking, and never holds more than its limit", () => {
    const next = seededRandom(seed);
    const limits = { maxInstructionLength: 4096, maxElements: 64 };
    let parsed = 0;
    for (let round = 0; round < rounds; round++) {
      const parser = new GuacamoleParser(limits);
      let stream = Array.from({ length: 1 + Math.floor(next() * 6) }, () => valid[Math.floor(next() * valid.length)]!).join("");
      // Mutate: flip a character, cut, splice in digits, or make it all noise.
      const roll = next();
      const at = Math.floor(next() * stream.length);
      if (roll < 0.25) stream = stream.slice(0, at) + String.fromCharCode(Math.floor(next() * 0x3000)) + stream.slice(at + 1);
      else if (roll < 0.4) stream = stream.slice(0, at);
      else if (roll < 0.55) stream = `${stream.slice(0, at)}${"9".repeat(1 + Math.floor(next() * 14))}.${stream.slice(at)}`;
      else if (roll < 0.65) stream = Array.from({ length: Math.floor(next() * 200) }, () => String.fromCharCode(Math.floor(next() * 128))).join("");
      else if (roll < 0.7) stream = `${"1.a,".repeat(100)}1.a;`;
      const bytes = new TextEncoder().encode(stream);
      try {
        for (let offset = 0; offset < bytes.length; ) {
          const size = 1 + Math.floor(next() * 16);
          for (const instruction of parser.push(bytes.subarray(offset, offset + size))) {
            parsed += 1;
            expect(instruction.args.length + 1).toBeLessThanOrEqual(limits.maxElements);
          }
          offset += size;
        }
      } catch (error) {
        expect(error, `seed ${seed}, round ${round}: ${JSON.stringify(stream).slice(0, 200)}`).toBeInstanceOf(GuacamoleSyntaxError);
      }
    }
    expect(parsed).toBeGreaterThan(0);
  });

  it("refuses to hold an instruction past its limit however it arrives", () => {
    const parser = new GuacamoleParser({ maxInstructionLength: 1024, maxElements: 8 });
    expect(() => {
      for (let sent = 0; sent < 10; sent++) parser.push(`4000.${"a".repeat(200)}`);
    }).toThrow(GuacamoleSyntaxError);
  });
});
