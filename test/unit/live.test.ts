import { afterEach, describe, expect, it, vi } from "vitest";
import { visibleKeys, type KeystrokeLogEntry, type WatchServerMessage } from "@/lib/protocol/live";
import { TerminalStream } from "@/server/protocols/terminal-stream";
import { KeystrokeInspector, maskedInput } from "@/server/protocols/input-masker";
import { terminalScreenFrames } from "@/server/recorder/terminal-recorder";
import { RelayedSession } from "@/server/cluster/relayed-session";
import { WatcherHub, type WatchFrame } from "@/server/live/watchers";
import { asSocket, RecordingSocket } from "../fixtures/recording-socket";

/** One turn of the event loop: the hub sends the output gathered in a turn at its end. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("watchers", () => {
  afterEach(() => vi.useRealTimers());

  it("a joining watcher gets greeting, log, the current screen, then what arrived while the screen was read — in order, once", async () => {
    let releaseCatchUp!: (frames: WatchFrame[]) => void;
    let reads = 0;
    const hub = new WatcherHub(() => new Promise((resolve) => ((releaseCatchUp = resolve), reads++)));
    hub.notice({ type: "log", entries: [{ at: 1, kind: "command", text: "ls" }] });
    const socket = new RecordingSocket();
    hub.add(asSocket(socket), [{ type: "state", state: "active", by: null, reason: null }]);
    hub.screen(Buffer.from("after-join "));
    hub.notice({ type: "log", entries: [{ at: 2, kind: "keys", text: "x" }] });
    // A second watcher joining while the screen is read shares that read.
    const second = new RecordingSocket();
    hub.add(asSocket(second), []);
    hub.screen(Buffer.from("later "));
    releaseCatchUp([{ type: "screen", cols: 80, rows: 24 }, Buffer.from("screen-so-far ")]);
    await turn();
    hub.screen(Buffer.from("live"));
    await turn();
    expect(socket.frames).toEqual([
      { type: "state", state: "active", by: null, reason: null },
      { type: "log", entries: [{ at: 1, kind: "command", text: "ls" }] },
      { type: "log", entries: [{ at: 2, kind: "keys", text: "x" }] },
      { type: "screen", cols: 80, rows: 24 },
      "screen-so-far ",
      { type: "live", continuous: false },
      "after-join ",
      "later ",
      "live",
    ]);
    expect(second.frames.filter((frame) => typeof frame === "string")).toEqual(["screen-so-far ", "after-join ", "later ", "live"]);
    expect(reads).toBe(1);
  });

  it("a watcher that falls behind gets no screen frames (but still state changes), then is caught up afresh once drained", async () => {
    vi.useFakeTimers();
    let screenNow = "first";
    const hub = new WatcherHub(async () => [{ type: "screen", cols: 80, rows: 24 }, Buffer.from(`[${screenNow}]`)]);
    const slow = new RecordingSocket();
    const fast = new RecordingSocket();
    hub.add(asSocket(slow), []);
    hub.add(asSocket(fast), []);
    await vi.advanceTimersByTimeAsync(0);
    slow.bufferedAmount = 2 * 1024 * 1024;
    hub.screen(Buffer.from("a"));
    await vi.advanceTimersByTimeAsync(0);
    hub.screen(Buffer.from("b"));
    hub.notice({ type: "state", state: "locked", by: "sam", reason: "why" });
    screenNow = "second";
    await vi.advanceTimersByTimeAsync(1000);
    expect(slow.frames.slice(-2)).toEqual(["a", { type: "state", state: "locked", by: "sam", reason: "why" }]);
    slow.bufferedAmount = 0;
    await vi.advanceTimersByTimeAsync(300);
    hub.screen(Buffer.from("c"));
    await vi.advanceTimersByTimeAsync(0);
    expect(slow.frames.slice(-4)).toEqual([{ type: "screen", cols: 80, rows: 24 }, "[second]", { type: "live", continuous: false }, "c"]);
    expect(fast.frames.filter((frame) => typeof frame === "string")).toEqual(["[first]", "a", "b", "c"]);
  });

  it("a watcher in step that asks to be caught up again is told its live stream continues without a gap", async () => {
    const hub = new WatcherHub(async () => [{ type: "screen", cols: 80, rows: 24 }, Buffer.from("[screen]")]);
    const socket = new RecordingSocket();
    const watcher = hub.add(asSocket(socket), []);
    await turn();
    hub.screen(Buffer.from("a"));
    hub.catchUpAgain(watcher);
    hub.screen(Buffer.from("b"));
    await turn();
    expect(socket.frames.slice(1)).toEqual([
      { type: "screen", cols: 80, rows: 24 },
      "[screen]",
      { type: "live", continuous: false },
      "a",
      { type: "screen", cols: 80, rows: 24 },
      "[screen]",
      { type: "live", continuous: true },
      "b",
    ]);
  });

  it("ends every watcher with the reason", async () => {
    const hub = new WatcherHub(async () => []);
    const socket = new RecordingSocket();
    hub.add(asSocket(socket), []);
    hub.end({ type: "ended", reason: "terminated", message: "terminated by sam" });
    expect(socket.frames.at(-1)).toEqual({ type: "ended", reason: "terminated", message: "terminated by sam" });
    expect(socket.readyState).toBe(3);
    expect(hub.size).toBe(0);
  });
});

describe("a session relayed from the node that runs it", () => {
  /** The link to the owning node: the test plays the owning node's side. */
  class OwnerLink extends RecordingSocket {
    readonly asked: unknown[] = [];
    override send(data: Buffer | string) {
      this.asked.push(JSON.parse(String(data)));
    }
    say(message: WatchServerMessage | string) {
      if (typeof message === "string") this.emit("message", Buffer.from(message), true);
      else this.emit("message", Buffer.from(JSON.stringify(message)), false);
    }
    /** What the owning node sends a new link first: the session, its state, the keystroke log. */
    greet(entries: KeystrokeLogEntry[]) {
      this.say({ type: "joined", session: { id: "s", username: "bob", targetName: "web", protocol: "ssh", node: "node-1", startedAt: "2026-01-01T00:00:00.000Z", recorded: true } });
      this.say({ type: "state", state: "active", by: null, reason: null });
      this.say({ type: "log", entries });
    }
    catchUp(screen: string, continuous: boolean) {
      this.say({ type: "screen", cols: 80, rows: 24 });
      this.say(screen);
      this.say({ type: "live", continuous });
    }
  }
  const viewer = { kind: "user", id: "u", name: "sam", sourceIp: "127.0.0.1" } as const;
  const session = { id: "s", username: "bob", targetName: "web" };
  const screenText = (socket: RecordingSocket) => socket.frames.filter((frame) => typeof frame === "string" || frame.type === "screen" || frame.type === "live").map((frame) => (typeof frame === "string" ? frame : frame.type === "live" ? `live(${frame.continuous})` : "screen"));

  /** A first watcher, greeted and caught up from the link's first screen ("S1 "). */
  async function watchInStep(link: OwnerLink, watch: () => RecordingSocket) {
    const first = watch();
    link.greet([]);
    link.catchUp("S1 ", false);
    await turn();
    return first;
  }

  function relay() {
    const link = new OwnerLink();
    const recorded: string[] = [];
    const relayed = new RelayedSession(asSocket(link), "node-1", (kind, who) => recorded.push(`${kind} ${who.name}`), () => recorded.push("gone"));
    link.emit("open");
    return { link, relayed, recorded, watch: () => {
      const socket = new RecordingSocket();
      relayed.add(asSocket(socket), viewer, session);
      return socket;
    } };
  }

  it("fans one link out: a watcher joining here is caught up from the kept stream without asking the owning node", async () => {
    const { link, watch, recorded } = relay();
    const first = watch();
    link.greet([{ at: 1, kind: "command", text: "ls" }]);
    link.catchUp("S1 ", false);
    await turn();
    link.say("x ");
    const second = watch();
    await turn();
    link.say("y");
    await turn();
    expect(first.frames.slice(0, 3).map((frame) => typeof frame !== "string" && frame.type)).toEqual(["joined", "state", "log"]);
    expect(screenText(first)).toEqual(["screen", "S1 ", "live(false)", "x ", "y"]);
    expect(second.frames.slice(0, 3).map((frame) => typeof frame !== "string" && frame.type)).toEqual(["joined", "state", "log"]);
    expect(screenText(second)).toEqual(["screen", "S1 ", "x ", "live(false)", "y"]);
    expect(link.asked.filter((message) => (message as { type: string }).type === "resync")).toHaveLength(1);
    expect(link.asked.at(-1)).toEqual({ type: "viewers", count: 2 });
    second.close();
    second.emit("close");
    expect(link.asked.at(-1)).toEqual({ type: "viewers", count: 1 });
    expect(recorded).toEqual(["watch.join sam", "watch.join sam", "watch.leave sam"]);
  });

  it("after the kept stream grew too long, a join asks for a new catch-up that the others, in step, do not see again", async () => {
    const { link, watch } = relay();
    const first = await watchInStep(link, watch);
    link.say("z".repeat(9 * 1024 * 1024));
    const late = watch();
    await turn();
    expect(link.asked.filter((message) => (message as { type: string }).type === "resync")).toHaveLength(2);
    // Sent by the owning node before it saw the request: already on the screen it then sends.
    link.say("in-flight ");
    link.catchUp("S2 ", true);
    await turn();
    link.say("after");
    await turn();
    expect(screenText(late)).toEqual(["screen", "S2 ", "live(false)", "after"]);
    expect(screenText(first).slice(3)).toEqual(["z".repeat(9 * 1024 * 1024), "in-flight ", "after"]);
  });

  it("when the owning node dropped frames for the link, every watcher here is caught up afresh", async () => {
    const { link, watch } = relay();
    const first = await watchInStep(link, watch);
    link.catchUp("S2 ", false);
    await turn();
    link.say("after");
    await turn();
    expect(screenText(first)).toEqual(["screen", "S1 ", "live(false)", "screen", "S2 ", "live(false)", "after"]);
  });

  it("tells its watchers when the owning node goes away, and closes the link when the last watcher leaves", () => {
    const { link, watch, recorded } = relay();
    const first = watch();
    link.emit("close", 1006);
    expect(first.frames).toEqual([{ type: "error", message: "node node-1, which runs this session, cannot be reached" }]);
    expect(recorded).toContain("gone");
    const { link: other, watch: watchOther } = relay();
    const only = watchOther();
    only.close();
    only.emit("close");
    expect(other.readyState).toBe(3);
  });
});

describe("keystroke inspector", () => {
  it("masks a secret typed after a prompt, and reports completed commands but never the secret", () => {
    const inspector = new KeystrokeInspector();
    expect(inspector.input(Buffer.from("sudo -i\r"))).toEqual({ shown: "sudo -i\r", commands: ["sudo -i"], masked: false });
    inspector.observeOutput(Buffer.from("[sudo] password for deploy: "));
    expect(inspector.input(Buffer.from("hunter2\r"))).toEqual({ shown: `${maskedInput}\r`, commands: [], masked: true });
    expect(inspector.input(Buffer.from("whoami\r"))).toEqual({ shown: "whoami\r", commands: ["whoami"], masked: false });
  });

  it("finds a prompt at the end of a large output chunk without decoding all of it", () => {
    const inspector = new KeystrokeInspector();
    inspector.observeOutput(Buffer.concat([Buffer.alloc(1_000_000, "x"), Buffer.from("\r\nPassword: ")]));
    expect(inspector.input(Buffer.from("s3cret")).shown).toBe(maskedInput);
  });
});

describe("live view text", () => {
  it("shows keys by name", () => {
    expect(visibleKeys("ls -l\r")).toBe("ls -l⏎");
    expect(visibleKeys("\x1b[A\x7f\x03\t")).toBe("↑⌫^C⇥");
  });

  it("previews the screen as a terminal draws it: the last lines that hold anything, overwrites and moves applied", async () => {
    const stream = new TerminalStream({ cols: 40, rows: 10 });
    expect(await stream.takePreview()).toBeNull();
    for (let line = 1; line <= 8; line++) stream.observeOutput(Buffer.from(`line ${line}\r\n`));
    stream.observeOutput(Buffer.from("\x1b[32mprogress 10%\x1b[0m\rprogress 99%\r\n$ ech\x08\x08\x08\x1b[Kls -l"));
    expect(await stream.takePreview()).toBe(["line 4", "line 5", "line 6", "line 7", "line 8", "progress 99%"].slice(-5).concat("$ ls -l").join("\n"));
    // Nothing new: nothing to write.
    expect(await stream.takePreview()).toBeNull();
    // A full-screen program draws by position; the preview shows where it drew, not the order of the bytes.
    stream.observeOutput(Buffer.from("\x1b[2J\x1b[10;1Hstatus bar\x1b[1;1Htop line"));
    expect(await stream.takePreview()).toBe("top line\nstatus bar");
  });
});

describe("a terminal's catch-up for watchers", () => {
  it("replays the keyframe and every event after it, resizes in order", () => {
    expect(terminalScreenFrames({ cols: 80, rows: 24 }, "KEY", [[1, "o", "a"], [2, "i", "typed"], [3, "r", "100x30"], [4, "o", "b"]])).toEqual([
      { type: "screen", cols: 80, rows: 24 },
      Buffer.from("KEY"),
      Buffer.from("a"),
      { type: "resize", cols: 100, rows: 30 },
      Buffer.from("b"),
    ]);
  });

  it("after a flood, replays the keyframe and only the last megabyte, at the size then in effect", () => {
    const flood = "x".repeat(600 * 1024);
    const frames = terminalScreenFrames({ cols: 80, rows: 24 }, "KEY", [[1, "o", flood], [2, "r", "120x40"], [3, "o", flood], [4, "o", flood], [5, "o", "end"]]);
    expect(frames.slice(0, 3)).toEqual([{ type: "screen", cols: 80, rows: 24 }, Buffer.from("KEY"), { type: "resize", cols: 120, rows: 40 }]);
    expect(frames.slice(3)).toEqual([Buffer.from(flood + "end")]);
  });
});
