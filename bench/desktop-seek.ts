// The seek half of bench:rdp. An hour of desktop recording is made by the real recorder (its chunks, keyframe
// requests and storage) from frames the engine drew earlier in the same run, looped with their own timing: the
// hardest case, a screen changing all the time. Each frame also draws the second it belongs to as a strip of
// black and white cells in the top-left corner. Chromium then opens the recording in the web player and seeks
// to random moments; a seek is timed until the canvas shows the strip of the second sought.
import path from "node:path";
import { eq } from "drizzle-orm";
import { createFsBlobStore } from "../lib/infra/blob-store/fs";
import { openDatabase } from "../lib/data/client";
import { sessions } from "../lib/data/schema";
import { encodeInstruction, GuacamoleParser } from "../lib/protocol/guacamole";
import { desktopWindowSchema } from "../lib/protocol/recordings";
import { DesktopRecorder } from "../server/recorder/desktop-recorder";
import { latencySummary, middleOfASecond, reviewerPage, seekBySlider, shows, storedChunks, stuckPlayer, syntheticSession, timedWindows } from "./player-seeks";
import type { BenchGateway } from "./support";

const stripBits = 12;
const cellSize = 8;
/** Two cells after the bits, white then black: a strip is only read where it was drawn. */
const stripCells = stripBits + 2;

/** One frame: the instructions that draw it, and when the engine finished it (its `sync`). */
interface Frame {
  drawing: string;
  timestampMs: number;
}

/** A recording's instruction stream, as a reviewer's player gets it through the gateway's API. */
export async function recordedStream(bench: BenchGateway, sessionId: string): Promise<string> {
  let stream = "";
  for (let seq: number | null = 0; seq !== null; ) {
    const response = await fetch(`${bench.url}/api/recordings/${sessionId}/desktop?seq=${seq}`, { headers: { cookie: bench.cookie } });
    if (!response.ok) throw new Error(`the recording was refused: ${response.status} ${await response.text()}`);
    const window = desktopWindowSchema.parse(await response.json());
    stream += window.instructions;
    seq = window.nextSeq;
  }
  return stream;
}

/** A recording's frames, as the player gets them. */
async function recordedFrames(bench: BenchGateway, sessionId: string): Promise<Frame[]> {
  const stream = await recordedStream(bench, sessionId);
  const frames: Frame[] = [];
  let drawing = "";
  for (const { opcode, args } of new GuacamoleParser().push(Buffer.from(stream, "utf8"))) {
    if (opcode !== "sync") {
      drawing += encodeInstruction(opcode, args);
      continue;
    }
    frames.push({ drawing, timestampMs: Number(args[0]) });
    drawing = "";
  }
  if (frames.length < 100) throw new Error(`the recorded session holds only ${frames.length} frames`);
  return frames;
}

/** Draws `second` in binary on the default layer's top-left corner, then the guard cells. */
function strip(second: number): string {
  const cells = Array.from({ length: stripCells }, (_, cell) => (cell < stripBits ? (second >> cell) & 1 : cell === stripBits ? 1 : 0));
  let drawing = "";
  for (const white of [0, 1]) {
    for (const [cell, bit] of cells.entries()) if (bit === white) drawing += encodeInstruction("rect", [0, cell * cellSize, 0, cellSize, cellSize]);
    const level = white ? 255 : 0;
    drawing += encodeInstruction("cfill", [14, 0, level, level, level, 255]);
  }
  return drawing;
}

/** Page script: the second the player's canvas shows in its strip, or null where there is none. */
const shownSecond = `(() => {
  const canvas = document.querySelector('[data-testid="desktop-player"] canvas');
  if (!canvas || canvas.width < ${stripCells * cellSize} || canvas.height < ${cellSize}) return null;
  const pixels = canvas.getContext("2d").getImageData(0, 0, ${stripCells * cellSize}, ${cellSize}).data;
  const bit = (cell) => (pixels[(${cellSize / 2} * ${stripCells * cellSize} + cell * ${cellSize} + ${cellSize / 2}) * 4] > 127 ? 1 : 0);
  if (bit(${stripBits}) !== 1 || bit(${stripBits + 1}) !== 0) return null;
  let second = 0;
  for (let cell = 0; cell < ${stripBits}; cell++) second |= bit(cell) << cell;
  return second;
})()`;

/** An hour (or `hours`) of recording through the real recorder, from `sourceSessionId`'s frames looped. */
export async function synthesizeDesktopRecording(bench: BenchGateway, sourceSessionId: string, hours: number) {
  const source = await recordedFrames(bench, sourceSessionId);
  const [fullFrame, ...changes] = source;
  const handle = await openDatabase({ databaseUrl: bench.databaseUrl, dataDir: "unused" });
  const db = handle.db;
  try {
    const durationMs = hours * 3600_000;
    const { sessionId, startedAt } = await syntheticSession(db, "rdp", durationMs);
    const clock = { nowMs: startedAt };
    let keyframeWanted = false;
    const recorder = new DesktopRecorder({
      db,
      blobStore: createFsBlobStore(path.join(bench.dataDir, "blobs")),
      sessionId,
      startedAt,
      store: true,
      requestKeyframe: () => (keyframeWanted = true),
      now: () => clock.nowMs,
    });
    const frame = (drawing: string, atMs: number) => Buffer.from(drawing + strip(Math.floor(atMs / 1000)) + encodeInstruction("sync", [startedAt + atMs]), "utf8");

    const began = performance.now();
    let atMs = 0;
    let rawBytes = 0;
    let sinceStored = 0;
    let reportAtMs = 600_000;
    recorder.output(frame(fullFrame!.drawing, 0));
    for (let index = 0; atMs < durationMs; index = (index + 1) % changes.length) {
      const previous = index === 0 ? fullFrame! : changes[index - 1]!;
      // A pause in the source (the loop's seam, say) becomes an ordinary frame interval: the screen never rests.
      atMs += Math.min(250, Math.max(1, changes[index]!.timestampMs - previous.timestampMs));
      clock.nowMs = startedAt + atMs;
      // Asked for a keyframe, the engine draws the whole screen next.
      const drawing = keyframeWanted ? fullFrame!.drawing : changes[index]!.drawing;
      if (keyframeWanted) {
        keyframeWanted = false;
        recorder.keyframe();
      }
      const data = frame(drawing, atMs);
      recorder.output(data);
      rawBytes += data.length;
      if ((sinceStored += data.length) > 8_000_000) {
        sinceStored = 0;
        await recorder.stored();
      }
      if (atMs >= reportAtMs) {
        reportAtMs += 600_000;
        console.log(`  synthetic desktop recording: ${(atMs / 60_000).toFixed(0)} min, ${(rawBytes / 1e6).toFixed(0)} MB`);
      }
    }
    await recorder.close();
    await db.update(sessions).set({ status: "ended", endedAt: new Date(startedAt + durationMs) }).where(eq(sessions.id, sessionId));
    const stored = await storedChunks(db, sessionId);
    const figures = {
      hours,
      sourceFrames: source.length,
      rawMb: Number((rawBytes / 1e6).toFixed(0)),
      storedMb: Number((stored.bytes / 1e6).toFixed(0)),
      chunks: stored.chunks,
      keyframes: stored.snapshots,
      recordedSeconds: Number(((performance.now() - began) / 1000).toFixed(0)),
    };
    console.log(
      `synthetic ${hours} h desktop recording from ${source.length} frames drawn by the engine: ${figures.rawMb} MB of instructions, ${figures.storedMb} MB stored in ${figures.chunks} chunks with ${figures.keyframes} keyframes (recorded in ${figures.recordedSeconds} s)`,
    );
    return { sessionId, durationMs, figures };
  } finally {
    await handle.close();
  }
}

/**
 * Opens the recording in Chromium's player at a random moment, then seeks to `seeks` more by the position slider;
 * each is timed until the canvas shows that moment's second. Moments are half a second past a second, so a frame
 * of the second sought is always drawn by then.
 */
export async function measureDesktopSeeks(bench: BenchGateway, sessionId: string, durationMs: number, seeks: number) {
  const moment = () => middleOfASecond(durationMs);
  const { browser, page, problems } = await reviewerPage(bench);
  try {
    const showsSecond = (second: number) => shows(page, shownSecond, second);

    // The page compiled and cached once, as a reviewer's second visit would find it.
    // `t` is seconds into the recording, as every link to a player gives it.
    await page.goto(`${bench.url}/recordings/${sessionId}?t=0.5`);
    if (!(await showsSecond(0))) throw await stuckPlayer(page, problems, `the player does not show the recording's start (it shows ${String(await page.evaluate(shownSecond))})`);

    const opening = moment();
    let began = performance.now();
    await page.goto(`${bench.url}/recordings/${sessionId}?t=${opening / 1000}`);
    let wrong = (await showsSecond(Math.floor(opening / 1000))) ? 0 : 1;
    const openMs = performance.now() - began;

    const latencies: number[] = [];
    for (let seek = 0; seek < seeks; seek++) {
      const target = moment();
      began = performance.now();
      await seekBySlider(page, target);
      if (!(await showsSecond(Math.floor(target / 1000)))) wrong++;
      latencies.push(performance.now() - began);
    }
    // Of which the gateway's part: the window for a moment, read, condensed and sent (other moments, same count).
    const gateway = await timedWindows(bench, seeks, () => `/api/recordings/${sessionId}/desktop?at=${moment()}`);
    const figures = { openMs: Math.round(openMs), seekMs: latencySummary(latencies), seeks: latencies.length, wrongFrames: wrong, ...gateway };
    console.log(
      `seeks in Chromium's player: opened at a moment in ${figures.openMs} ms; ${seeks} seeks p50 ${figures.seekMs.p50} ms, p95 ${figures.seekMs.p95} ms, max ${figures.seekMs.max} ms; wrong frames: ${wrong}; ` +
        `the window alone from the gateway p50 ${figures.windowMs.p50} ms, p95 ${figures.windowMs.p95} ms (${figures.windowMb} MB)`,
    );
    return figures;
  } finally {
    await browser.close();
  }
}
