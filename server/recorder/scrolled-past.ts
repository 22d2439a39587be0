// Output that scrolls past the keyframe's reach before the next keyframe need not be emulated. A flood of plain
// text (printable ASCII, CR, LF: `base64`, logs, `cat`) changes nothing but the rows it writes and the cursor, so
// once a run has pushed the cursor to the bottom row, any stretch of it that leaves the cursor in the same column
// and is followed by enough rows to push every row it wrote out of the terminal's buffer can be left out, and
// the screen, scrollback and cursor come out exactly as if it had been emulated. Only the terminal's plain state
// allows this (main buffer, auto-wrap on, insert and origin mode off, LF without CR, no scroll region, buffer
// full); the column is simulated and checked against the terminal's own before anything is left out.
import type headless from "@xterm/headless";

type Terminal = InstanceType<typeof headless.Terminal>;

const CR = 0x0d;
const LF = 0x0a;
// eslint-disable-next-line no-control-regex
const notPlain = /[^\x20-\x7e\r\n]/g;
// eslint-disable-next-line no-control-regex
const plainRun = /[\x20-\x7e\r\n]+/g;
/** Shorter plain runs inside a piece of output (between colours, say) are written without being followed. */
const followedRunLength = 1024;
/** A run held back and never cut is written out at this length: memory stays bounded whatever the output. */
const heldLimit = 4 * 1024 * 1024;

/** Where the next plain run worth following starts (long enough, or reaching the end of the piece), or -1. */
function nextRun(data: string, from: number): number {
  plainRun.lastIndex = from;
  for (let match = plainRun.exec(data); match; match = plainRun.exec(data)) {
    if (plainRun.lastIndex === data.length || match[0].length >= followedRunLength) return match.index;
  }
  return -1;
}

const write = (terminal: Terminal, data: string) => new Promise<void>((resolve) => terminal.write(data, resolve));

/** The terminal's scroll region is not in its public API; a full-screen one is what the skip needs. */
function fullScrollRegion(terminal: Terminal): boolean {
  const buffer = (terminal as unknown as { _core?: { buffer?: { scrollTop?: number; scrollBottom?: number } } })._core?.buffer;
  return buffer?.scrollTop === 0 && buffer.scrollBottom === terminal.rows - 1;
}

function plainState(terminal: Terminal, scrollback: number): boolean {
  const { modes, buffer } = terminal;
  return (
    buffer.active.type === "normal" &&
    modes.wraparoundMode &&
    !modes.insertMode &&
    !modes.originMode &&
    !terminal.options.convertEol &&
    fullScrollRegion(terminal) &&
    buffer.active.length === terminal.rows + scrollback
  );
}

/** A plain run being followed: the cursor column and the rows it advanced, as the terminal would have them. */
interface Run {
  cols: number;
  x: number;
  advances: number;
  /** Rows the head must advance: to the bottom row, and on until the buffer is full. */
  head: number;
}

/** Feeds one character of a plain run to the simulation (it sees every byte of a flood: kept small). */
function step(run: Run, code: number) {
  if (code === CR) run.x = 0;
  else if (code === LF) {
    // At the right margin with a wrap pending, a line feed leaves the cursor on the last column.
    if (run.x >= run.cols) run.x = run.cols - 1;
    run.advances += 1;
  } else {
    if (run.x >= run.cols) {
      run.x = 0;
      run.advances += 1;
    }
    run.x += 1;
  }
}

/**
 * Follows a piece of a plain run line by line, not character by character (it sees every byte of a flood): a
 * stretch of n printable characters from column x0 ends on column ((x0 + n - 1) mod cols) + 1 after
 * floor((x0 + n - 1) / cols) wraps. `resumable` hears of points where the cursor is in `column` (the last one
 * of each stretch, and after each line break).
 */
function advance(run: Run, text: string, column: number, resumable: (at: number, advancesBefore: number) => void) {
  const { cols } = run;
  let nextCr = text.indexOf("\r");
  let nextLf = text.indexOf("\n");
  for (let at = 0; at < text.length; ) {
    if (nextCr !== -1 && nextCr < at) nextCr = text.indexOf("\r", at);
    if (nextLf !== -1 && nextLf < at) nextLf = text.indexOf("\n", at);
    const lineBreak = Math.min(nextCr === -1 ? text.length : nextCr, nextLf === -1 ? text.length : nextLf);
    const count = lineBreak - at;
    if (count > 0) {
      const from = run.x;
      const last = from + count;
      // The last character of the stretch that leaves the cursor in the column (a column of 0 is never left by one).
      const hit = column >= 1 ? last - ((((last - column) % cols) + cols) % cols) : -1;
      if (hit > from) resumable(at + hit - from, run.advances + Math.floor((hit - 1) / cols));
      run.advances += Math.floor((last - 1) / cols);
      run.x = ((last - 1) % cols) + 1;
    }
    if (lineBreak === text.length) break;
    step(run, text.charCodeAt(lineBreak));
    if (run.x === column) resumable(lineBreak + 1, run.advances);
    at = lineBreak + 1;
  }
}

/** A point of the held text where the run could resume: the cursor is in the cut column there. */
interface Resume {
  at: number;
  advancesBefore: number;
}

export class ScrolledPastOutput {
  /** The plain run now being written, or null between runs. */
  private run: Run | null = null;
  /**
   * Once the head of a run has brought the cursor to the bottom row: the text held back since, and the points it
   * could resume from (at most one per row). The first is the latest one with enough rows after it: all text
   * before it has been left out.
   */
  private held: { pieces: string[]; length: number; resumes: Resume[] } | null = null;
  private cutColumn = 0;
  /** Settles when the terminal has parsed the last text written. */
  private parsed = Promise.resolve();
  /** Characters left out: the tests check that a flood is mostly skipped. */
  readonly counts = { skipped: 0 };

  constructor(
    private readonly terminal: Terminal,
    private readonly scrollback: number,
  ) {}

  /** Rows a run must advance after a resume point for every row written before it to have left the buffer. */
  private get rowsToForget() {
    return this.terminal.rows + this.scrollback + 1;
  }

  /**
   * Output, in order: plain runs long enough to matter (or reaching the end of this piece, as a flood's do) are
   * followed and may be held back; everything else is written as it is.
   */
  async write(data: string): Promise<void> {
    let from = 0;
    while (from < data.length) {
      if (this.run) {
        notPlain.lastIndex = from;
        const end = notPlain.test(data) ? notPlain.lastIndex - 1 : data.length;
        await this.plain(data.slice(from, end));
        if (end < data.length) await this.endRun();
        from = end;
        continue;
      }
      const start = nextRun(data, from);
      if (start === -1) return this.emit(data.slice(from));
      this.emit(data.slice(from, start));
      await this.startRun();
      from = start;
    }
  }

  /** Writes what is held back, from its resume point, and waits until it is parsed: the terminal is then exact. */
  async flush(): Promise<void> {
    const held = this.held;
    this.run = null;
    this.held = null;
    if (held) for (const piece of held.pieces) this.emit(piece);
    await this.settled();
  }

  private async endRun() {
    if (this.held) await this.flush();
    this.run = null;
  }

  /** Queued in order; `settled()` waits until the terminal has parsed it. */
  private emit(text: string) {
    if (text !== "") this.parsed = write(this.terminal, text);
  }

  /** Settles when the terminal has parsed everything written so far. */
  settled(): Promise<void> {
    return this.parsed;
  }

  private async startRun() {
    // The simulation starts from the terminal's own column: everything before is parsed first.
    await this.settled();
    const buffer = this.terminal.buffer.active;
    this.run = { cols: this.terminal.cols, x: buffer.cursorX, advances: 0, head: this.terminal.rows + (this.terminal.rows + this.scrollback - buffer.length) };
  }

  /** A piece of the current plain run. */
  private async plain(text: string) {
    const run = this.run!;
    let index = 0;
    if (!this.held) {
      // The head: written as it comes until the cursor is surely on the bottom row and the buffer full.
      while (index < text.length && run.advances < run.head) step(run, text.charCodeAt(index++));
      this.emit(text.slice(0, index));
      if (run.advances < run.head) return;
      await this.settled();
      const buffer = this.terminal.buffer.active;
      // The simulated cursor must be the terminal's own, or nothing is left out of this run.
      if (!plainState(this.terminal, this.scrollback) || buffer.cursorX !== run.x || buffer.cursorY !== this.terminal.rows - 1) {
        this.run = null;
        return this.emit(text.slice(index));
      }
      this.cutColumn = run.x;
      this.held = { pieces: [], length: 0, resumes: [{ at: 0, advancesBefore: 0 }] };
    }
    const held = this.held;
    const piece = text.slice(index);
    const { resumes } = held;
    let last = resumes[resumes.length - 1]!.advancesBefore;
    advance(run, piece, this.cutColumn, (at, advancesBefore) => {
      if (advancesBefore <= last) return;
      last = advancesBefore;
      resumes.push({ at: held.length + at, advancesBefore });
    });
    held.pieces.push(piece);
    held.length += piece.length;
    // The latest resume point with enough rows after it wins; the text before it is left out now.
    let latest = 0;
    while (latest + 1 < resumes.length && run.advances - resumes[latest + 1]!.advancesBefore >= this.rowsToForget) latest += 1;
    if (latest > 0) this.leaveOut(resumes[latest]!, latest);
    if (held.length > heldLimit) await this.flush();
  }

  /** Drops the held text before a resume point: the terminal will never see it. */
  private leaveOut({ at, advancesBefore }: Resume, index: number) {
    const held = this.held!;
    this.counts.skipped += at;
    let dropped = 0;
    while (held.pieces.length > 0 && dropped + held.pieces[0]!.length <= at) dropped += held.pieces.shift()!.length;
    if (dropped < at) held.pieces[0] = held.pieces[0]!.slice(at - dropped);
    held.length -= at;
    held.resumes = held.resumes.slice(index).map((resume) => ({ at: resume.at - at, advancesBefore: resume.advancesBefore - advancesBefore }));
    this.run!.advances -= advancesBefore;
  }
}
