// Keyframes and seeking, for real: a synthetic session of shell use is recorded through the recorder into the
// file blob store and PostgreSQL, the keyframer's child process emulates it and stores keyframes, and a seek to
// any moment — the nearest keyframe plus the chunks after it, nothing else — shows exactly the screen a
// terminal fed the whole session showed at that moment. A keyframer stopped half-way (a crash) is completed by
// the catch-up at the next start.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { recordingChunks, recordingKeyframes, sessions } from "@/lib/data/schema";
import type { BlobStore } from "@/lib/infra/blob-store/blob-store";
import { replay } from "@/lib/protocol/recordings";
import { readRecordingWindow } from "@/lib/data/recordings";
import { Keyframer } from "@/server/recorder/keyframer";
import { TerminalRecorder } from "@/server/recorder/terminal-recorder";
import { useRecordingStore } from "../fixtures/recording-store";
import { headlessTerminal, recordSynthetic, screenOf, syntheticSession, type SyntheticStep } from "../fixtures/synthetic-terminal";

/** The keyframer processes this test process started. */
function keyframerChildren(): number[] {
  const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  return children.filter((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("keyframer-process"));
}

const node = `keyframes-${randomBytes(3).toString("hex")}`;
const durationMs = 6 * 60_000;

describe("keyframes and seeking", () => {
  const { db, blobStore, userId } = useRecordingStore("keyframes");

  /** A session row and a recorder for it, on a clock the test moves. */
  async function openRecording(keyframer: Keyframer, store = blobStore()) {
    const [session] = await db().insert(sessions).values({ userId: userId(), targetName: "synthetic", protocol: "ssh", node, status: "active" }).returning();
    const sessionId = session!.id;
    const startedAt = Date.UTC(2026, 10, 24);
    const clock = { nowMs: startedAt };
    const recorder = new TerminalRecorder({ db: db(), blobStore: store, sessionId, startedAt, size: { cols: 120, rows: 40 }, title: "synthetic", keyframes: keyframer.feed(sessionId), now: () => clock.nowMs });
    const play = (steps: SyntheticStep[]) => recordSynthetic(recorder, clock, startedAt, steps);
    const end = async () => {
      await recorder.close();
      await db().update(sessions).set({ status: "ended", endedAt: new Date() }).where(eq(sessions.id, sessionId));
    };
    return { sessionId, recorder, play, end };
  }

  /** Records a synthetic session; returns its id and its steps. */
  async function record(keyframer: Keyframer, seed: number) {
    const recording = await openRecording(keyframer);
    const steps = [...syntheticSession({ durationMs, bytesPerSecond: 4000, seed })];
    await recording.play(steps);
    await recording.end();
    return { sessionId: recording.sessionId, steps };
  }

  /** Waits until the keyframer has taken in the whole recording. */
  const keyframed = (sessionId: string) =>
    expect.poll(async () => (await db().select({ seq: sessions.keyframedSeq }).from(sessions).where(eq(sessions.id, sessionId)))[0]?.seq, { timeout: 30_000 }).not.toBeNull();

  /** Runs a test with a started keyframer, stopped afterwards whatever happens. */
  async function withKeyframer(test: (keyframer: Keyframer) => Promise<void>, hibernateAfterMs?: number) {
    const keyframer = new Keyframer(db(), blobStore(), hibernateAfterMs);
    keyframer.start();
    try {
      await test(keyframer);
    } finally {
      keyframer.stop();
    }
  }

  /** The screen at each moment, from a terminal fed the whole session in order. */
  async function truthAt(steps: SyntheticStep[], moments: number[]) {
    const terminal = headlessTerminal(120, 40);
    const screens = new Map<number, ReturnType<typeof screenOf>>();
    let index = 0;
    for (const moment of [...moments].sort((a, b) => a - b)) {
      const upTo = steps.slice(index).findIndex((step) => step.atMs > moment);
      const end = upTo === -1 ? steps.length : index + upTo;
      await replay(terminal, steps.slice(index, end).map((step) => [step.atMs / 1000, step.code, step.data]));
      index = end;
      screens.set(moment, screenOf(terminal));
    }
    terminal.dispose();
    return screens;
  }

  /** What the player shows after seeking to `moment`, and how many chunks it read to get there. */
  async function seek(sessionId: string, moment: number) {
    const window = await readRecordingWindow(db(), blobStore(), sessionId, { atMs: moment });
    const terminal = headlessTerminal(window.size!.cols, window.size!.rows);
    if (window.keyframe) await new Promise<void>((resolve) => terminal.write(window.keyframe!, resolve));
    await replay(terminal, window.events.filter(([seconds]) => Math.round(seconds * 1000) <= moment));
    const screen = screenOf(terminal);
    terminal.dispose();
    return { screen, window };
  }

  it("stores a keyframe about every 30 s, and every seek shows the true screen from the nearest one", async () => {
    await withKeyframer(async (keyframer) => {
      const { sessionId, steps } = await record(keyframer, 7);
      await keyframed(sessionId);

      const keyframes = await db().select().from(recordingKeyframes).where(eq(recordingKeyframes.sessionId, sessionId)).orderBy(asc(recordingKeyframes.afterSeq));
      const chunks = await db().select().from(recordingChunks).where(eq(recordingChunks.sessionId, sessionId)).orderBy(asc(recordingChunks.seq));
      expect(chunks.at(-1)!.endMs).toBe(steps.at(-1)!.atMs);
      expect(chunks.at(-1)!.endMs).toBeGreaterThan(4 * 60_000);
      // The policy, chunk by chunk: no chunk lies 30 s of recording or 64 chunks past the last keyframe (or the start).
      expect(keyframes.length).toBeGreaterThan(3);
      let last = { afterSeq: -1, atMs: 0 };
      for (const chunk of chunks) {
        const keyframe = keyframes.find((candidate) => candidate.afterSeq === chunk.seq);
        if (!keyframe) {
          expect(chunk.endMs - last.atMs, `chunk ${chunk.seq}`).toBeLessThan(30_000);
          expect(chunk.seq - last.afterSeq).toBeLessThan(64);
        } else last = keyframe;
      }

      const endMs = chunks.at(-1)!.endMs;
      expect(endMs).toBe(steps.at(-1)!.atMs);
      const moments = Array.from({ length: 40 }, (_, index) => Math.floor(((index + 0.5) / 40) * endMs) + (index % 7));
      const truth = await truthAt(steps, moments);
      for (const moment of moments) {
        const { screen, window } = await seek(sessionId, moment);
        expect(screen, `screen at ${moment} ms`).toEqual(truth.get(moment));
        // Past the first keyframe, a seek starts at the newest one before the moment.
        const nearest = keyframes.findLast((keyframe) => keyframe.atMs <= moment);
        expect(window.startMs).toBe(nearest?.atMs ?? 0);
      }

      // Playing on from a seek: continuation windows carry the rest of the recording, every event once.
      const all: number[] = [];
      let window = await readRecordingWindow(db(), blobStore(), sessionId, { atMs: 0 });
      all.push(...window.events.map(([seconds]) => seconds));
      while (window.nextSeq !== null) {
        window = await readRecordingWindow(db(), blobStore(), sessionId, { seq: window.nextSeq });
        all.push(...window.events.map(([seconds]) => seconds));
      }
      expect(all).toHaveLength(steps.length);
    });
  });

  it("stores a flood in chunks of up to 256 KiB with a keyframe every 4 MiB, and seeks into it show the true screen", async () => {
    await withKeyframer(async (keyframer) => {
      const recording = await openRecording(keyframer);
      // A prompt, 12 MiB of numbered lines a millisecond per 32 KiB (a flood), then a person typing again.
      const steps: SyntheticStep[] = [{ atMs: 0, code: "o", data: "user@db:~$ " }];
      let line = 0;
      for (let piece = 0; piece < 384; piece++) {
        let data = "";
        while (data.length < 32 * 1024 - 100) data += `flood line ${line++} ${"x".repeat(line % 60)}\r\n`;
        steps.push({ atMs: 1000 + piece, code: "o", data });
      }
      for (const [index, key] of [..."echo done"].entries()) steps.push({ atMs: 3000 + index * 150, code: "o", data: key });
      await recording.play(steps);
      await recording.end();
      await keyframed(recording.sessionId);

      const chunks = await db().select().from(recordingChunks).where(eq(recordingChunks.sessionId, recording.sessionId)).orderBy(asc(recordingChunks.seq));
      const keyframes = await db().select().from(recordingKeyframes).where(eq(recordingKeyframes.sessionId, recording.sessionId)).orderBy(asc(recordingKeyframes.afterSeq));
      const floodChunks = chunks.filter((chunk) => chunk.startMs >= 1000 && chunk.endMs < 1384);
      // 12 MiB in 64 KiB chunks would be 192 of them; in 256 KiB ones, 48.
      expect(floodChunks.length).toBeGreaterThanOrEqual(44);
      expect(floodChunks.length).toBeLessThanOrEqual(52);
      // A keyframe at least every 4 MiB of events (17 chunks of 256 KiB), however little recorded time it spans.
      for (const [index, keyframe] of keyframes.entries()) if (index > 0) expect(keyframe.afterSeq - keyframes[index - 1]!.afterSeq).toBeLessThanOrEqual(17);
      expect(keyframes.filter((keyframe) => keyframe.atMs >= 1000 && keyframe.atMs < 1384).length).toBeGreaterThanOrEqual(2);

      const moments = [1003, 1077, 1150, 1201, 1266, 1300, 1383, 2000, 4500];
      const truth = await truthAt(steps, moments);
      for (const moment of moments) {
        const { screen, window } = await seek(recording.sessionId, moment);
        expect(screen, `screen at ${moment} ms`).toEqual(truth.get(moment));
        // What a seek into the flood carries past its moment stays bounded: 32 chunks at most.
        const momentChunk = chunks.findLast((chunk) => chunk.startMs <= moment)!;
        const lastRead = window.nextSeq === null ? chunks.at(-1)!.seq : window.nextSeq - 1;
        expect(lastRead - momentChunk.seq, `chunks past ${moment} ms`).toBeLessThanOrEqual(32);
      }
    });
  });

  it("a watcher joining a flood gets the output still waiting to be stored, though its buffers go to the next chunks", async () => {
    await withKeyframer(async (keyframer) => {
      // The join's reads of stored chunks wait while `readsHeld` is pending: the recording goes on meanwhile.
      const store = blobStore();
      let readsHeld: Promise<void> | null = null;
      let letReadsGo = () => {};
      const heldStore: BlobStore = {
        put: (key, body) => store.put(key, body),
        get: async (key, range) => {
          await readsHeld;
          return store.get(key, range);
        },
        list: (prefix) => store.list(prefix),
        delete: (key) => store.delete(key),
      };
      const { sessionId, recorder, end } = await openRecording(keyframer, heldStore);
      const flood = (name: string, lines: number) => Array.from({ length: lines }, (_, line) => `${name} ${line} ${"x".repeat(line % 50)}\r\n`).join("");
      const output = (text: string) => {
        for (let at = 0; at < text.length; at += 32_768) recorder.output(Buffer.from(text.slice(at, at + 32_768)));
      };
      output(flood("stored", 20_000));
      await recorder.stored();
      // 3 MB at once: chunks of 256 KiB wait to be stored in kept buffers when the watcher joins.
      const first = flood("first", 60_000);
      output(first);
      readsHeld = new Promise((resolve) => (letReadsGo = resolve));
      const joining = recorder.catchUp();
      // While the join is held, the first flood is stored and the next one written into the buffers it gave back.
      await recorder.stored();
      output(flood("second", 60_000));
      letReadsGo();
      const frames = await joining;
      await end();
      await keyframed(sessionId);
      const shown = frames.filter((frame): frame is Buffer => Buffer.isBuffer(frame)).map(String).join("");
      // The last megabyte before the join (what a watcher is replayed), exactly, and nothing written after it.
      expect(shown.endsWith(first.slice(-1_000_000))).toBe(true);
      expect(shown).not.toContain("second");
    });
  });

  it("a seek past a keyframe whose blob was altered starts from an earlier one, still showing the true screen", async () => {
    await withKeyframer(async (keyframer) => {
      const { sessionId, steps } = await record(keyframer, 11);
      await keyframed(sessionId);
      const keyframes = await db().select().from(recordingKeyframes).where(eq(recordingKeyframes.sessionId, sessionId)).orderBy(asc(recordingKeyframes.afterSeq));
      const tampered = keyframes[3]!;
      await blobStore().put(tampered.blobKey, Buffer.from("not the screen"));
      const moment = tampered.atMs + 500;
      const { screen, window } = await seek(sessionId, moment);
      expect(window.startMs).toBe(keyframes[2]!.atMs);
      expect(screen).toEqual((await truthAt(steps, [moment])).get(moment));
    });
  });

  it("a keyframer process that dies mid-recording is restarted and the keyframes still come out right", async () => {
    await withKeyframer(async (keyframer) => {
      const { sessionId, recorder, play, end } = await openRecording(keyframer);
      const steps = [...syntheticSession({ durationMs, bytesPerSecond: 4000, seed: 31 })];
      const half = Math.floor(steps.length / 2);
      await play(steps.slice(0, half));
      await recorder.stored();
      const child = keyframerChildren();
      expect(child).toHaveLength(1);
      process.kill(child[0]!, "SIGKILL");
      await play(steps.slice(half));
      await end();
      await keyframed(sessionId);
      expect(keyframerChildren()).toHaveLength(1);
      expect(keyframerChildren()[0]).not.toBe(child[0]);
      const moments = [steps[half]!.atMs + 45_000, steps.at(-1)!.atMs];
      const truth = await truthAt(steps, moments);
      for (const moment of moments) expect((await seek(sessionId, moment)).screen).toEqual(truth.get(moment));
    });
  });

  it("the keyframer process exits while no recording needs it, and comes back for the next one", async () => {
    const keyframer = new Keyframer(db(), blobStore(), undefined, 1_000);
    keyframer.start();
    try {
      // Nothing to emulate: it leaves after its idle time, as after a busy hour, and with it that hour's memory.
      await expect.poll(() => keyframer.running, { timeout: 10_000 }).toBe(false);
      const { sessionId, steps } = await record(keyframer, 41);
      await keyframed(sessionId);
      const moment = Math.floor(durationMs * 0.6);
      expect((await seek(sessionId, moment)).screen).toEqual((await truthAt(steps, [moment])).get(moment));
      await expect.poll(() => keyframer.running, { timeout: 10_000 }).toBe(false);
      // An idle exit is not a crash: nothing starts it again until a recording needs it.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(keyframer.running).toBe(false);
    } finally {
      keyframer.stop();
    }
  });

  it("a recording that goes quiet gives up its terminal and picks up exactly where it was", async () => {
    await withKeyframer(async (keyframer) => {
      const { sessionId, recorder, play, end } = await openRecording(keyframer);
      // A screen of colored lines, stored (the event a second later cuts the chunk), then quiet long enough for
      // the child to hibernate the terminal; 40 s later one more character wakes it and is due for a keyframe.
      let screenful = "";
      for (let line = 1; line <= 30; line++) screenful += `\x1b[3${line % 7}mline-${line}\x1b[0m ${"=".repeat(line)}\r\n`;
      const steps: SyntheticStep[] = [
        { atMs: 10, code: "o", data: screenful },
        { atMs: 1500, code: "o", data: "\x1b[1mprompt$ \x1b[0m" },
      ];
      await play(steps);
      await recorder.stored();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const wake: SyntheticStep = { atMs: 40_000, code: "o", data: "x" };
      steps.push(wake);
      await play([wake]);
      await end();
      await keyframed(sessionId);
      const keyframes = await db().select().from(recordingKeyframes).where(eq(recordingKeyframes.sessionId, sessionId));
      expect(keyframes.map((keyframe) => keyframe.atMs)).toEqual([40_000]);
      const { screen, window } = await seek(sessionId, 40_000);
      expect(window.events).toEqual([]);
      expect(screen).toEqual((await truthAt(steps, [40_000])).get(40_000));
      expect(screen.lines.join("\n")).toContain("line-30 " + "=".repeat(30));
    }, 200);
  });

  it("marks a recording keyframed only once its last keyframe is stored", async () => {
    // Keyframes reach the store slowly, and the recording ends while the last one is on its way.
    const store = blobStore();
    let keyframeOnItsWay!: () => void;
    const keyframeSent = new Promise<void>((resolve) => (keyframeOnItsWay = resolve));
    const slowStore: BlobStore = {
      get: (key, range) => store.get(key, range),
      list: (prefix) => store.list(prefix),
      delete: (key) => store.delete(key),
      put: async (key, body) => {
        if (key.includes("/keyframes/")) {
          keyframeOnItsWay();
          await new Promise((resolve) => setTimeout(resolve, 1500));
        }
        await store.put(key, body);
      },
    };
    const keyframer = new Keyframer(db(), slowStore);
    keyframer.start();
    try {
      const { sessionId, play, end } = await openRecording(keyframer);
      await play([{ atMs: 10, code: "o", data: "a" }, { atMs: 40_000, code: "o", data: "b" }]);
      await keyframeSent;
      await end();
      await keyframed(sessionId);
      const keyframes = await db().select().from(recordingKeyframes).where(eq(recordingKeyframes.sessionId, sessionId));
      expect(keyframes.map((keyframe) => keyframe.atMs)).toEqual([40_000]);
    } finally {
      keyframer.stop();
    }
  });

  it("completes the keyframes of a recording whose keyframer stopped half-way", async () => {
    const stalled = new Keyframer(db(), blobStore());
    // Never started: the recording is stored, its keyframes are not (as when the gateway dies mid-session).
    const { sessionId, steps } = await record(stalled, 23);
    expect(await db().select().from(recordingKeyframes).where(eq(recordingKeyframes.sessionId, sessionId))).toHaveLength(0);

    // An unrecorded session on the same node has nothing to keyframe and must not hold the catch-up up.
    await db().insert(sessions).values({ userId: userId(), targetName: "unrecorded", protocol: "ssh", node, status: "ended", endedAt: new Date() });

    const restarted = new Keyframer(db(), blobStore());
    restarted.start();
    try {
      expect(await restarted.catchUp(node)).toBe(1);
      const [row] = await db().select({ seq: sessions.keyframedSeq }).from(sessions).where(eq(sessions.id, sessionId));
      const chunks = await db().select().from(recordingChunks).where(eq(recordingChunks.sessionId, sessionId));
      expect(row!.seq).toBe(chunks.length - 1);
      const keyframes = await db().select().from(recordingKeyframes).where(eq(recordingKeyframes.sessionId, sessionId));
      expect(keyframes.length).toBeGreaterThan(5);
      const moment = Math.floor(durationMs * 0.7);
      const { screen } = await seek(sessionId, moment);
      expect(screen).toEqual((await truthAt(steps, [moment])).get(moment));
      // Nothing is left for a second catch-up.
      expect(await restarted.catchUp(node)).toBe(0);
    } finally {
      restarted.stop();
    }
  });
});
