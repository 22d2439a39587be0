// A headless terminal that follows a session's screen, so that at Enter the command policy reads the line the
// shell shows (after line editing, history recall, completion and pastes), not the keys that were pressed.
// Output is parsed only while someone types: a flood with nobody typing is kept as a bounded tail and parsed
// when the next key comes, so bulk output costs a copy, not a terminal emulation.
import headless from "@xterm/headless";
import type { TerminalSize } from "../protocols/adapter";

/** Output kept unparsed while nobody types; older output is dropped at a line boundary. */
const unparsedLimit = 256 * 1024;
/** After a key, output is parsed as it comes (the echo, the prompt) for this long, or until this much came. */
const typingWindowMs = 5_000;
const typingWindowBytes = 64 * 1024;
/** Rows kept above the screen: a command pasted over many rows is still read whole. */
const scrollback = 500;

const bracketedPasteOnText = "\x1b[?2004h";
const bracketedPasteOn = Buffer.from(bracketedPasteOnText);
const bracketedPasteOff = Buffer.from("\x1b[?2004l");
const escapeSequenceStart = Buffer.from("\x1b[?");
// eslint-disable-next-line no-control-regex
const alternateScreenSwitch = /\x1b\[\?(1049|1047|47)([hl])/g;

interface Position {
  /** Follows its row as the screen scrolls; disposed once the row leaves the scrollback. */
  marker: headless.IMarker;
  column: number;
  /** The screen text before the command on its row: the prompt, to find the command again after a redraw. */
  prompt: string;
}

export class ScreenMirror {
  private readonly terminal: headless.Terminal;
  private unparsed: Buffer[] = [];
  private unparsedBytes = 0;
  /** Parse requests the terminal has not finished yet; zero means the mirror shows all output it was given. */
  private parsing = 0;
  private lastKeyAt = -Infinity;
  private outputSinceKey = 0;
  /** Whether the program asked for bracketed pastes, read off the raw output: it flips with every prompt in bash. */
  private pasteMarked = false;
  /**
   * The end of the last output, where a switch to marked pastes may have been cut in two. A string: a small Buffer
   * copy is a slice of Node's shared pool and would keep a whole slab per session.
   */
  private outputEnd = "";
  private pasteMarkingStarts = 0;
  /** Where the command being typed starts; null until the first key of a line is seen. */
  private lineStart: Position | null = null;
  private awaitingLineStart = false;

  constructor(size: TerminalSize) {
    this.terminal = new headless.Terminal({ cols: size.cols, rows: size.rows, scrollback, allowProposedApi: true });
  }

  output(data: Buffer, now: number) {
    const on = this.countPasteMarkingStarts(data);
    const off = data.lastIndexOf(bracketedPasteOff);
    if (on !== off) this.pasteMarked = on > off;
    this.outputSinceKey += data.length;
    // Answers to keys are parsed as they come; what a command pours out is kept as a tail for the next key.
    if (this.typing(now) && this.unparsedBytes === 0) return this.parse(data);
    this.unparsed.push(data);
    this.unparsedBytes += data.length;
    if (this.unparsedBytes > unparsedLimit) this.dropOldOutput();
  }

  /** Someone typed a moment ago, and what came since is an answer to keys rather than a command's flood. */
  typing(now: number): boolean {
    return now - this.lastKeyAt < typingWindowMs && this.outputSinceKey <= typingWindowBytes;
  }

  resize(size: TerminalSize) {
    this.flush();
    this.terminal.resize(size.cols, size.rows);
  }

  /** A key is about to reach the target: output so far is parsed, and the first key of a line marks where it starts. */
  key(now: number) {
    this.lastKeyAt = now;
    this.outputSinceKey = 0;
    this.flush();
    if (this.lineStart === null && !this.awaitingLineStart) {
      this.awaitingLineStart = true;
      this.afterParsing(() => {
        this.awaitingLineStart = false;
        this.lineStart = this.cursor();
      });
    }
  }

  /** The line ended (Enter reached the target, or Ctrl-C dropped it): the next key starts a new one. */
  lineEnded() {
    this.lineStart?.marker.dispose();
    this.lineStart = null;
  }

  /** True when every byte of output given so far is on the mirrored screen. */
  get current(): boolean {
    return this.parsing === 0 && this.unparsedBytes === 0;
  }

  /** Settles once everything given so far is parsed. */
  settled(): Promise<void> {
    this.flush();
    return new Promise((resolve) => this.afterParsing(resolve));
  }

  /** A full-screen program (an editor, a pager) has the screen: Enter there is not a command line. */
  get fullScreen(): boolean {
    return this.terminal.buffer.active.type === "alternate";
  }

  /** The program asked for pasted text to be marked (bash, psql…): Enter inside a paste does not run anything. */
  get bracketedPaste(): boolean {
    return this.pasteMarked;
  }

  /**
   * How many times the program has asked for marked pastes so far. Bash (and zsh, fish) ask as each prompt is drawn and
   * stop as a command runs: a count that moved since a key was sent says the key came before the prompt it went to.
   */
  get prompts(): number {
    return this.pasteMarkingStarts;
  }

  /** Counts the requests for marked pastes in `data` (one cut across the last output too); returns where the last one in `data` starts, or -1. */
  private countPasteMarkingStarts(data: Buffer): number {
    const overlap = bracketedPasteOn.length - 1;
    if (this.outputEnd !== "" && (this.outputEnd + data.toString("latin1", 0, overlap)).includes(bracketedPasteOnText)) this.pasteMarkingStarts += 1;
    let last = -1;
    for (let at = data.indexOf(bracketedPasteOn); at !== -1; at = data.indexOf(bracketedPasteOn, at + 1)) {
      this.pasteMarkingStarts += 1;
      last = at;
    }
    this.outputEnd = data.toString("latin1", Math.max(0, data.length - overlap));
    return last;
  }

  /**
   * The command line as the screen shows it now: from where its first key was typed to the end of the cursor's
   * row (wrapped rows joined, other rows as new lines). After a redraw elsewhere (a completion list, Ctrl-L) the
   * cursor's line is read from the prompt on; with no known start, the whole line at the cursor. Null when the
   * command began above what the mirror keeps.
   */
  commandLine(): string | null {
    const buffer = this.terminal.buffer.active;
    const cursorRow = buffer.baseY + buffer.cursorY;
    let lastRow = cursorRow;
    while (this.continues(lastRow + 1)) lastRow += 1;
    let firstRow = cursorRow;
    while (firstRow > 0 && this.continues(firstRow)) firstRow -= 1;
    const start = this.lineStart;
    // A command that began above what the mirror keeps (a paste of hundreds of lines) cannot be read whole.
    if (start?.marker.isDisposed) return null;
    const startRow = start?.marker.line ?? -1;
    const line = this.text(firstRow, 0, lastRow);
    const redrawnBelow = start !== null && firstRow > startRow && start.prompt.trim() !== "" && line.startsWith(start.prompt);
    const read =
      start && !redrawnBelow && startRow <= lastRow && this.rowText(startRow).startsWith(start.prompt)
        ? this.text(startRow, start.column, lastRow)
        : start && start.prompt.trim() && line.startsWith(start.prompt)
          ? line.slice(start.prompt.length)
          : // No known prompt (the screen was redrawn around it): what looks like one (`user@host:~$ `, `db=# `) is taken off.
            line.replace(/^[^\n]{0,120}?[$#%>] /, "");
    // Erased characters are blanks on screen, not nothing: trailing ones are not part of the command.
    return read.replace(/[ \t]+$/gm, "");
  }

  private text(fromRow: number, fromColumn: number, toRow: number): string {
    const buffer = this.terminal.buffer.active;
    let text = "";
    for (let row = fromRow; row <= toRow; row++) {
      const line = this.line(row);
      if (!line) continue;
      if (row > fromRow && !this.continues(row)) text += "\n";
      const wrapsOn = this.continues(row + 1);
      // Up to the width: a row recycled from the scrollback may hold stale cells beyond it.
      text += line.translateToString(!wrapsOn, row === fromRow ? fromColumn : 0, this.terminal.cols);
    }
    return text;
  }

  /**
   * Whether a row continues the one above (a long line wrapped). A row recycled from the scrollback can keep a
   * stale wrapped flag, so the row above must also be full to its last column.
   */
  private continues(row: number): boolean {
    if (row <= 0 || !this.line(row)?.isWrapped) return false;
    return (this.line(row - 1)?.getCell(this.terminal.cols - 1)?.getChars() ?? "") !== "";
  }

  /**
   * A row of the buffer, or undefined outside it. xterm's own getLine does not check: past the last row it wraps
   * around its ring of rows, so a line longer than the scrollback (`base64 -w 0`) would continue for ever.
   */
  private line(row: number) {
    const buffer = this.terminal.buffer.active;
    return row >= 0 && row < buffer.length ? buffer.getLine(row) : undefined;
  }

  private rowText(row: number): string {
    return this.line(row)?.translateToString(false, 0, this.terminal.cols) ?? "";
  }

  /** Null where no row can be followed (a full-screen program has the screen). */
  private cursor(): Position | null {
    const buffer = this.terminal.buffer.active;
    const marker = this.terminal.registerMarker(0);
    if (!marker) return null;
    return { marker, column: buffer.cursorX, prompt: this.rowText(buffer.baseY + buffer.cursorY).slice(0, buffer.cursorX) };
  }

  private parse(data: Buffer | string) {
    this.parsing += 1;
    this.terminal.write(data, () => (this.parsing -= 1));
  }

  private afterParsing(then: () => void) {
    this.parsing += 1;
    this.terminal.write("", () => {
      this.parsing -= 1;
      then();
    });
  }

  private flush() {
    if (this.unparsedBytes === 0) return;
    for (const part of this.unparsed) this.parse(part);
    this.unparsed = [];
    this.unparsedBytes = 0;
  }

  /**
   * Keeps the last part of a flood. What is dropped cannot be drawn, but whether it left a full-screen program
   * running can be seen in it, so that switch is replayed; the tail then redraws the screen as it ends up. Whole
   * parts are dropped, oldest first: copying the tail out of a flood cost more than everything else the mirror does.
   */
  private dropOldOutput() {
    let alternate: string | null = null;
    /** The end of the part dropped before, where a switch may have been cut in two. */
    let seam = "";
    const drop = (part: Buffer) => {
      if (part.includes(escapeSequenceStart) || seam.includes("\x1b")) for (const match of (seam + part.toString("latin1")).matchAll(alternateScreenSwitch)) alternate = match[0];
      seam = part.subarray(-7).toString("latin1");
    };
    while (this.unparsed.length > 1 && this.unparsedBytes - this.unparsed[0]!.length >= unparsedLimit / 2) {
      const part = this.unparsed.shift()!;
      this.unparsedBytes -= part.length;
      drop(part);
    }
    // A single part larger than the allowance (a target that sent megabytes at once): only its end is kept.
    const last = this.unparsed.at(-1)!;
    if (this.unparsed.length === 1 && last.length > unparsedLimit / 2) {
      drop(last.subarray(0, last.length - unparsedLimit / 2));
      this.unparsed = [Buffer.from(last.subarray(last.length - unparsedLimit / 2))];
    }
    // What is kept starts at a line boundary, when there is one.
    const lineEndAt = this.unparsed.findIndex((part) => part.includes(0x0a));
    if (lineEndAt !== -1) {
      const part = this.unparsed[lineEndAt]!;
      this.unparsed = [part.subarray(part.indexOf(0x0a) + 1), ...this.unparsed.slice(lineEndAt + 1)];
    }
    if (alternate) this.unparsed.unshift(Buffer.from(alternate, "latin1"));
    this.unparsedBytes = this.unparsed.reduce((bytes, part) => bytes + part.length, 0);
  }

  dispose() {
    this.terminal.dispose();
  }
}
