import { describe, expect, it } from "vitest";
import { CommandLineTracker, OutputLineTracker } from "@/lib/domain/transcript-lines";

describe("commands rebuilt from keystrokes", () => {
  it("applies backspace, Ctrl+U, Ctrl+W and Ctrl+C, and ends at Enter", () => {
    const tracker = new CommandLineTracker();
    expect(tracker.type("ls -lx")).toEqual([]);
    expect(tracker.type("\x7fa /etc\r")).toEqual(["ls -la /etc"]);
    expect(tracker.type("rm -rf /\x15echo safe\r")).toEqual(["echo safe"]);
    expect(tracker.type("cat one two\x17three\r")).toEqual(["cat one three"]);
    expect(tracker.type("sleep 100\x03uptime\r")).toEqual(["uptime"]);
  });

  it("drops cursor keys and ignores empty lines; works across chunks", () => {
    const tracker = new CommandLineTracker();
    expect(tracker.type("\x1b[Awho")).toEqual([]);
    expect(tracker.type("ami\x1b[D\x1bOC\r\r   \r")).toEqual(["whoami"]);
  });
});

describe("output lines", () => {
  it("strips colours, titles and OSC sequences, keeps text after a carriage return", () => {
    const tracker = new OutputLineTracker();
    const lines = tracker.write("\x1b]0;user@host: ~\x07\x1b[01;32muser@host\x1b[00m$ ls\r\nfile-one  \x1b[34mdir\x1b[0m\r\n 10%\r 55%\r100% done\r\npartial");
    expect(lines).toEqual(["user@host$ ls", "file-one  dir", "100% done"]);
    expect(tracker.write(" line\r\n")).toEqual(["partial line"]);
    expect(tracker.write("tail without newline")).toEqual([]);
    expect(tracker.end()).toEqual(["tail without newline"]);
  });

  it("neutralises clipboard writes and links", () => {
    const tracker = new OutputLineTracker();
    expect(tracker.write("a\x1b]52;c;ZXZpbA==\x07b\x1b]8;;javascript:alert(1)\x07click\x1b]8;;\x07\n")).toEqual(["abclick"]);
  });
});
