// Desktop recordings, for real: Guacamole instructions go through the recorder into the file blob store and
// PostgreSQL as a hash chain; every keyframe from the engine opens a chunk of its own; a seek reads from the last
// keyframe before the moment asked for, never from the start, and says how far that stretch shows the screen.
import { describe, expect, it, vi } from "vitest";
import { sessions } from "@/lib/data/schema";
import { encodeInstruction } from "@/lib/protocol/guacamole";
import { listChunks, readDesktopWindow, verifyRecording } from "@/lib/data/recordings";
import { DesktopRecorder } from "@/server/recorder/desktop-recorder";
import { useRecordingStore } from "../fixtures/recording-store";

describe("desktop recordings", () => {
  const { db, blobStore, userId } = useRecordingStore("desktop-recording");

  const frame = (label: string, at: number) => Buffer.from(encodeInstruction("img", [1, 14, 0, "image/png", 0, 0]) + encodeInstruction("blob", [1, Buffer.from(label).toString("base64")]) + encodeInstruction("end", [1]) + encodeInstruction("sync", [at]));

  /** A recording's instructions as playing on from the start gives them, continuation after continuation. */
  async function wholeRecording(sessionId: string) {
    let whole = "";
    for (let seq: number | null = 0; seq !== null; ) {
      const window = await readDesktopWindow(db(), blobStore(), sessionId, { seq });
      whole += window.instructions;
      seq = window.nextSeq;
    }
    return whole;
  }

  /** A recorder that stores nothing, just after a keyframe, counting the keyframes it asks the engine for. */
  async function unstoredRecorder() {
    const { sessionId, startedAt } = await desktopSession();
    vi.setSystemTime(startedAt);
    let asked = 0;
    const recorder = new DesktopRecorder({ db: db(), blobStore: blobStore(), sessionId, startedAt, store: false, requestKeyframe: () => (asked++, true) });
    recorder.keyframe();
    return { recorder, sessionId, startedAt, asked: () => asked };
  }

  async function desktopSession() {
    const startedAt = new Date(Date.UTC(2026, 10, 24, 9));
    const [session] = await db().insert(sessions).values({ userId: userId(), targetName: "win-01", protocol: "rdp", node: "desktop-recording-test", status: "active", startedAt }).returning();
    return { sessionId: session!.id, startedAt: startedAt.getTime() };
  }

  it("stores the stream as a verifiable chain whose keyframes open chunks, and seeks from the nearest one", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const { sessionId, startedAt } = await desktopSession();
      vi.setSystemTime(startedAt);
      const asked: number[] = [];
      const recorder = new DesktopRecorder({ db: db(), blobStore: blobStore(), sessionId, startedAt, store: true, requestKeyframe: () => (asked.push(Date.now() - startedAt), true) });
      // A keyframe at 0, 70 s and 140 s (as the engine marks them), a changing screen each second in between.
      for (let second = 0; second <= 170; second++) {
        vi.setSystemTime(startedAt + second * 1000);
        if (second % 70 === 0) {
          recorder.keyframe();
          recorder.output(Buffer.from(encodeInstruction("size", [0, 1280, 800])));
        }
        recorder.output(frame(`${second < 70 ? "first" : second < 140 ? "second" : "third"} ${second}`, startedAt + second * 1000));
      }
      // A watcher joining now gets the screen from the last keyframe on.
      const [restart, screen] = await recorder.catchUp();
      expect(restart).toEqual({ type: "desktop" });
      expect((screen as Buffer).toString().startsWith(encodeInstruction("size", [0, 1280, 800]))).toBe(true);
      expect((screen as Buffer).toString()).toContain(Buffer.from("third 140").toString("base64"));
      expect((screen as Buffer).toString()).not.toContain(Buffer.from("second 139").toString("base64"));
      await recorder.close();

      const chunks = await listChunks(db(), sessionId);
      expect(await verifyRecording(db(), blobStore(), chunks)).toEqual({ intact: true, chunks: chunks.length, sealed: true });
      expect(chunks.filter((chunk) => chunk.snapshot).map((chunk) => chunk.startMs)).toEqual([0, 70_000, 140_000]);
      expect(chunks.every((chunk) => chunk.blobKey.endsWith(".guac.gz"))).toBe(true);

      const seek = await readDesktopWindow(db(), blobStore(), sessionId, { atMs: 100_000 });
      // From the keyframe at 70 s, its frames up to 100 s made one, the window's first.
      expect(seek.startMs).toBe(100_000);
      expect(seek.playableFromMs).toBe(100_000);
      expect(seek.instructions.startsWith(encodeInstruction("size", [0, 1280, 800]))).toBe(true);
      expect(seek.instructions).toContain(Buffer.from("second 100").toString("base64"));
      expect(seek.instructions).not.toContain(Buffer.from("first 69").toString("base64"));
      expect(seek.durationMs).toBe(170_000);
      expect(seek.untilMs).toBeGreaterThan(100_000);
      const start = await readDesktopWindow(db(), blobStore(), sessionId, { atMs: 0 });
      expect(start.startMs).toBe(0);
      expect(start.instructions).toContain(Buffer.from("first 0").toString("base64"));
    } finally {
      vi.useRealTimers();
    }
  });

  it("asks the engine for a keyframe after a minute of changing screen, and not for a still one", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    try {
      const { recorder, sessionId, startedAt, asked } = await unstoredRecorder();
      recorder.output(frame("still", startedAt));
      vi.advanceTimersByTime(120_000);
      expect(asked()).toBe(0);
      for (let second = 0; second < 61; second++) {
        recorder.output(Buffer.alloc(2048, "x"));
        vi.advanceTimersByTime(1000);
      }
      expect(asked()).toBe(1);
      await recorder.close();
      expect(await listChunks(db(), sessionId)).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  /** A full-screen PNG's start whose one data chunk tells the frame apart: the overdraw check reads only the header. */
  const screenImage = (label: number, padding = 0, height = 800) => {
    const header = Buffer.alloc(13);
    header.writeUInt32BE(1280, 0);
    header.writeUInt32BE(height, 4);
    header.set([8, 2, 0, 0, 0], 8);
    const chunk = (type: string, data: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, data.length]), Buffer.from(type), data, Buffer.alloc(4)]);
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", Buffer.from(`frame ${label}`.padEnd(padding, ".")))]).toString("base64");
  };
  /** A frame that draws an image labelled `label`: the whole screen, or `rows` of it. */
  const screenFrame = (label: number, at: number, padding = 0, rows = { y: 0, height: 800 }) =>
    Buffer.from(
      encodeInstruction("img", [label + 1, 14, 0, "image/png", 0, rows.y]) +
        encodeInstruction("blob", [label + 1, screenImage(label, padding, rows.height)]) +
        encodeInstruction("end", [label + 1]) +
        encodeInstruction("sync", [at]),
    );

  it("asks for a keyframe sooner once the drawing since the last is eight times its size", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const { recorder, startedAt, asked } = await unstoredRecorder();
      const keyframe = screenFrame(0, startedAt, 20_000);
      recorder.output(keyframe);
      // Frames of ~2 KiB five times a second: 8 × 20 KiB after about 16 s of them, far from a minute.
      let drawn = 0;
      let fifth = 0;
      const drawUntil = (total: number) => {
        while (drawn < total) {
          vi.advanceTimersByTime(200);
          fifth++;
          const next = screenFrame(fifth, startedAt + fifth * 200, 2000);
          recorder.output(next);
          drawn += next.length;
        }
      };
      drawUntil(7 * keyframe.length);
      expect(asked(), "under eight keyframes' worth").toBe(0);
      drawUntil(9 * keyframe.length);
      expect(asked(), "past eight keyframes' worth").toBe(1);
      expect(Date.now() - startedAt).toBeLessThan(30_000);
      await recorder.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("leaves out of a seek's window the images painted over before the moment sought, not those after it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const { sessionId, startedAt } = await desktopSession();
      vi.setSystemTime(startedAt);
      const recorder = new DesktopRecorder({ db: db(), blobStore: blobStore(), sessionId, startedAt, store: true, requestKeyframe: () => true });
      // A full-screen PNG each 200 ms (as often as frames are recorded) for 20 s.
      for (let fifth = 0; fifth <= 100; fifth++) {
        vi.setSystemTime(startedAt + fifth * 200);
        recorder.output(screenFrame(fifth, startedAt + fifth * 200));
      }
      await recorder.close();

      const seek = await readDesktopWindow(db(), blobStore(), sessionId, { atMs: 10_000 });
      const shown = [...seek.instructions.matchAll(/\d+\.blob,\d+\.\d+,\d+\.([^;]+);/g)].map((match) => Number(/frame (\d+)/.exec(Buffer.from(match[1]!, "base64").toString("latin1"))![1]));
      // Up to 10 s only the last image shows, as one frame; the frames after it (5 s at least) play as recorded.
      expect(shown[0]).toBe(50);
      expect(shown.length).toBeGreaterThanOrEqual(26);
      expect(shown).toEqual(shown.map((_, index) => 50 + index));
      // One frame for each image.
      expect(seek.instructions.match(/4\.sync,/g)).toHaveLength(shown.length);
      expect(seek.startMs).toBe(10_000);
      expect(seek.playableFromMs).toBe(10_000);
      // A continuation (playing on) is sent as recorded.
      expect((await wholeRecording(sessionId)).match(/\d+\.img,/g)).toHaveLength(101);
    } finally {
      vi.useRealTimers();
    }
  });

  it("records a screen redrawn 40 times a second as 5 exact pictures a second, and a watcher joining gets the latest", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const { sessionId, startedAt } = await desktopSession();
      vi.setSystemTime(startedAt);
      const recorder = new DesktopRecorder({ db: db(), blobStore: blobStore(), sessionId, startedAt, store: true, requestKeyframe: () => true });
      let joined: Buffer | undefined;
      for (let frame = 0; frame <= 80; frame++) {
        vi.setSystemTime(startedAt + frame * 25);
        recorder.output(screenFrame(frame, startedAt + frame * 25));
        // Frame 30 (750 ms) is held for the record, yet a watcher joining now must see it.
        if (frame === 30) joined = (await recorder.catchUp())[1] as Buffer;
      }
      await recorder.close();
      expect(joined!.toString()).toContain(screenImage(30));

      const whole = await wholeRecording(sessionId);
      const recorded = [...whole.matchAll(/4\.sync,\d+\.(\d+);/g)].map((match) => Number(match[1]) - startedAt);
      // Every 200 ms, plus the frame the watcher's catch-up recorded, plus the last frame drawn.
      expect(recorded.length).toBeLessThanOrEqual(12);
      expect(recorded.at(-1)).toBe(2000);
      expect(recorded.slice(1).every((at, index) => at > recorded[index]!)).toBe(true);
      // Each recorded frame shows what the screen showed at its sync: the image drawn last before it, only that.
      expect(whole.match(/\d+\.img,/g)).toHaveLength(recorded.length);
      for (const at of recorded) expect(whole).toContain(screenImage(at / 25));
      expect(whole).not.toContain(screenImage(79));
    } finally {
      vi.useRealTimers();
    }
  });

  it("records a flood of full-screen drawing within its budget, as fewer pictures that are each still exact", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const { sessionId, startedAt } = await desktopSession();
      vi.setSystemTime(startedAt);
      const recorder = new DesktopRecorder({ db: db(), blobStore: blobStore(), sessionId, startedAt, store: true, requestKeyframe: () => true });
      // 20 s of a new 200 KB screen 40 times a second: 160 MB drawn; five pictures a second alone would keep 20 MB.
      const frames = 800;
      for (let frame = 0; frame < frames; frame++) {
        vi.setSystemTime(startedAt + frame * 25);
        recorder.output(screenFrame(frame, startedAt + frame * 25, 150_000));
      }
      await recorder.close();

      const whole = await wholeRecording(sessionId);
      // The budget: a 2 MiB burst, then 100,000 characters a second; the last picture is kept whatever it costs.
      expect(whole.length).toBeLessThan(2 * 1024 * 1024 + 100_000 * 20 + 200_000 * 2);
      const recorded = [...whole.matchAll(/4\.sync,\d+\.(\d+);/g)].map((match) => Number(match[1]) - startedAt);
      expect(recorded.length).toBeGreaterThan(15);
      expect(recorded.at(-1)).toBe((frames - 1) * 25);
      // No gap longer than the longest hold; every picture is the screen drawn last before its sync.
      expect(Math.max(...recorded.slice(1).map((at, index) => at - recorded[index]!))).toBeLessThanOrEqual(5000);
      expect(whole.match(/\d+\.img,/g)).toHaveLength(recorded.length);
      for (const at of recorded) expect(whole).toContain(screenImage(at / 25, 150_000));
    } finally {
      vi.useRealTimers();
    }
  });

  it("past its budget, a keyframe asked for when the picture is due replaces held scrolling that copies cannot condense", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const { sessionId, startedAt } = await desktopSession();
      vi.setSystemTime(startedAt);
      let keyframeWanted = false;
      const recorder = new DesktopRecorder({ db: db(), blobStore: blobStore(), sessionId, startedAt, store: true, requestKeyframe: () => (keyframeWanted = true) });
      // The engine: a full frame (label 10000 + frame) when asked, otherwise text scrolling 40 times a second: a
      // copy of what the screen shows moved up, then the new rows (label = frame), 30,000 characters a frame.
      const keyframeAt = (frame: number, at: number) => {
        recorder.keyframe();
        recorder.output(Buffer.concat([Buffer.from(encodeInstruction("size", [0, 1280, 800])), screenFrame(10_000 + frame, at, 90_000)]));
      };
      const scrolled = (frame: number, at: number) => Buffer.concat([Buffer.from(encodeInstruction("copy", [0, 0, 13, 1280, 787, 14, 0, 0, 0])), screenFrame(frame, at, 30_000, { y: 787, height: 13 })]);
      let joined: Buffer | undefined;
      const frames = 800;
      for (let frame = 0; frame < frames; frame++) {
        const at = startedAt + frame * 25;
        vi.setSystemTime(at);
        if (frame === 0 || keyframeWanted) {
          keyframeWanted = false;
          keyframeAt(frame, at);
        } else recorder.output(scrolled(frame, at));
        if (frame === 500) joined = (await recorder.catchUp())[1] as Buffer;
      }
      await recorder.close();

      const whole = await wholeRecording(sessionId);
      const labels = [...whole.matchAll(/\d+\.blob,\d+\.\d+,\d+\.([^;]+);/g)].map((match) => Number(/frame (\d+)/.exec(Buffer.from(match[1]!, "base64").toString("latin1"))![1]));
      const keyframes = labels.filter((label) => label >= 10_000).map((label) => label - 10_000);
      expect(keyframes.length).toBeGreaterThan(10);
      // Every picture recorded follows on from the one before it (each copy moves what the record shows), so each
      // is exact: after a keyframe come the frames after it, one by one, until the next keyframe replaces the rest.
      labels.forEach((label, index) => {
        if (index === 0 || label >= 10_000) return;
        const before = labels[index - 1]!;
        expect(label).toBe((before >= 10_000 ? before - 10_000 : before) + 1);
      });
      expect(labels.filter((label) => label < 10_000).length).toBeLessThan(frames / 2);
      // The last picture is the last frame (drawn by copies and rows, or by a keyframe the engine was asked for).
      expect(labels.at(-1)! % 10_000).toBe(frames - 1);
      // Within the budget (2 MiB burst, 100,000 characters a second) but for the end, recorded whole (one hold).
      expect(whole.length).toBeLessThan(2 * 1024 * 1024 + 100_000 * 20 + 2_000_000);
      // The watcher joining in the middle of a held stretch got the screen as it was then, from a keyframe on.
      expect(joined!.toString()).toContain(encodeInstruction("size", [0, 1280, 800]));
      expect(joined!.toString()).toContain(screenImage(500, 30_000, 13));
    } finally {
      vi.useRealTimers();
    }
  });

  it("refuses a seek into a session that is not a desktop", async () => {
    const [web] = await db().insert(sessions).values({ userId: userId(), targetName: "wiki", protocol: "web", node: "desktop-recording-test", status: "ended" }).returning();
    await expect(readDesktopWindow(db(), blobStore(), web!.id, { atMs: 0 })).rejects.toThrow(/not found|Recording/i);
  });
});
