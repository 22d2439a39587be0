import { afterEach, describe, expect, it, vi } from "vitest";
import { controlActionSchema, controlsFor, liveStateSchema, type ControlAction, type ControlledState, type LiveState } from "@/lib/protocol/live";
import type { EndReason } from "@/lib/protocol/session-socket";
import { expiryWarningMs, LiveSessionCore } from "@/server/live/live-session-core";
import { MemorySessionStore } from "../fixtures/memory-session-store";
import { asSocket, RecordingSocket } from "../fixtures/recording-socket";

const viewer = { id: "v1", name: "sam.security", sourceIp: "10.0.0.9" };

/** A core with a side that writes down what the core asked of it. */
function liveSession(protocol: "ssh" | "rdp" | "web", from: LiveState = "active") {
  const store = new MemorySessionStore();
  const side = {
    controlled: [] as { state: ControlledState; userMessage: string }[],
    watching: [] as number[],
    stopped: [] as { reason: EndReason; message: string }[],
    finished: [] as { reason: EndReason; message: string }[],
  };
  const core = new LiveSessionCore(
    { username: "carla", targetName: "db-1", protocol, node: "node-a", recorded: true },
    store,
    {
      catchUp: async () => [Buffer.from("the screen")],
      controlled: (state, userMessage) => void side.controlled.push({ state, userMessage }),
      watchersChanged: (count) => void side.watching.push(count),
      stop: (reason, message) => void side.stopped.push({ reason, message }),
      finish: async (reason, message) => void side.finished.push({ reason, message }),
    },
    { state: from },
  );
  core.opened("s-1", Date.UTC(2026, 0, 1));
  return { core, store, side };
}

const control = (action: ControlAction) => ({ requestId: "r-1", node: "node-a", sessionId: "s-1", action, reason: "checking", actorName: "sam.security" });
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("the live-session core's controls", () => {
  const expected: Record<ControlAction, Partial<Record<LiveState, ControlledState | "ended">>> = {
    lock: { active: "locked" },
    unlock: { locked: "active" },
    pause: { active: "paused" },
    resume: { paused: "active" },
    terminate: { connecting: "ended", active: "ended", locked: "ended", paused: "ended" },
    terminate_and_cancel: { connecting: "ended", active: "ended", locked: "ended", paused: "ended" },
  };

  for (const protocol of ["ssh", "web"] as const) {
    for (const from of liveStateSchema.options) {
      for (const action of controlActionSchema.options) {
        const webPause = protocol === "web" && (action === "pause" || action === "resume");
        const to = webPause ? undefined : expected[action][from];
        it(`${protocol}: ${action} when ${from} ${to ? `→ ${to}` : "is refused"}`, async () => {
          const { core, store, side } = liveSession(protocol, from);
          const outcome = await core.applyControl(control(action));
          expect(outcome.ok).toBe(to !== undefined);
          expect(core.state).toBe(to ?? from);
          if (!to) {
            expect(outcome.message).toMatch(webPause ? /cannot be paused/ : new RegExp(`the session is ${from}`));
            expect(store.events).toEqual([]);
            expect(side.controlled).toEqual([]);
            return;
          }
          // Every control is on the session's timeline with who and why.
          expect(store.events).toEqual([{ sessionId: "s-1", kind: action, actorName: "sam.security", details: { reason: "checking" } }]);
          if (to === "ended") {
            expect(side.stopped).toEqual([{ reason: "terminated", message: expect.stringContaining("sam.security") }]);
            expect(side.finished).toHaveLength(1);
            expect(side.controlled).toEqual([]);
          } else {
            expect(store.statuses.get("s-1")).toBe(to);
            expect(side.controlled).toEqual([{ state: to, userMessage: action === "lock" ? "Locked by the test." : expect.any(String) }]);
          }
        });
      }
    }
  }

  it("the buttons offered are exactly the moves the table allows: no pause for a web visit", () => {
    expect(controlsFor("active", "ssh")).toEqual(["lock", "pause", "terminate", "terminate_and_cancel"]);
    expect(controlsFor("active", "web")).toEqual(["lock", "terminate", "terminate_and_cancel"]);
    expect(controlsFor("locked", "web")).toEqual(["unlock", "terminate", "terminate_and_cancel"]);
    expect(controlsFor("paused", "rdp")).toEqual(["resume", "terminate", "terminate_and_cancel"]);
    expect(controlsFor("connecting", "ssh")).toEqual(["terminate", "terminate_and_cancel"]);
  });

  it("watchers see a lock and an unlock with who and why, and the user is told in the admin's words", async () => {
    const { core, store } = liveSession("ssh");
    const socket = new RecordingSocket();
    core.watch(asSocket(socket), viewer);
    store.lockMessage = "Stop: security is looking.";
    await core.applyControl(control("lock"));
    await core.applyControl({ ...control("unlock"), actorName: "lee.security" });
    expect(socket.sent("state")).toEqual([
      { type: "state", state: "active", by: null, reason: null },
      { type: "state", state: "locked", by: "sam.security", reason: "checking" },
      { type: "state", state: "active", by: null, reason: null },
    ]);
  });

  it("a termination uses the admin's wording when there is one", async () => {
    const { core, store, side } = liveSession("web");
    store.terminationMessage = "Ended by the SOC.";
    await core.applyControl(control("terminate"));
    expect(side.stopped[0]!.message).toContain("Ended by the SOC.");
  });
});

describe("the live-session core's watchers", () => {
  it("a watcher gets who and where, the state, the screen; joins and leaves are recorded and counted", async () => {
    const { core, store, side } = liveSession("rdp", "locked");
    const socket = new RecordingSocket();
    core.watch(asSocket(socket), viewer);
    await turn();
    expect(socket.frames[0]).toEqual({ type: "joined", session: { id: "s-1", username: "carla", targetName: "db-1", protocol: "rdp", node: "node-a", startedAt: "2026-01-01T00:00:00.000Z", recorded: true } });
    expect(socket.frames[1]).toEqual({ type: "state", state: "locked", by: null, reason: null });
    expect(socket.frames).toContain("the screen");
    const second = new RecordingSocket();
    core.watch(asSocket(second), { ...viewer, name: "lee.security" });
    socket.emit("close");
    second.emit("close");
    expect(side.watching).toEqual([1, 2, 1, 0]);
    expect(core.watcherCount).toBe(0);
    expect(store.watching.map(({ kind, viewer }) => `${kind} ${viewer}`)).toEqual(["watch.join sam.security", "watch.join lee.security", "watch.leave sam.security", "watch.leave lee.security"]);
    expect(store.watching[0]!.session).toEqual({ id: "s-1", username: "carla", targetName: "db-1" });
  });

  it("a watcher's input goes nowhere and is answered with an error", () => {
    const { core } = liveSession("ssh");
    const socket = new RecordingSocket();
    core.watch(asSocket(socket), viewer);
    socket.emit("message", Buffer.from("rm -rf /\r"), true);
    expect(socket.sent("error")).toEqual([{ type: "error", message: "a watcher cannot send input to the session" }]);
  });

  it("people watching through another node count as they say, and leave with the link", () => {
    const { core, side } = liveSession("ssh");
    const link = new RecordingSocket();
    core.relayTo(asSocket(link));
    link.emit("message", Buffer.from(JSON.stringify({ type: "viewers", count: 3 })), false);
    const local = new RecordingSocket();
    core.watch(asSocket(local), viewer);
    expect(core.watcherCount).toBe(4);
    link.emit("close");
    expect(side.watching).toEqual([3, 4, 1]);
    expect(core.watcherCount).toBe(1);
  });

  it("a link that sends anything but its messages is closed", () => {
    const { core, side } = liveSession("ssh");
    const link = new RecordingSocket();
    core.relayTo(asSocket(link));
    link.emit("message", Buffer.from(JSON.stringify({ type: "viewers", count: -5 })), false);
    expect(link.readyState).toBe(3);
    expect(side.watching).toEqual([]);
  });
});

describe("the live-session core's end", () => {
  const reasons: EndReason[] = ["user_closed", "target_closed", "terminated", "expired", "error", "interrupted"];
  for (const reason of reasons) {
    it(`ends once for ${reason}: the protocol stopped, watchers told why, the end kept; later ends and controls change nothing`, async () => {
      const { core, side } = liveSession("ssh");
      const socket = new RecordingSocket();
      core.watch(asSocket(socket), viewer);
      await Promise.all([core.end(reason, "first"), core.end("error", "second")]);
      expect(core.state).toBe("ended");
      expect(side.stopped).toEqual([{ reason, message: "first" }]);
      expect(side.finished).toEqual([{ reason, message: "first" }]);
      expect(socket.sent("ended")).toEqual([{ type: "ended", reason, message: "first" }]);
      expect(await core.applyControl(control("lock"))).toEqual({ ok: false, message: "the session has already ended" });
      expect(await core.applyControl(control("terminate"))).toEqual({ ok: false, message: "the session has already ended" });
    });
  }

  it("a session that never got its row is stopped but has nothing to keep", async () => {
    const store = new MemorySessionStore();
    const finished: string[] = [];
    const stopped: string[] = [];
    const core = new LiveSessionCore({ username: "carla", targetName: "db-1", protocol: "ssh", node: "node-a", recorded: false }, store, {
      catchUp: async () => [],
      controlled: () => {},
      watchersChanged: () => {},
      stop: (reason) => void stopped.push(reason),
      finish: async (reason) => void finished.push(reason),
    });
    expect(core.state).toBe("connecting");
    await core.end("interrupted", "the gateway is shutting down");
    expect(stopped).toEqual(["interrupted"]);
    expect(finished).toEqual([]);
    expect(core.activate()).toBe(false);
  });

  it("a failure to keep the end is logged, not thrown at whoever ended it", async () => {
    const core = new LiveSessionCore({ username: "carla", targetName: "db-1", protocol: "web", node: "node-a", recorded: true }, new MemorySessionStore(), {
      catchUp: async () => [],
      controlled: () => {},
      watchersChanged: () => {},
      stop: () => {},
      finish: async () => {
        throw new Error("the database went away");
      },
    });
    core.opened("s-2", Date.now());
    await expect(core.end("expired", "time is up")).resolves.toBeUndefined();
    expect(core.state).toBe("ended");
  });
});

describe("the live-session core's time limit", () => {
  afterEach(() => vi.useRealTimers());
  const minutes = (count: number) => count * 60_000;

  for (const protocol of ["ssh", "web"] as const) {
    it(`${protocol}: warns five minutes before the deadline, then ends the session as expired, saying why`, async () => {
      vi.useFakeTimers({ now: Date.UTC(2026, 0, 1, 9) });
      const { core, side } = liveSession(protocol);
      const warnings: number[] = [];
      core.setDeadline(Date.now() + minutes(30), "the session reached its time limit", () => warnings.push(Date.now()));
      expect(core.expiresAt).toBe(Date.UTC(2026, 0, 1, 9, 30));
      await vi.advanceTimersByTimeAsync(minutes(25) - 1);
      expect(warnings).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(warnings).toEqual([Date.UTC(2026, 0, 1, 9, 25)]);
      expect(core.state).toBe("active");
      await vi.advanceTimersByTimeAsync(minutes(5));
      expect(core.state).toBe("ended");
      expect(side.finished).toEqual([{ reason: "expired", message: "the session reached its time limit" }]);
      expect(core.expiresAt).toBeNull();
    });
  }

  it("an extension moves the deadline: nothing happens at the old one, the warning comes again before the new", async () => {
    vi.useFakeTimers({ now: 0 });
    const { core, side } = liveSession("ssh");
    let warnings = 0;
    core.setDeadline(minutes(10), "time is up", () => warnings++);
    await vi.advanceTimersByTimeAsync(minutes(6));
    expect(warnings).toBe(1);
    core.setDeadline(minutes(20), "time is up", () => warnings++);
    await vi.advanceTimersByTimeAsync(minutes(5));
    expect(core.state).toBe("active");
    expect(warnings).toBe(1);
    await vi.advanceTimersByTimeAsync(minutes(9));
    expect(warnings).toBe(2);
    expect(core.state).toBe("ended");
    expect(side.finished).toHaveLength(1);
  });

  it("a deadline already within the warning is warned of at once; one past ends the session at once", async () => {
    vi.useFakeTimers({ now: 0 });
    const { core } = liveSession("web");
    let warnings = 0;
    core.setDeadline(expiryWarningMs - 1000, "time is up", () => warnings++);
    await vi.advanceTimersByTimeAsync(0);
    expect(warnings).toBe(1);
    const late = liveSession("web");
    late.core.setDeadline(-1, "it reached its time limit", () => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(late.core.state).toBe("ended");
    expect(late.side.stopped).toEqual([{ reason: "expired", message: "it reached its time limit" }]);
  });

  it("a deadline weeks away (past a timer's longest delay) is neither warned of nor reached early", async () => {
    vi.useFakeTimers({ now: 0 });
    const { core } = liveSession("ssh");
    let warnings = 0;
    core.setDeadline(minutes(60 * 24 * 40), "time is up", () => warnings++);
    await vi.advanceTimersByTimeAsync(minutes(60 * 24 * 30));
    expect(warnings).toBe(0);
    expect(core.state).toBe("active");
    await vi.advanceTimersByTimeAsync(minutes(60 * 24 * 10));
    expect(warnings).toBe(1);
    expect(core.state).toBe("ended");
  });

  it("a session ended before its deadline is neither warned nor ended again", async () => {
    vi.useFakeTimers({ now: 0 });
    const { core, side } = liveSession("ssh");
    let warnings = 0;
    core.setDeadline(minutes(10), "time is up", () => warnings++);
    await core.end("user_closed", "you closed the session");
    await vi.advanceTimersByTimeAsync(minutes(20));
    expect(warnings).toBe(0);
    expect(side.stopped).toEqual([{ reason: "user_closed", message: "you closed the session" }]);
    core.setDeadline(minutes(30), "time is up", () => warnings++);
    expect(core.expiresAt).toBeNull();
  });
});
