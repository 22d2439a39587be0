// The command policy of one terminal session: finds the Enters in the user's input that would run a line,
// reads that line off the mirrored screen and matches it against the session's command rules; matches output
// lines against its output rules. What to do about a match is the session's (server/session.ts): this only
// says what matched.
import { StringDecoder } from "node:string_decoder";
import { longestCheckedLine } from "../../lib/domain/command-policy/command-line";
import type { RuleSet, SessionRules } from "../../lib/domain/command-policy/rule-book";
import { subjectsFor } from "../../lib/domain/command-policy/rule-matcher";
import type { CommandRuleRow } from "../../lib/data/command-policy/rules";
import { OutputLineTracker } from "../../lib/domain/transcript-lines";
import type { TerminalSize } from "../protocols/adapter";
import { ScreenMirror } from "./screen-mirror";

/**
 * What matched a line or an output line. `unchecked` says why the line could not be matched in full: the rules ran
 * past their deadline, the line is too long, or keys that edit it were typed before the shell drew its prompt.
 */
export interface PolicyMatch {
  subject: string;
  rules: CommandRuleRow[];
  unchecked: "deadline" | "too_long" | "typed_ahead" | null;
}

/** How long an Enter waits for the echo of the keys before it (a paste arrives with its Enter in one frame). */
const echoWaitMs = 300;
/** The echo is taken as complete once output has been quiet this long. */
const echoQuietMs = 15;
/** Echoes this close together are not a person typing (a fast typist's keys are 50–100 ms apart): the line is matched ahead of Enter once they pause this long. */
const speculationPauseMs = 10;
/** Output lines matched per second at most: a flood is sampled, never matched line by line. */
const outputLinesPerSecond = 100;

const pasteStart = Buffer.from("\x1b[200~");
const pasteEnd = Buffer.from("\x1b[201~");
/** Enter, Ctrl-J and Ctrl-O (bash's operate-and-get-next) all run the line. */
const runsLine = (byte: number) => byte === 0x0d || byte === 0x0a || byte === 0x0f;
/** Ctrl-C and Ctrl-D end the line being typed without running it. */
const dropsLine = (byte: number) => byte === 0x03 || byte === 0x04;

/** The rules that could withhold a line: one that cannot be checked is withheld wherever one of them could have. */
const withholding = (rules: RuleSet<CommandRuleRow>) => rules.rules.filter((rule) => rule.action !== "alert");

/** Whether a shell would ask for more before running this: a `\` at the end, an open quote, a trailing `|`, `&&` or `||`. */
export function isUnfinished(text: string): boolean {
  let quote: string | null = null;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (char === "\\" && quote !== "'") index += 1;
    else if (quote === null && (char === "'" || char === '"')) quote = char;
    else if (char === quote) quote = null;
  }
  return quote !== null || /(\\|\||&&)\s*$/.test(text);
}

/**
 * The text a line's keys put on it when every key since the line began was a printable character or a
 * Backspace; null once any other key (cursor keys, history, completion, Ctrl-anything) made it a guess.
 */
class TypedLine {
  private readonly decoder = new StringDecoder("utf8");
  /** Its first characters, one past what would be checked: a longer line is "too long" whatever else is typed. */
  private readonly kept: string[] = [];
  private length = 0;
  private known = true;

  type(input: Buffer) {
    if (!this.known) return;
    for (const char of this.decoder.write(input)) {
      const code = char.codePointAt(0)!;
      if (code === 0x7f || code === 0x08) {
        if (this.length > 0) this.length -= 1;
        if (this.kept.length > this.length) this.kept.length = this.length;
      } else if (code >= 0x20 && !(code >= 0x80 && code < 0xa0)) {
        if (this.kept.length <= longestCheckedLine) this.kept.push(char);
        this.length += 1;
      } else return void (this.known = false);
    }
  }

  get text(): string | null {
    return this.known ? this.kept.join("") : null;
  }
}

export class CommandPolicy {
  private readonly mirror: ScreenMirror;
  private inPaste = false;
  /**
   * Frames sent to the target (keys, an Enter, a cleared line) that no output has answered yet. One flag
   * ("output came after the last key") is not enough: the echo of an earlier key can arrive after later keys
   * were sent, and an Enter judged then would read a screen without their effect (a recalled `echo rm …` whose
   * `echo ` was just deleted). Each output answers at most one frame; coalesced echoes leave some unanswered,
   * and the Enter then waits out `echoWaitMs`.
   */
  private unanswered = 0;
  /** What the keys of this line typed, where that can be known from the keys alone. */
  private typed = new TypedLine();
  /** Whether the keys go to a prompt that hides them (a password): such keys are never shown as a subject. */
  private typedMasked = false;
  /** The shell's prompt count when this line's first key was sent; null before it. */
  private promptsAtFirstKey: number | null = null;
  private lastOutputAt = 0;
  private outputDecoder = new StringDecoder("utf8");
  private outputLines = new OutputLineTracker();
  /** False after output went by unread (the budget was spent): decoding starts afresh. */
  private outputSampled = true;
  private outputBudget = outputLinesPerSecond;
  private outputBudgetSince = 0;
  private echoWaiters: (() => void)[] = [];
  /** An unfinished command that ran on (`\` at its end, an open quote, a trailing pipe): the next line completes it. */
  private unfinished: string | null = null;
  /** The command the last Enter ran, unfinished part included: as typed where the keys tell, else as read. */
  private lastRead: string | null = null;
  /** The line last matched ahead of Enter, against which rule set, and what matched. */
  private speculation: { line: string; rules: RuleSet<CommandRuleRow>; result: Promise<PolicyMatch | null> } | null = null;
  private speculationTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly rules: SessionRules,
    size: TerminalSize,
  ) {
    this.mirror = new ScreenMirror(size);
  }

  /** Target output: onto the mirror, and its lines (sampled) to the output rules. Settles with what matched. */
  output(data: Buffer, now = Date.now()): Promise<PolicyMatch[]> | null {
    this.mirror.output(data, now);
    this.lastOutputAt = now;
    if (this.unanswered > 0) this.unanswered -= 1;
    if (this.echoWaiters.length > 0) for (const wake of this.echoWaiters.splice(0)) wake();
    if (this.mirror.typing(now)) this.speculateAfterPause();
    const outputRules = this.rules.of("output");
    if (outputRules.size === 0) return null;
    if (now - this.outputBudgetSince >= 1000) {
      this.outputBudget = outputLinesPerSecond;
      this.outputBudgetSince = now;
    }
    // Past the budget the output is not even decoded: the next second starts again from a fresh line.
    if (this.outputBudget <= 0) {
      this.outputSampled = false;
      return null;
    }
    if (!this.outputSampled) {
      this.outputDecoder = new StringDecoder("utf8");
      this.outputLines = new OutputLineTracker();
      this.outputSampled = true;
    }
    const lines = this.outputLines.write(this.outputDecoder.write(data), this.outputBudget);
    if (lines.length === 0) return null;
    this.outputBudget -= lines.length;
    return Promise.all(
      lines.map(async (line): Promise<PolicyMatch | null> => {
        const matched = await outputRules.match([line]);
        if (matched === "undecided") return { subject: line, rules: [], unchecked: "deadline" };
        return matched.length > 0 ? { subject: line, rules: matched, unchecked: null } : null;
      }),
    ).then((matches) => matches.filter((match) => match !== null));
  }

  resize(size: TerminalSize) {
    this.mirror.resize(size);
  }

  /**
   * The index of the first byte in `input` that would run the line typed so far, or -1. Enter inside a
   * bracketed paste does not count, but only where the program asked for such pastes: a browser cannot hide
   * an Enter from a program that never did.
   */
  nextEnter(input: Buffer): number {
    for (let index = 0; index < input.length; index++) {
      const byte = input[index]!;
      if (byte === 0x1b && this.mirror.bracketedPaste) {
        if (input.subarray(index, index + pasteStart.length).equals(pasteStart)) this.inPaste = true;
        else if (input.subarray(index, index + pasteEnd.length).equals(pasteEnd)) this.inPaste = false;
      }
      if (runsLine(byte) && !this.inPaste) return index;
    }
    return -1;
  }

  /** Keys (with no Enter among them) are about to reach the target; `masked`: they answer a password prompt. */
  keys(input: Buffer, masked = false, now = Date.now()) {
    if (input.length === 0) return;
    this.mirror.key(now);
    this.unanswered += 1;
    this.typedMasked ||= masked;
    this.promptsAtFirstKey ??= this.mirror.prompts;
    if (input.some(dropsLine)) {
      this.mirror.lineEnded();
      this.unfinished = null;
      this.startTyping();
    } else this.typed.type(input);
  }

  /**
   * The Enter was sent (`ran`) or the line cleared: the next key starts a new line, or goes on with an unfinished
   * one. Either was sent to the target, whose answer (the output, the next prompt, the cleared line) is awaited
   * like a key's; keys that drew nothing (Ctrl-A at the line's start) no longer count.
   */
  lineEnded(ran: boolean) {
    this.mirror.lineEnded();
    this.unanswered = 1;
    this.unfinished = ran && this.lastRead !== null && isUnfinished(this.lastRead) ? this.lastRead : null;
    this.lastRead = null;
    this.startTyping();
  }

  private startTyping() {
    this.typed = new TypedLine();
    this.typedMasked = false;
    this.promptsAtFirstKey = null;
  }

  /**
   * Keys that edit the line (cursor keys, history, Ctrl-anything) were typed before the shell drew the prompt they
   * went to, while a command ran. The terminal echoed them where the prompt was then drawn, but the shell draws its
   * line as if the prompt began the row, so its later redraws land beside what it edits: the screen cannot be read,
   * and the keys alone do not tell the line.
   */
  private get editedAhead(): boolean {
    return this.promptsAtFirstKey !== null && this.mirror.prompts > this.promptsAtFirstKey && this.typed.text === null;
  }

  /**
   * What the Enter about to be sent would run, matched against the command rules: read at once when the screen
   * already shows the answer to every key (a person typing), after the answer otherwise (a paste and its Enter).
   * Where the keys alone tell what they typed, the screen must show that too: keys typed before the shell drew
   * its prompt (a burst of lines, type-ahead while a command runs) are otherwise judged on a screen without them,
   * so until the screen shows them, or past the wait, the typed text is matched as well.
   * Null, or null once settled: nothing to match (no command rules, an empty line, a full-screen program).
   */
  atEnter(): Promise<PolicyMatch | null> | null {
    if (this.rules.of("command").size === 0) return null;
    if (this.unanswered === 0 && this.mirror.current && (this.typedMasked || this.screenShowsTyped(true))) return this.match();
    return this.judgeWhenAnswered(Date.now() + echoWaitMs);
  }

  private async judgeWhenAnswered(deadline: number): Promise<PolicyMatch | null> {
    await this.echo(deadline);
    await this.mirror.settled();
    // A password prompt never shows what is typed: there is nothing to wait for.
    while (!this.typedMasked && !this.screenShowsTyped() && Date.now() < deadline) {
      await this.nextOutput(deadline);
      await this.mirror.settled();
    }
    return this.match();
  }

  /** Settles when the target has answered every frame sent (or did not by the deadline): a pasted block's next line waits for it. */
  echo(deadline = Date.now() + echoWaitMs): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        const left = deadline - Date.now();
        const quietFor = Date.now() - this.lastOutputAt;
        const answered = this.unanswered === 0;
        if (left <= 0 || (answered && quietFor >= echoQuietMs)) return resolve();
        // Woken by output, or at the latest when the quiet time or the wait would be over.
        const timer = setTimeout(check, Math.min(left, answered ? echoQuietMs - quietFor : left));
        this.echoWaiters.push(() => {
          clearTimeout(timer);
          setTimeout(check, echoQuietMs);
        });
      };
      check();
    });
  }

  /** Settles at the next output, or at the deadline. */
  private nextOutput(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      this.echoWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The typed text of this line, with the unfinished lines before it; null where the keys alone do not tell. */
  private typedLine(): string | null {
    const typed = this.typed.text;
    if (typed === null || typed.trim() === "") return null;
    return this.unfinished === null ? typed : `${this.unfinished}\n${typed}`;
  }

  /**
   * Whether the screen shows what the keys typed, or the keys alone do not tell (`exactly`: the line read is that
   * text and nothing else; otherwise it ends with it, as when the line's start was taken before a prompt was drawn).
   */
  private screenShowsTyped(exactly = false): boolean {
    const typed = this.typedLine()?.replace(/[ \t]+$/gm, "");
    if (typed === undefined) return true;
    const line = this.readLine();
    return line === null || (line !== "lost" && (exactly ? line === typed : line.endsWith(typed)));
  }

  /**
   * The line Enter would run now, as the screen shows it, with the unfinished lines before it; null where there is
   * none (a full-screen program); "lost" when it began above what the mirror keeps.
   */
  private readLine(): string | null | "lost" {
    if (this.mirror.fullScreen) return null;
    const typed = this.mirror.commandLine();
    if (typed === null) return "lost";
    return this.unfinished === null ? typed : `${this.unfinished}\n${typed}`;
  }

  private async match(): Promise<PolicyMatch | null> {
    const line = this.readLine();
    const commandRules = this.rules.of("command");
    if (line === "lost") {
      this.lastRead = null;
      return { subject: "(a command that began above what the gateway keeps of the screen)", rules: withholding(commandRules), unchecked: "too_long" };
    }
    // What the shell was given decides whether it waits for more: the keys, where they alone tell (the screen can
    // show keys typed ahead of a prompt twice, and with them a quote the shell never saw open), else the screen.
    this.lastRead = line === null || this.typedMasked ? line : (this.typedLine() ?? line);
    // A full-screen program's Enter is not a command line, whatever was typed into it.
    if (line === null) return null;
    if (this.editedAhead && !this.typedMasked) return { subject: line, rules: withholding(commandRules), unchecked: "typed_ahead" };
    const typed = this.screenShowsTyped(true) ? null : this.typedLine();
    if (typed !== null) {
      // The screen does not show just what was typed: whichever of the two the shell runs is judged.
      const [onScreen, asTyped] = await Promise.all([line.trim() === "" ? null : this.matchLine(line, commandRules), this.matchLine(typed, commandRules)]);
      if (asTyped === null) return onScreen;
      return { ...asTyped, subject: this.typedMasked ? "(typed at a password prompt)" : asTyped.subject, rules: [...new Set([...(onScreen?.rules ?? []), ...asTyped.rules])] };
    }
    if (line.trim() === "") return null;
    const speculation = this.speculation;
    if (speculation?.line === line && speculation.rules === commandRules) return speculation.result;
    return this.matchLine(line, commandRules);
  }

  private async matchLine(line: string, commandRules: RuleSet<CommandRuleRow>): Promise<PolicyMatch | null> {
    if (line.length > longestCheckedLine) return { subject: line.slice(0, 1000), rules: withholding(commandRules), unchecked: "too_long" };
    // A line read as the rest of an unfinished one is also judged alone: should the shell not be waiting for
    // more after all, it runs that line as a command of its own.
    const alone = this.unfinished !== null && line.startsWith(`${this.unfinished}\n`) ? line.slice(this.unfinished.length + 1) : null;
    const matched = await commandRules.match([...subjectsFor("command", line), ...(alone ? subjectsFor("command", alone) : [])]);
    if (matched === "undecided") return { subject: line, rules: withholding(commandRules), unchecked: "deadline" };
    return matched.length > 0 ? { subject: line, rules: matched, unchecked: null } : null;
  }

  /**
   * While someone types, the line on screen is matched once the echoes pause, on the matching worker: at Enter the
   * answer for that very line (and rule set) is usually there already, and Enter waits for no matching at all.
   * Echoes closer together than a person types (a held key, a program typing) are not each matched: every match
   * would take the gateway's thread while the next key waits, and only the line before Enter counts.
   */
  private speculateAfterPause() {
    if (this.speculationTimer) return void this.speculationTimer.refresh();
    this.speculationTimer = setTimeout(() => {
      this.speculationTimer = null;
      void this.mirror.settled().then(() => this.speculate());
    }, speculationPauseMs).unref();
  }

  private speculate() {
    const commandRules = this.rules.of("command");
    if (commandRules.size === 0) return;
    const line = this.readLine();
    if (line === null || line === "lost" || line.trim() === "" || line.length > longestCheckedLine) return;
    if (this.speculation?.line === line && this.speculation.rules === commandRules) return;
    this.speculation = { line, rules: commandRules, result: this.matchLine(line, commandRules) };
  }

  dispose() {
    if (this.speculationTimer) clearTimeout(this.speculationTimer);
    this.mirror.dispose();
  }
}
