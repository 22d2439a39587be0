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
    // While the worker is stuck this thread keeps running: a timer due well before the deadline fires before the
    // answer. Had the match held this thread, its answer would come first (a promise settles before any timer).
    let timerFired = false;
    setTimeout(() => (timerFired = true), liveMatchDeadlineMs / 5);
    const verdict = await matcher.match(MatchWorker.setId(catastrophic), catastrophic, [`${"a".repeat(40)}!`]);
    expect(verdict).toBe("undecided");
    expect(timerFired).toBe(true);
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
