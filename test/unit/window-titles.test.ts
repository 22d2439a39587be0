// Window titles come from the desktop: each is matched once per change, at most 10 a second, and a window
// retitled faster than that is matched at its latest title, never left at an old one.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RuleSet } from "@/lib/domain/command-policy/rule-book";
import type { CommandRuleRow } from "@/lib/data/command-policy/rules";
import { CompiledRules } from "@/lib/domain/command-policy/rule-matcher";
import type { PolicyMatch } from "@/server/inspector/command-policy";
import { WindowTitleWatch } from "@/server/inspector/window-titles";

const rule = (pattern: string): CommandRuleRow =>
  ({ id: pattern, name: pattern, kind: "window_title", matchMode: "regex", pattern, action: "lock", severity: "high", holdSeconds: 60, enabled: true }) as CommandRuleRow;

function watchWith(rules: CommandRuleRow[], answer?: "undecided") {
  const compiled = new CompiledRules(rules);
  const matchedTitles: string[] = [];
  const ruleSet: RuleSet<CommandRuleRow> = {
    rules: compiled.rules,
    size: compiled.size,
    match: async (subjects) => {
      matchedTitles.push(...subjects);
      return answer ?? compiled.match(subjects);
    },
  };
  const matches: PolicyMatch[] = [];
  const watch = new WindowTitleWatch(() => ruleSet, (match) => matches.push(match));
  return { watch, matches, matchedTitles };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("window titles against window-title rules", () => {
  it("matches a window's title when it changes, not again when it is reported unchanged", async () => {
    const { watch, matches, matchedTitles } = watchWith([rule("^Registry Editor$")]);
    watch.title("1", "Notepad");
    watch.title("1", "Notepad");
    watch.title("2", "Registry Editor");
    watch.title("2", "Registry Editor");
    watch.title("2", "   ");
    await vi.waitFor(() => expect(matches).toHaveLength(1));
    expect(matchedTitles).toEqual(["Notepad", "Registry Editor"]);
    expect(matches[0]).toEqual({ subject: "window: Registry Editor", rules: [expect.objectContaining({ pattern: "^Registry Editor$" })], unchecked: null });
  });

  it("matches at most 10 titles a second; a window retitled in between is matched at its latest title", async () => {
    vi.useFakeTimers();
    const { watch, matches, matchedTitles } = watchWith([rule("forbidden")]);
    for (let index = 0; index < 10; index++) watch.title(`w${index}`, `title ${index}`);
    // Past the budget: window 1 flips through many titles and ends forbidden; window 2 gets one.
    for (let index = 0; index < 500; index++) watch.title("flipper", `harmless ${index}`);
    watch.title("flipper", "forbidden tool");
    watch.title("other", "Calculator");
    await vi.advanceTimersByTimeAsync(0);
    expect(matchedTitles).toHaveLength(10);
    await vi.advanceTimersByTimeAsync(1000);
    expect(matchedTitles.slice(10)).toEqual(["forbidden tool", "Calculator"]);
    expect(matches.map((match) => match.subject)).toEqual(["window: forbidden tool"]);
  });

  it("takes a title the rules could not check in time as matching them all", async () => {
    const { watch, matches } = watchWith([rule("a"), rule("b")], "undecided");
    watch.title("1", "crafted");
    await vi.waitFor(() => expect(matches).toHaveLength(1));
    expect(matches[0]!.rules).toHaveLength(2);
    expect(matches[0]!.unchecked).toBe("deadline");
  });

  it("does nothing once stopped (the session ended)", async () => {
    const { watch, matchedTitles } = watchWith([rule("x")]);
    watch.stop();
    watch.title("1", "x");
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(matchedTitles).toEqual([]);
  });
});
