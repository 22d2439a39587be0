// The node's rule matching worker: a real worker thread. A pattern that backtracks catastrophically stalls only
// the worker, which is replaced at the deadline; the gateway's own thread never waits on it.
import { describe, expect, it } from "vitest";
import { liveMatchDeadlineMs, MatchWorker } from "@/lib/domain/command-policy/match-worker";

describe("the rule matching worker", () => {
  it("answers with the rules that match any subject, in order", async () => {
    const matcher = new MatchWorker();
    const sources = ["^rm\\b", "drop\\s+table", "^ls$"];
    const setId = MatchWorker.setId(sources);
    expect(await matcher.match(setId, sources, ["echo x", "RM -rf /"])).toEqual([0]);
    expect(await matcher.match(setId, sources, ["ls", "DROP  TABLE users"])).toEqual([1, 2]);
    expect(await matcher.match(setId, sources, ["cat"])).toEqual([]);
    await matcher.close();
  });

  it("gives up on a catastrophic pattern at the deadline, keeps the gateway's thread free, and matches again at once", async () => {
    const matcher = new MatchWorker();
    const catastrophic = ["^(a+)+$"];
    const started = performance.now();
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 5);
    const verdict = await matcher.match(MatchWorker.setId(catastrophic), catastrophic, [`${"a".repeat(40)}!`]);
    clearInterval(ticker);
    expect(verdict).toBe("undecided");
    expect(performance.now() - started).toBeLessThan(liveMatchDeadlineMs * 10);
    // While the worker was stuck this thread kept running its timers.
    expect(ticks).toBeGreaterThan(liveMatchDeadlineMs / 5 / 2);
    const plain = ["^rm\\b"];
    expect(await matcher.match(MatchWorker.setId(plain), plain, ["rm x"])).toEqual([0]);
    await matcher.close();
  });

  it("never matches against a set it has forgotten: sets evicted from the worker are defined again", async () => {
    const matcher = new MatchWorker();
    const first = ["^first$"];
    expect(await matcher.match(MatchWorker.setId(first), first, ["first"])).toEqual([0]);
    for (let index = 0; index < 2_100; index++) {
      const sources = [`^other${index}$`];
      await matcher.match(MatchWorker.setId(sources), sources, ["x"]);
    }
    expect(await matcher.match(MatchWorker.setId(first), first, ["first"])).toEqual([0]);
    await matcher.close();
  });
});
