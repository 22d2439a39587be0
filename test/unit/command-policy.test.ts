// The command policy reads the line off a headless terminal that follows the screen: these drive it with the
// bytes a shell would print (echo, redraws after history recall and completion, a bracketed paste) and check
// what it would run.
import { describe, expect, it } from "vitest";
import { CompiledRules } from "@/lib/domain/command-policy/rule-matcher";
import type { SessionRules } from "@/lib/domain/command-policy/rule-book";
import type { CommandRuleRow } from "@/lib/data/command-policy/rules";
import { CommandPolicy } from "@/server/inspector/command-policy";

const rule = (pattern: string, kind: "command" | "output" = "command"): CommandRuleRow =>
  ({ id: pattern, name: pattern, kind, matchMode: "regex", pattern, action: "block", severity: "high", holdSeconds: 60, enabled: true }) as CommandRuleRow;

function policyWith(rules: CommandRuleRow[], matched: string[][] = []) {
  // The node's matching worker stands apart (test/integration/match-worker.test.ts); these rules match in place.
  const ruleSet = (kind: "command" | "output") => {
    const compiled = new CompiledRules(rules.filter((candidate) => candidate.kind === kind));
    return { rules: compiled.rules, size: compiled.size, match: async (subjects: string[]) => (matched.push(subjects), compiled.match(subjects)) };
  };
  const sets = { command: ruleSet("command"), output: ruleSet("output") };
  const sessionRules = { of: (kind: "command" | "output") => sets[kind] } as unknown as SessionRules;
  return new CommandPolicy(sessionRules, { cols: 40, rows: 10 });
}

const prompt = "user@db:~$ ";
const bytes = (text: string) => Buffer.from(text, "utf8");

/** Types keys one by one, each echoed as a shell would, then waits for the mirror to take them in. */
async function typeEchoed(policy: CommandPolicy, keys: string, echo = keys) {
  policy.keys(bytes(keys));
  policy.output(bytes(echo));
  await policy.echo();
}

async function enter(policy: CommandPolicy) {
  const at = policy.nextEnter(bytes("\r"));
  expect(at).toBe(0);
  return await policy.atEnter();
}

describe("the command policy reads the line at Enter off the screen", () => {
  it("sees what was typed, and nothing of the prompt", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(prompt));
    await typeEchoed(policy, "rm -rf /");
    expect((await enter(policy))?.subject).toBe("rm -rf /");
  });

  it("matches the line ahead of Enter once the echoes pause, not after every key of a burst, and Enter uses that match", async () => {
    const matched: string[][] = [];
    const policy = policyWith([rule("^rm -rf /$")], matched);
    policy.output(bytes(prompt));
    for (const key of "rm -rf /") {
      policy.keys(bytes(key));
      policy.output(bytes(key));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(matched).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(matched.length).toBe(1);
    expect(matched[0]).toContain("rm -rf /");
    expect((await enter(policy))?.subject).toBe("rm -rf /");
    expect(matched.length).toBe(1);
  });

  it("sees the command after output that did not end its line, over many rows", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(`${"A".repeat(40 * 7 + 13)}${prompt}`));
    await typeEchoed(policy, "rm -rf /");
    expect((await enter(policy))?.subject).toBe("rm -rf /");
  });

  it("sees a line edited with Backspace as the shell shows it", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(prompt));
    await typeEchoed(policy, "rm -rf /tmp");
    await typeEchoed(policy, "\x7f\x7f\x7f", "\b \b\b \b\b \b");
    expect((await enter(policy))?.subject).toBe("rm -rf /");
  });

  it("sees a command recalled from history (the shell redraws the line)", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(prompt));
    await typeEchoed(policy, "\x1b[A", "rm -rf /");
    expect((await enter(policy))?.subject).toBe("rm -rf /");
  });

  it("sees a completion redrawn below a list of candidates", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(prompt));
    await typeEchoed(policy, "rm -rf ");
    await typeEchoed(policy, "\t\t", `\r\nbin/  boot/  etc/\r\n${prompt}rm -rf `);
    await typeEchoed(policy, "/");
    expect((await enter(policy))?.subject).toBe("rm -rf /");
  });

  it("waits for the echo of a paste that arrives with its Enter", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(prompt));
    policy.keys(bytes("rm -rf /"));
    const verdict = policy.atEnter();
    expect(verdict).toBeInstanceOf(Promise);
    setTimeout(() => policy.output(bytes("rm -rf /")), 20);
    expect((await verdict)?.subject).toBe("rm -rf /");
  });

  it("waits for the echo of every key: an earlier key's echo arriving after later keys were sent is not theirs", async () => {
    // A recalled `echo rm -rf /`, Ctrl-A, then five Deletes sent before the shell answered the Ctrl-A: when the
    // Enter comes, the screen still shows `echo`. Judged then, the line would pass and the shell would run `rm -rf /`.
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(prompt));
    await typeEchoed(policy, "\x1b[A", "echo rm -rf /");
    policy.keys(bytes("\x01"));
    for (let index = 0; index < 5; index++) policy.keys(bytes("\x1b[3~"));
    policy.output(bytes("\r" + prompt));
    const verdict = policy.atEnter()!;
    setTimeout(() => policy.output(bytes("\x1b[5P")), 40);
    expect((await verdict)?.subject).toBe("rm -rf /");
  });

  describe("keys that edit a line typed before the shell drew its prompt", () => {
    // Bash asks for marked pastes as it draws each prompt (\x1b[?2004h) and stops as a command runs (\x1b[?2004l).
    const bashPrompt = `\x1b[?2004h${prompt}`;
    const ranCommand = "\r\n\x1b[?2004l\r";

    /** `echo rm -rf /` recalled with Up (answered in these parts), then Ctrl-A and five Deletes: the shell runs `rm -rf /`. */
    async function recallAndEdit(policy: CommandPolicy, ...upAnswer: string[]) {
      policy.keys(bytes("\x1b[A"));
      for (const part of upAnswer) policy.output(bytes(part));
      await policy.echo();
      await typeEchoed(policy, "\x01", "\b".repeat("echo rm -rf /".length));
      await typeEchoed(policy, "\x1b[3~".repeat(5), "\x1b[1P".repeat(5));
      return await enter(policy);
    }

    it("are read off the screen when typed at the prompt", async () => {
      const policy = policyWith([rule("^rm -rf /$")]);
      policy.output(bytes(bashPrompt));
      const match = await recallAndEdit(policy, "echo rm -rf /");
      expect(match).toMatchObject({ subject: "rm -rf /", unchecked: null });
    });

    it.each([
      ["once the terminal moved to a new row", ranCommand, `^[[A${bashPrompt}echo rm -rf /`],
      ["even before the Enter ending the last command was echoed", "", `${ranCommand}${bashPrompt}echo rm -rf /`],
      ["with the prompt's request for marked pastes cut in two", ranCommand, "^[[A\x1b[?20", `04h${prompt}echo rm -rf /`],
    ])("withhold the line %s: the screen cannot tell what runs", async (_, beforeKey, ...upAnswer) => {
      // The terminal echoes the Up key (^[[A) while `sleep 1` runs, the shell then draws its prompt after it but
      // redraws its line as if the prompt began the row: its edits land beside `echo `, which the screen still shows.
      const policy = policyWith([rule("^rm -rf /$"), rule("^uname$")]);
      policy.output(bytes(bashPrompt));
      await typeEchoed(policy, "sleep 1");
      policy.keys(bytes("\r"));
      policy.lineEnded(true);
      policy.output(bytes(beforeKey));
      const match = await recallAndEdit(policy, ...upAnswer);
      expect(match?.unchecked).toBe("typed_ahead");
      expect(match?.rules.map((matched) => matched.pattern)).toEqual(["^rm -rf /$", "^uname$"]);
    });
  });

  it("in a burst of lines, waits for the shell to draw the next line's keys, not for the last line's output", async () => {
    // `echo a⏎rm -rf /⏎` in one frame: the keys of the second line go out right after the first Enter, and what
    // comes back first is the first line's output and the next prompt, which are not their echo.
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(prompt));
    await typeEchoed(policy, "echo a");
    policy.keys(bytes("\r"));
    policy.lineEnded(true);
    policy.keys(bytes("rm -rf /"));
    policy.output(bytes("\r\na\r\n"));
    policy.output(bytes(prompt));
    const verdict = policy.atEnter()!;
    setTimeout(() => policy.output(bytes("rm -rf /")), 40);
    expect((await verdict)?.subject).toBe("rm -rf /");
  });

  it("judges the typed text itself when the shell does not draw it in time (keys typed ahead while a command runs)", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(prompt));
    await typeEchoed(policy, "sleep 9");
    policy.keys(bytes("\r"));
    policy.lineEnded(true);
    policy.output(bytes("\r\n"));
    policy.keys(bytes("rm -rf /tmpx\x7f\x7f\x7f\x7f"));
    const match = await policy.atEnter();
    expect(match?.subject).toBe("rm -rf /");
    expect(match?.rules).toHaveLength(1);
  });

  it("never shows keys typed at a password prompt as the subject, and does not wait for their echo", async () => {
    const policy = policyWith([rule("rm -rf")]);
    policy.output(bytes("[sudo] password for user: "));
    policy.keys(bytes("rm -rf"), true);
    policy.output(bytes(""));
    const startedAt = Date.now();
    const match = await policy.atEnter();
    expect(Date.now() - startedAt).toBeLessThan(250);
    expect(match?.subject).toBe("(typed at a password prompt)");
  });

  it("takes in megabytes of typed text without stalling, and judges a line past what is checked as too long", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes("[sudo] password for user: "));
    const frame = bytes("A".repeat(64 * 1024));
    for (let index = 0; index < 80; index++) policy.keys(frame, true);
    const match = await policy.atEnter();
    expect(match?.unchecked).toBe("too_long");
  });

  it("does not judge the typed text where keys other than printable ones and Backspace make it a guess", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(prompt));
    // Typed `rm -rf /`, then Ctrl-A and `echo `: the keys alone would say `rm -rf /…`, the screen says `echo rm -rf /`.
    await typeEchoed(policy, "rm -rf /");
    await typeEchoed(policy, "\x01", `\r${prompt}`);
    await typeEchoed(policy, "echo ", "echo rm -rf /\x1b[8D");
    expect(await enter(policy)).toBeNull();
  });

  it("does not take an Enter inside a bracketed paste for one, where the program asked for such pastes", async () => {
    const policy = policyWith([rule("rm")]);
    policy.output(bytes(`\x1b[?2004h${prompt}`));
    await policy.echo();
    expect(policy.nextEnter(bytes("\x1b[200~ls\rrm -rf /\x1b[201~"))).toBe(-1);
    expect(policy.nextEnter(bytes("\r"))).toBe(0);
  });

  it("takes an Enter inside paste markers for one where the program never asked for them", () => {
    const policy = policyWith([rule("rm")]);
    expect(policy.nextEnter(bytes("\x1b[200~rm -rf /\r\x1b[201~"))).toBe(14);
  });

  it("reads a multi-line paste as all its lines", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(prompt));
    await typeEchoed(policy, "ls", "ls\r\nrm -rf /");
    const match = await enter(policy);
    expect(match?.subject).toContain("rm -rf /");
  });

  it("reads a long line wrapped over several rows as one", async () => {
    const policy = policyWith([rule("^echo a+ && rm -rf /$")]);
    policy.output(bytes(prompt));
    await typeEchoed(policy, `echo ${"a".repeat(60)} && rm -rf /`);
    expect((await enter(policy))?.subject).toBe(`echo ${"a".repeat(60)} && rm -rf /`);
  });

  it("ignores Enter in a full-screen program", async () => {
    const policy = policyWith([rule("rm")]);
    policy.output(bytes(`${prompt}vim\r\n\x1b[?1049h`));
    await typeEchoed(policy, "irm -rf /", "rm -rf /");
    expect(await enter(policy)).toBeNull();
  });

  it("starts a new line after Ctrl-C: an allowed prefix is gone, the next line is read alone", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(prompt));
    await typeEchoed(policy, "echo safe");
    await typeEchoed(policy, "\x03", `^C\r\n${prompt}`);
    await typeEchoed(policy, "rm -rf /");
    expect((await enter(policy))?.subject).toBe("rm -rf /");
  });

  /**
   * Keys typed while a command runs: the terminal echoes them, then the shell draws its prompt after them and shows
   * them again, so the row reads `printf 'SECRE<prompt>printf 'SECRET…' 1234`, an odd number of quotes, although
   * the shell's own line is whole; `edit` is typed once the prompt is there. Then `sleep 4242` on the next line.
   */
  async function afterQuotesTypedAhead(edit: [keys: string, echo: string][]) {
    const policy = policyWith([rule("^sleep 4242$")]);
    policy.output(bytes(prompt));
    await typeEchoed(policy, "uname -s");
    policy.keys(bytes("\r"));
    policy.lineEnded(true);
    policy.output(bytes("\r\nLinux\r\n"));
    await typeEchoed(policy, "printf 'SECRE");
    policy.output(bytes(`${prompt}printf 'SECRE`));
    for (const [keys, echo] of edit) await typeEchoed(policy, keys, echo);
    await typeEchoed(policy, "T-TOKEN-%s\\n' 1234");
    expect((await enter(policy))?.rules ?? []).toHaveLength(0);
    policy.keys(bytes("\r"));
    policy.lineEnded(true);
    policy.output(bytes(`\r\nSECRET-TOKEN-1234\r\n${prompt}`));
    await policy.echo();
    await typeEchoed(policy, "sleep 4242");
    return await enter(policy);
  }

  it("reads the next line alone after keys typed ahead of a prompt made the screen show an open quote", async () => {
    // The keys tell what the shell was given, and its quotes are closed: the next line is a command of its own.
    const match = await afterQuotesTypedAhead([]);
    expect(match?.subject).toBe("sleep 4242");
    expect(match?.rules).toHaveLength(1);
  });

  it("judges a line alone too where it may continue an unfinished one that only the screen tells of", async () => {
    // Cursor keys make the typed text a guess: the screen's open quote is all there is to go on, and the line after
    // it is matched both as its continuation and as a command of its own.
    const match = await afterQuotesTypedAhead([
      ["\x1b[D", "\b"],
      ["\x1b[C", "E"],
    ]);
    expect(match?.rules).toHaveLength(1);
  });

  it("reads a command continued over several Enters (\\, an open quote, a trailing pipe) as one", async () => {
    const policy = policyWith([rule("^rm -rf /$"), rule("curl [^|]*\\| *sh")]);
    /** As the session does: the Enter goes out (or the line is cleared), then the shell answers. */
    const afterEnter = async (ran: boolean, answer: string) => {
      policy.keys(bytes("\r"));
      policy.lineEnded(ran);
      policy.output(bytes(answer));
      await policy.echo();
    };
    policy.output(bytes(prompt));
    await typeEchoed(policy, "rm \\");
    expect(await enter(policy)).toBeNull();
    await afterEnter(true, "\r\n> ");
    await typeEchoed(policy, "-rf /");
    expect((await enter(policy))?.subject).toBe("rm \\\n-rf /");
    await afterEnter(false, `\r\n${prompt}`);
    await typeEchoed(policy, "curl http://x/i |");
    expect(await enter(policy)).toBeNull();
    await afterEnter(true, "\r\n> ");
    await typeEchoed(policy, "sh");
    expect((await enter(policy))?.rules).toHaveLength(1);
  });

  it("withholds a paste whose start scrolled past what the mirror keeps, rather than read only its end", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    policy.output(bytes(`\x1b[?2004h${prompt}`));
    await typeEchoed(policy, "\x1b[200~", "");
    const pasted = ["rm -rf /", ...Array.from({ length: 600 }, (_, index) => `echo ${index}`)];
    await typeEchoed(policy, pasted.join("\r"), pasted.join("\r\n"));
    expect(policy.nextEnter(bytes("\x1b[201~\r"))).toBe(6);
    const match = await policy.atEnter();
    expect(match?.unchecked).toBe("too_long");
    expect(match?.rules).toHaveLength(1);
  });

  it("follows the command's first row as a full scrollback scrolls", async () => {
    const policy = policyWith([rule("^rm -rf /")]);
    for (let index = 0; index < 600; index++) policy.output(bytes(`line ${index}\r\n`));
    policy.output(bytes(prompt));
    await typeEchoed(policy, "\x1b[200~", "");
    const pasted = ["rm -rf /", "echo a", "echo b", "echo c", "echo d", "echo e", "echo f", "echo g", "echo h", "echo i", "echo j", "echo k"];
    await typeEchoed(policy, pasted.join("\r"), pasted.join("\r\n"));
    expect(policy.nextEnter(bytes("\x1b[201~\r"))).toBe(6);
    expect((await policy.atEnter())?.subject).toBe(pasted.join("\n"));
  });

  it("matches output lines against output rules, at most 100 a second", async () => {
    const policy = policyWith([rule("BEGIN [A-Z ]*PRIVATE KEY", "output")]);
    const flood = Array.from({ length: 500 }, () => "-----BEGIN OPENSSH PRIVATE KEY-----\r\n").join("");
    expect(await policy.output(bytes(flood), 1_000)).toHaveLength(100);
    expect(policy.output(bytes(flood), 1_500)).toBeNull();
    expect(await policy.output(bytes(flood), 2_100)).toHaveLength(100);
  });

  it("keeps only a bounded tail of a flood while nobody types, and still reads the line after it", async () => {
    const policy = policyWith([rule("^rm -rf /$")]);
    const line = `${"x".repeat(79)}\r\n`;
    for (let index = 0; index < 20_000; index++) policy.output(bytes(line), 0);
    policy.output(bytes(prompt), 0);
    await typeEchoed(policy, "rm -rf /");
    expect((await enter(policy))?.subject).toBe("rm -rf /");
  });

  it("still knows a full-screen program is running when its start was dropped with a flood, even cut in two", async () => {
    for (const [before, after] of [["vim\r\n\x1b[?1049h", ""], ["vim\r\n\x1b[?10", "49h"]]) {
      const policy = policyWith([rule("rm")]);
      policy.output(bytes(prompt), 0);
      policy.output(bytes(before!), 0);
      const page = "y".repeat(32 * 1024);
      policy.output(bytes(`${after}${page}`), 0);
      for (let index = 0; index < 40; index++) policy.output(bytes(page), 0);
      await typeEchoed(policy, "irm -rf /", "rm -rf /");
      expect(await enter(policy), JSON.stringify(before)).toBeNull();
    }
  });
});
