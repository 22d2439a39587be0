// The Guacamole protocol's wire form, shared by the gateway, the browser's tunnel and the tests: an instruction
// is `LENGTH.VALUE` elements separated by `,` and ended by `;`, LENGTH counted in Unicode code points.

export interface GuacInstruction {
  opcode: string;
  args: string[];
}

export class GuacamoleSyntaxError extends Error {
  constructor(message: string) {
    super(`not a Guacamole instruction: ${message}`);
    this.name = "GuacamoleSyntaxError";
  }
}

/** Code points of a string (what Guacamole lengths count), cheap for the usual all-BMP text. */
function codePointLength(text: string): number {
  if (!/[\uD800-\uDBFF]/.test(text)) return text.length;
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

export function encodeInstruction(opcode: string, args: readonly (string | number)[] = []): string {
  let text = `${codePointLength(opcode)}.${opcode}`;
  for (const arg of args) {
    const value = String(arg);
    text += `,${codePointLength(value)}.${value}`;
  }
  return `${text};`;
}

/** How many UTF-16 units `count` code points take from `start`, or -1 when the text ends first. */
function unitsFor(text: string, start: number, count: number): number {
  const end = start + count;
  if (end > text.length) return -1;
  if (!/[\uD800-\uDBFF]/.test(text.slice(start, end))) return count;
  let index = start;
  for (let seen = 0; seen < count; seen += 1) {
    if (index >= text.length) return -1;
    const unit = text.charCodeAt(index);
    index += unit >= 0xd800 && unit <= 0xdbff ? 2 : 1;
  }
  return index > text.length ? -1 : index - start;
}

export interface ParserLimits {
  /** The longest instruction accepted, in UTF-16 units: a peer cannot make the parser hold more. */
  maxInstructionLength: number;
  maxElements: number;
}

/** Instructions up to this long are read from a stored stream (the engine's, whose longest is a 6 KiB blob). */
export const storedStreamLimits: ParserLimits = { maxInstructionLength: 1024 * 1024, maxElements: 4096 };

/** A streaming parser: feed it bytes or text as they arrive, get the instructions completed so far. */
export class GuacamoleParser {
  private pending = "";
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });

  constructor(private readonly limits: ParserLimits = { maxInstructionLength: 64 * 1024, maxElements: 256 }) {}

  push(chunk: Uint8Array | string): GuacInstruction[] {
    this.pending += typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    const instructions: GuacInstruction[] = [];
    let start = 0;
    for (;;) {
      const parsed = this.parseOne(start);
      if (!parsed) break;
      instructions.push(parsed.instruction);
      start = parsed.next;
    }
    this.pending = this.pending.slice(start);
    if (this.pending.length > this.limits.maxInstructionLength) throw new GuacamoleSyntaxError(`an instruction longer than ${this.limits.maxInstructionLength} characters`);
    return instructions;
  }

  private parseOne(start: number): { instruction: GuacInstruction; next: number } | null {
    const text = this.pending;
    const elements: string[] = [];
    let index = start;
    for (;;) {
      const dot = text.indexOf(".", index);
      if (dot === -1) {
        if (text.length - index > 10) throw new GuacamoleSyntaxError("an element without a length");
        return null;
      }
      const lengthText = text.slice(index, dot);
      if (!/^\d{1,10}$/.test(lengthText)) throw new GuacamoleSyntaxError(`bad element length "${lengthText.slice(0, 12)}"`);
      const length = Number(lengthText);
      if (length > this.limits.maxInstructionLength) throw new GuacamoleSyntaxError(`an element of ${length} characters`);
      const units = unitsFor(text, dot + 1, length);
      if (units === -1 || dot + 1 + units >= text.length) return null;
      elements.push(text.slice(dot + 1, dot + 1 + units));
      if (elements.length > this.limits.maxElements) throw new GuacamoleSyntaxError(`more than ${this.limits.maxElements} elements`);
      const terminator = text[dot + 1 + units];
      index = dot + 2 + units;
      if (terminator === ";") return { instruction: { opcode: elements[0]!, args: elements.slice(1) }, next: index };
      if (terminator !== ",") throw new GuacamoleSyntaxError(`unexpected "${terminator}" after an element`);
    }
  }
}
