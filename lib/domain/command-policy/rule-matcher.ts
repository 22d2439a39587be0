// Rules compiled once into regular expressions and matched with a deadline. Patterns come from admins (and so
// from the database): one that backtracks catastrophically on a crafted line must neither stall the node nor
// let the line through, so matching runs in a V8 context with a timeout and an overrun is "undecided", which
// callers treat as a match of every rule that could withhold the line.
import { createContext, runInContext, Script } from "node:vm";
import type { MatchMode, RuleKind } from "../../protocol/command-rules";
import { commandSubjects } from "./command-line";

export interface MatchableRule {
  kind: RuleKind;
  matchMode: MatchMode;
  pattern: string;
}

export const matchDeadlineMs = 50;

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** `POST /api/users/*\/delete`: `*` is one path segment (or part of one), `**` any number; the query is ignored. */
function requestGlobSource(pattern: string): string {
  const [method = "*", path = "/**"] = pattern.trim().split(/\s+/, 2);
  const methodSource = method === "*" ? "[A-Z]+" : escapeRegex(method.toUpperCase());
  const pathSource = path
    .split(/(\*\*|\*)/)
    .map((part) => (part === "**" ? ".*" : part === "*" ? "[^/]*" : escapeRegex(part)))
    .join("");
  return `^${methodSource} ${pathSource}$`;
}

/** `403`, `5xx`, `401, 403`: each code a number or with `x` for any digit. */
function statusSource(pattern: string): string {
  const codes = pattern.split(/[\s,]+/).filter(Boolean).map((code) => code.toLowerCase().replace(/x/g, "\\d"));
  return `^(?:${codes.join("|")})$`;
}

/** Words or phrases, one per line (or comma-separated), matched as whole words anywhere in the subject. */
function wordsSource(pattern: string): string {
  const words = pattern.split(/[\n,]/).map((word) => word.trim()).filter(Boolean).map((word) => escapeRegex(word).replace(/ +/g, "\\s+"));
  return `(?:^|[^\\w-])(?:${words.join("|")})(?=$|[^\\w-])`;
}

/** Whole numbers of at least `least`, as a regular expression (no leading zeros). */
export function atLeastSource(least: number): string {
  if (least <= 0) return "\\d+";
  const digits = String(least);
  const alternatives = [`[1-9]\\d{${digits.length},}`];
  for (let index = 0; index < digits.length; index++) {
    const digit = Number(digits[index]);
    if (digit < 9) alternatives.push(`${digits.slice(0, index)}[${digit + 1}-9]\\d{${digits.length - index - 1}}`);
  }
  alternatives.push(digits);
  return `(?:${alternatives.join("|")})`;
}

const clipboardPattern = /^\s*(paste|copy|any)\s*(?:>=\s*(\d{1,9})\s*([km]?)b?)?\s*$/i;

/** The subject a clipboard rule is matched against: `paste 1234` (bytes of text). */
export const clipboardSubject = (direction: "paste" | "copy", bytes: number) => `${direction} ${bytes}`;

/** `paste`, `copy` or `any`, with an optional least size in bytes (`>= 4k`, `>= 2m`). */
function clipboardSource(pattern: string): string {
  const [, direction = "any", size = "0", unit = ""] = clipboardPattern.exec(pattern) ?? [];
  const least = Number(size) * (unit.toLowerCase() === "k" ? 1024 : unit.toLowerCase() === "m" ? 1024 * 1024 : 1);
  return `^${direction.toLowerCase() === "any" ? "(?:paste|copy)" : direction.toLowerCase()} ${atLeastSource(least)}$`;
}

export function ruleRegexSource(rule: MatchableRule): string {
  if (rule.kind === "clipboard") return clipboardSource(rule.pattern);
  if (rule.kind === "web_request") return requestGlobSource(rule.pattern);
  if (rule.kind === "web_status") return statusSource(rule.pattern);
  return rule.matchMode === "words" ? wordsSource(rule.pattern) : rule.pattern;
}

/** Why a pattern cannot be used, or null. Back-references are refused: they are what makes matching exponential for good. */
export function patternProblem(rule: MatchableRule): string | null {
  if (rule.kind === "web_status" && !/^\s*[1-5][0-9x]{2}(\s*,\s*[1-5][0-9x]{2})*\s*$/i.test(rule.pattern)) return "Write status codes such as 403, 5xx or 401, 403";
  if (rule.kind === "web_request" && !/^(\*|[A-Za-z]+)\s+\/\S*$/.test(rule.pattern.trim())) return "Write a method and a path, such as POST /api/users/*/delete (* for any method)";
  if (rule.kind === "clipboard" && !clipboardPattern.test(rule.pattern)) return "Write paste, copy or any, with a least size if you like: paste >= 4k";
  const source = ruleRegexSource(rule);
  if (/\\[1-9]|\\k</.test(source)) return "Back-references are not allowed";
  try {
    new RegExp(source, "i");
  } catch (error) {
    return `Not a regular expression: ${(error as Error).message.replace(/^Invalid regular expression: /, "")}`;
  }
  return null;
}

/** What a rule of each kind is matched against, for a line or request. */
export function subjectsFor(kind: RuleKind, text: string): string[] {
  return kind === "command" ? commandSubjects(text) : [text];
}

/**
 * A set of rules, ready to match. `match` returns the rules that match any of the subjects, in order, or
 * "undecided" when the deadline passed first.
 */
export class CompiledRules<Rule extends MatchableRule> {
  private readonly context = createContext({ subjects: [] as string[] });
  private static readonly check = new Script("check(subjects)");

  constructor(readonly rules: Rule[]) {
    const sources = rules.map((rule) => (patternProblem(rule) === null ? ruleRegexSource(rule) : "(?!)"));
    runInContext(
      `const rules = ${JSON.stringify(sources)}.map((source) => new RegExp(source, "i"));
       function check(subjects) {
         const hits = [];
         for (let index = 0; index < rules.length; index++) {
           for (const subject of subjects) if (rules[index].test(subject)) { hits.push(index); break; }
         }
         return hits;
       }`,
      this.context,
    );
  }

  get size() {
    return this.rules.length;
  }

  match(subjects: string[]): Rule[] | "undecided" {
    if (this.rules.length === 0) return [];
    this.context.subjects = subjects;
    try {
      const hits = CompiledRules.check.runInContext(this.context, { timeout: matchDeadlineMs }) as number[];
      return Array.from(hits, (index) => this.rules[index]!);
    } catch (error) {
      if ((error as { code?: string }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT") return "undecided";
      throw error;
    }
  }
}

/** Field errors for a rule's pattern and test lines, checked on every save. */
export function checkRule(rule: MatchableRule & { testMatch: string[]; testNoMatch: string[] }): Record<string, string> {
  const problem = patternProblem(rule);
  if (problem) return { pattern: problem };
  const compiled = new CompiledRules([rule]);
  const matches = (line: string) => compiled.match(subjectsFor(rule.kind, line));
  for (const line of rule.testMatch) {
    const result = matches(line);
    if (result === "undecided") return { pattern: `Matching took longer than ${matchDeadlineMs} ms on "${line}": simplify the pattern` };
    if (result.length === 0) return { testMatch: `The rule does not match "${line}"` };
  }
  for (const line of rule.testNoMatch) {
    const result = matches(line);
    if (result === "undecided") return { pattern: `Matching took longer than ${matchDeadlineMs} ms on "${line}": simplify the pattern` };
    if (result.length > 0) return { testNoMatch: `The rule matches "${line}"` };
  }
  return {};
}
