// The command policy of one terminal session: finds the Enters in the user's input that would run a line,
// reads that line off the mirrored screen and matches it against the session's command rules; matches output
// lines against its output rules. What to do about a match is the session's (server/session.ts): this only
// says what matched.
import { StringDecoder } from "node:string_decoder";
import { longestCheckedLine } from "../../lib/command-policy/command-line";
import type { RuleSet, SessionRules } from "../../lib/command-policy/rule-book";
import { subjectsFor } from "../../lib/command-policy/rule-matcher";
import type { CommandRuleRow } from "../../lib/command-policy/rules";
import { OutputLineTracker } from "../../lib/transcript-lines";
import type { TerminalSize } from "../protocols/adapter";
import { ScreenMirror } from "./screen-mirror";

/** What matched a line or an output line. `unchecked` says why the line could not be matched in full. */
export interface PolicyMatch {
  subject: string;
  rules: CommandRuleRow[];
  unchecked: "deadline" | "too_long" | null;
}

/** How long an Enter waits for the echo of the keys before it (a paste arrives with its Enter in one frame). */
const echoWaitMs = 300;
/** The echo is taken as complete once output has been quiet this long. */
const echoQuietMs = 15;
/** Output lines matched per second at most: a flood is sampled, never matched line by line. */
const outputLinesPerSecond = 100;

const pasteStart = Buffer.from("\x1b[200~");
const pasteEnd = Buffer.from("\x1b[201~");
/** Enter, Ctrl-J and Ctrl-O (bash's operate-and-get-next) all run the line. */
const runsLine = (byte: number) => byte === 0x0d || byte === 0x0a || byte === 0x0f;
/** Ctrl-C and Ctrl-D end the line being typed without running it. */
const dropsLine = (byte: number) => byte === 0x03 || byte === 0x04;

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

export class CommandPolicy {
  private readonly mirror: ScreenMirror;
  private inPaste = false;
  /** Whether output came after the last key sent: its echo, in practice. */
  private echoed = true;
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
  /** The command as read at the last Enter, unfinished part included. */
  private lastRead: string | null = null;
  /** The line last matched ahead of Enter, against which rule set, and what matched. */
  private speculation: { line: string; rules: RuleSet<CommandRuleRow>; result: Promise<PolicyMatch | null> } | null = null;
  private speculationDue = false;

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
    this.echoed = true;
    if (this.echoWaiters.length > 0) for (const wake of this.echoWaiters.splice(0)) wake();
    if (!this.speculationDue && this.mirror.typing(now)) {
      this.speculationDue = true;
      void this.mirror.settled().then(() => this.speculate());
    }
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

  /** Keys (with no Enter among them) are about to reach the target. */
  keys(input: Buffer, now = Date.now()) {
    if (input.length === 0) return;
    this.mirror.key(now);
    this.echoed = false;
    if (input.some(dropsLine)) {
      this.mirror.lineEnded();
      this.unfinished = null;
    }
  }

  /** The Enter was sent (`ran`) or the line cleared: the next key starts a new line, or goes on with an unfinished one. */
  lineEnded(ran: boolean) {
    this.mirror.lineEnded();
    this.unfinished = ran && this.lastRead !== null && isUnfinished(this.lastRead) ? this.lastRead : null;
    this.lastRead = null;
  }

  /**
   * What the Enter about to be sent would run, matched against the command rules: read at once when the screen
   * already shows the echo of every key (a person typing), after the echo otherwise (a paste and its Enter).
   * Null, or null once settled: nothing to match (no command rules, an empty line, a full-screen program).
   */
  atEnter(): Promise<PolicyMatch | null> | null {
    if (this.rules.of("command").size === 0) return null;
    if (this.echoed) return this.mirror.current ? this.match() : this.mirror.settled().then(() => this.match());
    return this.echo().then(() => this.mirror.settled()).then(() => this.match());
  }

  /** Settles when the target has answered the keys sent last (or did not within a moment): a pasted block's next line waits for it. */
  echo(): Promise<void> {
    const startedAt = Date.now();
    return new Promise((resolve) => {
      const check = () => {
        const waited = Date.now() - startedAt;
        const quietFor = Date.now() - this.lastOutputAt;
        if (waited >= echoWaitMs || (this.echoed && quietFor >= echoQuietMs)) return resolve();
        // Woken by output, or at the latest when the quiet time or the wait would be over.
        const timer = setTimeout(check, Math.min(echoWaitMs - waited, this.echoed ? echoQuietMs - quietFor : echoWaitMs));
        this.echoWaiters.push(() => {
          clearTimeout(timer);
          setTimeout(check, echoQuietMs);
        });
      };
      check();
    });
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
      return { subject: "(a command that began above what the gateway keeps of the screen)", rules: commandRules.rules.filter((rule) => rule.action !== "alert"), unchecked: "too_long" };
    }
    this.lastRead = line;
    if (line === null || line.trim() === "") return null;
    const speculation = this.speculation;
    if (speculation?.line === line && speculation.rules === commandRules) return speculation.result;
    return this.matchLine(line, commandRules);
  }

  private async matchLine(line: string, commandRules: RuleSet<CommandRuleRow>): Promise<PolicyMatch | null> {
    const withholding = commandRules.rules.filter((rule) => rule.action !== "alert");
    if (line.length > longestCheckedLine) return { subject: line.slice(0, 1000), rules: withholding, unchecked: "too_long" };
    const matched = await commandRules.match(subjectsFor("command", line));
    if (matched === "undecided") return { subject: line, rules: withholding, unchecked: "deadline" };
    return matched.length > 0 ? { subject: line, rules: matched, unchecked: null } : null;
  }

  /**
   * While someone types, the line on screen is matched after each echo, on the matching worker: at Enter the
   * answer for that very line (and rule set) is usually there already, and Enter waits for no matching at all.
   */
  private speculate() {
    this.speculationDue = false;
    const commandRules = this.rules.of("command");
    if (commandRules.size === 0) return;
    const line = this.readLine();
    if (line === null || line === "lost" || line.trim() === "" || line.length > longestCheckedLine) return;
    if (this.speculation?.line === line && this.speculation.rules === commandRules) return;
    this.speculation = { line, rules: commandRules, result: this.matchLine(line, commandRules) };
  }

  dispose() {
    this.mirror.dispose();
  }
}
