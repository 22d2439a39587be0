// The window titles a RemoteApp desktop reports, matched against the session's window-title rules. Titles come
// from the desktop, which may be hostile, so the work they cause is bounded: a window's title is matched only
// when it changes, at most 10 titles are matched a second (a window retitled faster is matched as it stands
// when its turn comes, never skipped at its last title), and at most 256 windows are remembered.
import type { RuleSet } from "../../lib/domain/command-policy/rule-book";
import type { CommandRuleRow } from "../../lib/data/command-policy/rules";
import type { PolicyMatch } from "./command-policy";

const titlesPerSecond = 10;
const windowsKept = 256;

/** The subject a window-title match is recorded and shown with. */
export const windowTitleSubject = (title: string) => `window: ${title}`;

/** Sets a key as the newest in a map that keeps at most `limit` (the oldest go). */
function setNewest(map: Map<string, string>, key: string, value: string, limit: number) {
  map.delete(key);
  map.set(key, value);
  if (map.size > limit) map.delete(map.keys().next().value!);
}

export class WindowTitleWatch {
  /** Each window's title as last seen. */
  private readonly titles = new Map<string, string>();
  /** Titles waiting for their turn to be matched, one per window. */
  private readonly waiting = new Map<string, string>();
  private budget = titlesPerSecond;
  private budgetSince = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly rules: () => RuleSet<CommandRuleRow>,
    private readonly matched: (match: PolicyMatch) => void,
  ) {}

  title(windowId: string, title: string) {
    if (this.stopped || title.trim() === "" || this.titles.get(windowId) === title) return;
    setNewest(this.titles, windowId, title, windowsKept);
    setNewest(this.waiting, windowId, title, windowsKept);
    this.matchWaiting();
  }

  private matchWaiting() {
    const now = Date.now();
    if (now - this.budgetSince >= 1000) {
      this.budget = titlesPerSecond;
      this.budgetSince = now;
    }
    for (const [windowId, title] of this.waiting) {
      if (this.budget <= 0) break;
      this.waiting.delete(windowId);
      this.budget -= 1;
      void this.match(title);
    }
    if (this.waiting.size > 0 && !this.timer)
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.stopped) this.matchWaiting();
      }, this.budgetSince + 1000 - now);
  }

  private async match(title: string) {
    const rules = this.rules();
    if (rules.size === 0) return;
    const matched = await rules.match([title]);
    // A title the rules could not check in time counts as matching them all: the desktop chose the title.
    const hit = matched === "undecided" ? rules.rules : matched;
    if (hit.length > 0 && !this.stopped) this.matched({ subject: windowTitleSubject(title), rules: hit, unchecked: matched === "undecided" ? "deadline" : null });
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
