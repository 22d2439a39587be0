// What a shell would run for one command line, read the way the shell reads it, so that rules match the
// commands and not their spelling. The line is split into its simple commands (at `;`, `&`, `&&`, `||`, `|`,
// newlines and subshell parentheses, outside quotes), `$(…)`, backticks and `<(…)` become commands of their own,
// quotes and backslashes are taken out of words (`r'm'` and `r\m` are `rm`), `$'\x72m'` is decoded, `\` line
// continuations are joined and runs of blanks become one space. Each simple command is given with and without
// the words that only wrap another command (`sudo`, `env A=b`, `nohup`, `{`, `then`…).
// Not seen through, and said so in docs/SECURITY.md: variables and aliases (`a=rm; $a -rf /`), eval'd or
// decoded strings (`echo cm0= | base64 -d | sh` is seen as a pipe into sh, not as `rm`), scripts written to a file.

/** Longer lines are cut: a rule set sees at most this much of one line (and says so with `truncated`). */
export const longestCheckedLine = 16 * 1024;
/** Nesting of `$(…)` looked into; deeper text stays part of its outer command. */
const deepestNesting = 8;

export interface ParsedCommandLine {
  /** The whole line with quoting removed and blanks collapsed, operators kept: for rules that span a pipe. */
  whole: string;
  /** Each simple command, with its wrappers and without. */
  commands: string[];
  truncated: boolean;
}

/** Words that run the command after them, and assignments (`A=b`) that only set its environment. */
const wrapperWord = /^(sudo|doas|env|nohup|time|exec|command|builtin|nice|ionice|stdbuf|setsid|timeout|xargs|then|do|else|elif|if|while|until|!|\{|\}|[A-Za-z_][A-Za-z0-9_]*=\S*|-\S*|\d+)$/;
/**
 * Wrapper options whose value is the next word (`sudo -u root`, `env -u VAR`, `xargs -I {}`). Only letters that take
 * a value in every wrapper that has them: `-s` does in `timeout` but not in `sudo`, `-r` in `sudo` but not in `xargs`.
 */
const wrapperOptionWithValue = /^(-[ugUCDI]|--(user|group|chdir|unset|signal))$/;

const ansiEscapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", e: "\x1b", E: "\x1b", f: "\f", v: "\v", "\\": "\\", "'": "'", '"': '"' };

function decodeAnsiC(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|[0-7]{1,3}|.)/g, (_, code: string) => {
    if (code[0] === "x" || code[0] === "u") return String.fromCharCode(parseInt(code.slice(1), 16));
    if (/^[0-7]/.test(code)) return String.fromCharCode(parseInt(code, 8));
    return ansiEscapes[code] ?? code;
  });
}

const blanks = (text: string) => text.replace(/[ \t]+/g, " ").trim();

function withoutWrappers(command: string): string {
  const words = command.split(" ");
  let first = 0;
  // `sudo -u root rm …`: options of a wrapper are skipped with it; a number (`timeout 5`) too.
  while (first < words.length - 1 && wrapperWord.test(words[first]!)) {
    first += wrapperOptionWithValue.test(words[first]!) && first < words.length - 2 ? 2 : 1;
  }
  return words.slice(first).join(" ");
}

class LineReader {
  index = 0;
  constructor(
    readonly text: string,
    readonly found: string[],
  ) {}

  /** Reads until `end` (or the end of the text); returns the line as seen whole, and adds each simple command to `found`. */
  read(end: string | null, depth: number): string {
    let whole = "";
    let current = "";
    const finish = () => {
      const command = blanks(current);
      if (command) this.found.push(command);
      current = "";
    };
    const text = this.text;
    while (this.index < text.length) {
      const char = text[this.index]!;
      if (end !== null && char === end) {
        this.index += 1;
        break;
      }
      if (char === "\\") {
        const next = text[this.index + 1];
        this.index += 2;
        if (next === undefined || next === "\n") continue;
        whole += next;
        current += next;
        continue;
      }
      if (char === "'") {
        const close = text.indexOf("'", this.index + 1);
        const quoted = text.slice(this.index + 1, close === -1 ? text.length : close);
        this.index = close === -1 ? text.length : close + 1;
        whole += quoted;
        current += quoted;
        continue;
      }
      if (char === "$" && text[this.index + 1] === "'") {
        const close = text.slice(this.index + 2).search(/(?<!\\)'/);
        const raw = text.slice(this.index + 2, close === -1 ? text.length : this.index + 2 + close);
        this.index = close === -1 ? text.length : this.index + 3 + close;
        const decoded = decodeAnsiC(raw);
        whole += decoded;
        current += decoded;
        continue;
      }
      if (char === '"') {
        this.index += 1;
        const quoted = this.readDoubleQuoted(depth);
        whole += quoted;
        current += quoted;
        continue;
      }
      const substitution = this.substitutionAt(depth);
      if (substitution !== null) {
        whole += substitution;
        current += substitution;
        continue;
      }
      // `2>&1`, `&>file`, `>&2` and `>|file` are redirections: their `&` and `|` end no command.
      const previous = text[this.index - 1];
      const inRedirection = (char === "&" && (previous === ">" || previous === "<" || text[this.index + 1] === ">")) || (char === "|" && previous === ">");
      this.index += 1;
      if (!inRedirection && (char === ";" || char === "&" || char === "|" || char === "\n" || char === "\r" || char === "(" || char === ")")) {
        finish();
        whole += char === "\r" ? "\n" : char;
        continue;
      }
      whole += char;
      current += char;
    }
    finish();
    return whole;
  }

  /** `$(…)`, `<(…)`, `>(…)` or a backtick at the current position: read as a line of its own, its text returned. */
  private substitutionAt(depth: number): string | null {
    const text = this.text;
    const two = text.slice(this.index, this.index + 2);
    const opens = two === "$(" || two === "<(" || two === ">(" ? 2 : text[this.index] === "`" ? 1 : 0;
    if (opens === 0 || depth >= deepestNesting) return null;
    if (two === "$(" && text[this.index + 2] === "(") return null; // $(( arithmetic ))
    this.index += opens;
    const inner = this.read(opens === 1 ? "`" : ")", depth + 1);
    return opens === 1 ? `\`${inner}\`` : `${two}${inner})`;
  }

  private readDoubleQuoted(depth: number): string {
    let quoted = "";
    const text = this.text;
    while (this.index < text.length && text[this.index] !== '"') {
      const char = text[this.index]!;
      if (char === "\\" && '$`"\\\n'.includes(text[this.index + 1] ?? "")) {
        if (text[this.index + 1] !== "\n") quoted += text[this.index + 1];
        this.index += 2;
        continue;
      }
      const substitution = char === "$" || char === "`" ? this.substitutionAt(depth) : null;
      if (substitution !== null) {
        quoted += substitution;
        continue;
      }
      quoted += char;
      this.index += 1;
    }
    this.index += 1;
    return quoted;
  }
}

export function parseCommandLine(line: string): ParsedCommandLine {
  const truncated = line.length > longestCheckedLine;
  const found: string[] = [];
  const whole = blanks(new LineReader(truncated ? line.slice(0, longestCheckedLine) : line, found).read(null, 0).replace(/\n+/g, "\n"))
    // A line break after `|`, `&&` or `||` only continues the command, as a space would.
    .replace(/([|&]) ?\n/g, "$1 ");
  const commands = new Set<string>();
  for (const command of found) {
    commands.add(command);
    const bare = withoutWrappers(command);
    if (bare) commands.add(bare);
  }
  return { whole, commands: [...commands], truncated };
}

/** What a command rule is tested against: the line as typed, the line read whole, and each command in it. */
export function commandSubjects(line: string): string[] {
  const parsed = parseCommandLine(line);
  return [...new Set([blanks(line.slice(0, longestCheckedLine)), parsed.whole, ...parsed.commands])].filter(Boolean);
}
