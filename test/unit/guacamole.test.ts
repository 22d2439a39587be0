import { describe, expect, it } from "vitest";
import { encodeInstruction, GuacamoleParser, GuacamoleSyntaxError } from "@/lib/protocol/guacamole";
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

describe("desktop input", () => {
  const instructions = (...list: [string, (string | number)[]][]) => Buffer.from(list.map(([opcode, args]) => encodeInstruction(opcode, args)).join(""));

  it("passes a user's keys, mouse, resize, acknowledgements and clipboard, and nothing else", () => {
    const stream = new DesktopStream({ pasteAllowed: true });
    const input = instructions(["key", [97, 1]], ["mouse", [10, 20, 1]], ["select", ["rdp"]], ["nop", []], ["sync", [123]], ["size", [800, 600]], ["keyframe", []]);
    expect(stream.input(input).forward?.toString()).toBe(instructions(["key", [97, 1]], ["mouse", [10, 20, 1]], ["sync", [123]], ["size", [800, 600]]).toString());
    const paste = instructions(["clipboard", ["3", "text/plain"]], ["blob", ["3", "aGk="]], ["end", ["3"]], ["blob", ["7", "eA=="]]);
    expect(stream.input(paste).forward?.toString()).toBe(instructions(["clipboard", ["3", "text/plain"]], ["blob", ["3", "aGk="]], ["end", ["3"]]).toString());
    expect(stream.input(paste).shown).toBe("");
  });

  it("drops pastes where the target forbids them", () => {
    const stream = new DesktopStream({ pasteAllowed: false });
    const paste = instructions(["clipboard", ["3", "text/plain"]], ["blob", ["3", "aGk="]], ["end", ["3"]], ["key", [98, 1]]);
    expect(stream.input(paste).forward?.toString()).toBe(instructions(["key", [98, 1]]).toString());
  });

  it("lets only frame acknowledgements through while locked, so the screen goes on updating", () => {
    const stream = new DesktopStream({ pasteAllowed: true });
    expect(stream.inputWhileLocked(instructions(["key", [97, 1]], ["mouse", [1, 1, 0]]))).toBeNull();
    expect(stream.inputWhileLocked(instructions(["key", [97, 1]], ["sync", [55]]))?.toString()).toBe(encodeInstruction("sync", [55]));
  });

  it("drops a malformed frame without ending the session", () => {
    const stream = new DesktopStream({ pasteAllowed: true });
    expect(stream.input(Buffer.from("9999999999999.x;")).forward).toBeNull();
    expect(stream.input(instructions(["key", [97, 0]])).forward?.toString()).toBe(encodeInstruction("key", [97, 0]));
  });
});
