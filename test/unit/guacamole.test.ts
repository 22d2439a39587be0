import { describe, expect, it } from "vitest";
import { encodeInstruction, GuacamoleParser, GuacamoleSyntaxError } from "@/lib/protocol/guacamole";
import type { CommandRuleRow } from "@/lib/data/command-policy/rules";
import { atLeastSource, checkRule } from "@/lib/domain/command-policy/rule-matcher";
import { DesktopStream } from "@/server/protocols/guac/desktop-stream";

describe("Guacamole instructions", () => {
  it("encodes with lengths in code points, not bytes or UTF-16 units", () => {
    expect(encodeInstruction("size", [0, 1024, 768])).toBe("4.size,1.0,4.1024,3.768;");
    expect(encodeInstruction("blob", ["1", "héllo 🐙"])).toBe("4.blob,1.1,7.héllo 🐙;");
    expect(encodeInstruction("nop")).toBe("3.nop;");
  });

  it("parses instructions split anywhere, even inside a UTF-8 character", () => {
    const text = encodeInstruction("clipboard", ["2", "text/plain"]) + encodeInstruction("blob", ["2", "ünïcödé 🐙"]) + encodeInstruction("end", ["2"]);
    const bytes = Buffer.from(text, "utf8");
    for (const cut of [1, 5, 17, 30, 38, 39, 40, bytes.length - 1]) {
      const parser = new GuacamoleParser();
      const parsed = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))];
      expect(parsed).toEqual([
        { opcode: "clipboard", args: ["2", "text/plain"] },
        { opcode: "blob", args: ["2", "ünïcödé 🐙"] },
        { opcode: "end", args: ["2"] },
      ]);
    }
  });

  it("refuses malformed input and instructions past the limit instead of holding them", () => {
    expect(() => new GuacamoleParser().push("4.size,x.0;")).toThrow(GuacamoleSyntaxError);
    expect(() => new GuacamoleParser().push("4.sizeX1.0;")).toThrow(GuacamoleSyntaxError);
    const small = new GuacamoleParser({ maxInstructionLength: 32, maxElements: 4 });
    expect(() => small.push(`4.blob,1.1,40.${"a".repeat(10)}`)).toThrow(/40 characters/);
    expect(() => new GuacamoleParser({ maxInstructionLength: 1024, maxElements: 4 }).push("1.a,1.b,1.c,1.d,1.e;")).toThrow(/elements/);
  });
});

const noClipboardRules = { clipboardRules: () => [], matched: () => {} };

describe("desktop input", () => {
  const instructions = (...list: [string, (string | number)[]][]) => Buffer.from(list.map(([opcode, args]) => encodeInstruction(opcode, args)).join(""));

  it("passes a user's keys, mouse, resize, acknowledgements and clipboard, and nothing else", () => {
    const stream = new DesktopStream({ pasteAllowed: true, ...noClipboardRules });
    const input = instructions(["key", [97, 1]], ["mouse", [10, 20, 1]], ["select", ["rdp"]], ["nop", []], ["sync", [123]], ["size", [800, 600]], ["keyframe", []]);
    expect(stream.input(input).forward?.toString()).toBe(instructions(["key", [97, 1]], ["mouse", [10, 20, 1]], ["sync", [123]], ["size", [800, 600]]).toString());
    const paste = instructions(["clipboard", ["3", "text/plain"]], ["blob", ["3", "aGk="]], ["end", ["3"]], ["blob", ["7", "eA=="]]);
    expect(stream.input(paste).forward?.toString()).toBe(instructions(["clipboard", ["3", "text/plain"]], ["blob", ["3", "aGk="]], ["end", ["3"]]).toString());
    expect(stream.input(paste).shown).toBe("");
  });

  it("drops pastes where the target forbids them", () => {
    const stream = new DesktopStream({ pasteAllowed: false, ...noClipboardRules });
    const paste = instructions(["clipboard", ["3", "text/plain"]], ["blob", ["3", "aGk="]], ["end", ["3"]], ["key", [98, 1]]);
    expect(stream.input(paste).forward?.toString()).toBe(instructions(["key", [98, 1]]).toString());
  });

  it("lets only frame acknowledgements through while locked, so the screen goes on updating", () => {
    const stream = new DesktopStream({ pasteAllowed: true, ...noClipboardRules });
    expect(stream.inputWhileLocked(instructions(["key", [97, 1]], ["mouse", [1, 1, 0]]))).toBeNull();
    expect(stream.inputWhileLocked(instructions(["key", [97, 1]], ["sync", [55]]))?.toString()).toBe(encodeInstruction("sync", [55]));
  });

  it("drops a malformed frame without ending the session", () => {
    const stream = new DesktopStream({ pasteAllowed: true, ...noClipboardRules });
    expect(stream.input(Buffer.from("9999999999999.x;")).forward).toBeNull();
    expect(stream.input(instructions(["key", [97, 0]])).forward?.toString()).toBe(encodeInstruction("key", [97, 0]));
  });
});

describe("clipboard rules on a desktop", () => {
  const instructions = (...list: [string, (string | number)[]][]) => Buffer.from(list.map(([opcode, args]) => encodeInstruction(opcode, args)).join(""));
  const rule = (pattern: string, action: string) => ({ id: pattern, name: pattern, kind: "clipboard", matchMode: "regex", pattern, action, severity: "high" }) as unknown as CommandRuleRow;
  const paste = (text: string) => instructions(["clipboard", ["3", "text/plain"]], ["blob", ["3", Buffer.from(text).toString("base64")]], ["end", ["3"]]);

  it("reads sizes the way the rules say them", () => {
    for (const [least, below, atOrAbove] of [[0, [], [0, 7]], [1, [0], [1, 9, 10]], [4096, [0, 4095, 999], [4096, 4099, 4100, 5000, 9999, 10000, 123456]], [1009, [1008, 999], [1009, 1010, 1100, 2000]]] as const) {
      const pattern = new RegExp(`^${atLeastSource(least)}$`);
      for (const number of below) expect(pattern.test(String(number)), `${number} >= ${least}`).toBe(false);
      for (const number of atOrAbove) expect(pattern.test(String(number)), `${number} >= ${least}`).toBe(true);
    }
    expect(checkRule({ kind: "clipboard", matchMode: "regex", pattern: "paste >= 4k", testMatch: ["paste 4096"], testNoMatch: ["paste 4095", "copy 9000"] })).toEqual({});
    expect(checkRule({ kind: "clipboard", matchMode: "regex", pattern: "sideways", testMatch: [], testNoMatch: [] }).pattern).toMatch(/paste, copy or any/);
  });

  it("holds a paste until its end, then sends it whole, or drops it when a rule stops it", () => {
    const matches: { subject: string; dropped: boolean }[] = [];
    let rules = [rule("paste >= 10", "block")];
    const stream = new DesktopStream({ pasteAllowed: true, clipboardRules: () => rules, matched: (match) => matches.push(match) });
    const small = paste("hi");
    expect(stream.input(small.subarray(0, small.indexOf("3.end"))).forward).toBeNull();
    expect(stream.input(small.subarray(small.indexOf("3.end"))).forward?.toString()).toBe(small.toString());
    expect(stream.input(paste("a long secret document")).forward).toBeNull();
    expect(matches).toEqual([expect.objectContaining({ subject: "a paste of 22 bytes into the desktop", dropped: true })]);
    rules = [rule("any", "alert")];
    expect(stream.input(paste("a long secret document")).forward?.toString()).toBe(paste("a long secret document").toString());
    expect(matches.at(-1)).toMatchObject({ dropped: false });
  });

  it("keeps at most four pastes open at once, so held ones stay bounded", () => {
    const stream = new DesktopStream({ pasteAllowed: true, clipboardRules: () => [rule("paste >= 1m", "block")], matched: () => {} });
    for (let index = 0; index < 6; index++) stream.input(instructions(["clipboard", [String(index), "text/plain"]], ["blob", [String(index), "aGk="]]));
    expect(stream.input(instructions(["end", ["5"]])).forward).toBeNull();
    expect(stream.input(instructions(["end", ["0"]])).forward?.toString()).toBe(instructions(["clipboard", ["0", "text/plain"]], ["blob", ["0", "aGk="]], ["end", ["0"]]).toString());
  });

  it("measures copies out of the desktop in the engine's output, split anywhere", () => {
    const matches: { subject: string }[] = [];
    const stream = new DesktopStream({ pasteAllowed: true, clipboardRules: () => [rule("copy >= 1k", "alert")], matched: (match) => matches.push(match) });
    const output = instructions(["img", ["1", "14", "0", "image/png", "0", "0"]], ["clipboard", ["5", "text/plain"]], ["blob", ["5", Buffer.alloc(700).toString("base64")]], ["blob", ["5", Buffer.alloc(700).toString("base64")]], ["end", ["5"]], ["sync", ["1"]]);
    for (let offset = 0; offset < output.length; offset += 97) stream.observeOutput(output.subarray(offset, offset + 97));
    expect(matches.map((match) => match.subject)).toEqual(["a copy of 1400 bytes out of the desktop"]);
  });
});
