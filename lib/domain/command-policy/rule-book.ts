// This node's copy of the command and request rules: loaded at start, reloaded whenever any node announces a
// change, and handed to each session narrowed to its scope, matched on the node's matching worker.
import type { DatabaseHandle } from "../../data/client";
import type { RuleKind } from "../../protocol/command-rules";
import { MatchWorker } from "./match-worker";
import { patternProblem, ruleRegexSource, type MatchableRule } from "./rule-matcher";
import { ruleApplies, type RuleScope } from "./rule-scope";
import { listCommandRules, rulesChangedChannel, seedBuiltinRules, type CommandRuleRow } from "../../data/command-policy/rules";
import { log } from "../../infra/log";

/** Rules of one kind, ready to match: the rules that match any of the subjects, in order, or "undecided" past the deadline. */
export interface RuleSet<Rule> {
  readonly rules: Rule[];
  readonly size: number;
  match(subjects: string[]): Promise<Rule[] | "undecided">;
}

class WorkerRuleSet<Rule extends MatchableRule> implements RuleSet<Rule> {
  private readonly sources: string[];
  private readonly setId: string;

  constructor(
    readonly rules: Rule[],
    private readonly matcher: MatchWorker,
  ) {
    // A pattern saved before a check it would now fail matches nothing rather than breaking the set.
    this.sources = rules.map((rule) => (patternProblem(rule) === null ? ruleRegexSource(rule) : "(?!)"));
    this.setId = MatchWorker.setId(this.sources);
  }

  get size() {
    return this.rules.length;
  }

  async match(subjects: string[]): Promise<Rule[] | "undecided"> {
    if (this.rules.length === 0) return [];
    const hits = await this.matcher.match(this.setId, this.sources, subjects);
    return hits === "undecided" ? hits : hits.map((index) => this.rules[index]!);
  }
}

export class RuleBook {
  private rules: CommandRuleRow[] = [];
  /** Grows with every reload, so that sessions know their rule sets are stale. */
  version = 0;
  private readonly matcher = new MatchWorker();

  private constructor(private readonly database: DatabaseHandle) {}

  static async open(database: DatabaseHandle): Promise<RuleBook> {
    const book = new RuleBook(database);
    await seedBuiltinRules(database.db);
    await book.reload();
    await database.listen(rulesChangedChannel, () => {
      book.reload().catch((error) => log.error({ err: error }, "reloading command rules failed; the previous rules stay in force"));
    });
    return book;
  }

  async reload() {
    this.rules = await listCommandRules(this.database.db);
    this.version += 1;
  }

  /** The rules of one session, narrowed again when the book changes. */
  forSession(scope: RuleScope): SessionRules {
    return new SessionRules(this, scope);
  }

  ruleSet(scope: RuleScope, kind: RuleKind): RuleSet<CommandRuleRow> {
    return new WorkerRuleSet(
      this.rules.filter((rule) => rule.kind === kind && ruleApplies(rule, scope)),
      this.matcher,
    );
  }
}

export class SessionRules {
  private narrowedVersion = -1;
  private byKind = new Map<RuleKind, RuleSet<CommandRuleRow>>();

  constructor(
    private readonly book: RuleBook,
    private readonly scope: RuleScope,
  ) {}

  /** The session's rules of one kind (each kind narrowed when first asked for). */
  of(kind: RuleKind): RuleSet<CommandRuleRow> {
    if (this.narrowedVersion !== this.book.version) {
      this.byKind = new Map();
      this.narrowedVersion = this.book.version;
    }
    let rules = this.byKind.get(kind);
    if (!rules) {
      rules = this.book.ruleSet(this.scope, kind);
      this.byKind.set(kind, rules);
    }
    return rules;
  }
}
