// The seek half of bench:web. An hour of web recording is made by the real recorder (its chunks, seek points and
// storage) from the rrweb events of the browsing recorded earlier in the same run, looped with their own timing.
// Every second also puts the second it is into the page as an element (#bench-second), so the DOM the player
// shows says which moment it is. Chromium then opens the recording and seeks as a reviewer does, by the
// player's position slider; a seek is timed from the slider's move until the player's page shows the second sought.
import path from "node:path";
import { eq } from "drizzle-orm";
import { createFsBlobStore } from "../lib/infra/blob-store/fs";
import { openDatabase } from "../lib/data/client";
import { sessions } from "../lib/data/schema";
import { pageEventType, type PageEvent } from "../lib/protocol/page-recorder";
import { pageEventsWindowSchema } from "../lib/protocol/web-recording";
import { WebRecorder } from "../server/recorder/web-recorder";
import { latencySummary, middleOfASecond, reviewerPage, seekBySlider, shows, storedChunks, stuckPlayer, syntheticSession, timedWindows } from "./player-seeks";
import type { BenchGateway } from "./support";

/** A web recording's events, as the player gets them through the gateway's API. */
async function recordedPageEvents(bench: BenchGateway, sessionId: string): Promise<PageEvent[]> {
  const events: PageEvent[] = [];
  for (let seq: number | null = 0; seq !== null; ) {
    const response = await fetch(`${bench.url}/api/recordings/${sessionId}/page-events?seq=${seq}`, { headers: { cookie: bench.cookie } });
    if (!response.ok) throw new Error(`the recording was refused: ${response.status} ${await response.text()}`);
    const window = pageEventsWindowSchema.parse(await response.json());
    events.push(...window.events);
    seq = window.nextSeq;
  }
  const firstPage = events.findIndex(({ type }) => type === pageEventType.meta);
  if (firstPage === -1 || events.length - firstPage < 100) throw new Error(`the browsing recorded only ${events.length} events`);
  return events.slice(firstPage);
}

interface SerializedNode {
  id?: number;
  tagName?: string;
  childNodes?: SerializedNode[];
}

/** The id rrweb gave the page's body in a full snapshot. */
function bodyId(node: SerializedNode | undefined): number | null {
  if (!node) return null;
  if (node.tagName === "body" && typeof node.id === "number") return node.id;
  for (const child of node.childNodes ?? []) {
    const found = bodyId(child);
    if (found !== null) return found;
  }
  return null;
}

/** The page's rrweb ids stay far below this: the seconds' elements take ids above it. */
const markerIds = 10_000_000;

/** An hour (or `hours`) of web recording through the real recorder, from `sourceSessionId`'s events looped. */
export async function synthesizeWebRecording(bench: BenchGateway, sourceSessionId: string, hours: number) {
  const source = await recordedPageEvents(bench, sourceSessionId);
  const sourceStart = source[0]!.timestamp;
  const loopMs = source.at(-1)!.timestamp - sourceStart + 1000;
  const handle = await openDatabase({ databaseUrl: bench.databaseUrl, dataDir: "unused" });
  const db = handle.db;
  try {
    const durationMs = hours * 3600_000;
    const { sessionId, startedAt } = await syntheticSession(db, "web", durationMs);
    const recorder = new WebRecorder({ db, blobStore: createFsBlobStore(path.join(bench.dataDir, "blobs")), sessionId, startedAt, store: true, wantSnapshot: () => {}, quotaBytes: 1024 ** 4, quotaReached: () => {} });
    // As a live visit allows: at most 20 page loads a minute become seek points.
    const seekPointsAt: number[] = [];
    let atMs = 0;
    const seekPointAllowed = () => {
      while (seekPointsAt.length > 0 && seekPointsAt[0]! <= atMs - 60_000) seekPointsAt.shift();
      if (seekPointsAt.length >= 20) return false;
      seekPointsAt.push(atMs);
      return true;
    };

    let body: number | null = null;
    let marker: { id: number; second: number } | null = null;
    let nextId = markerIds;
    /** Puts `second` into the page: its element replaces the last second's. */
    const markerEvent = (second: number, timestamp: number): PageEvent => {
      const id = (nextId += 2);
      const removes = marker ? [{ parentId: body, id: marker.id }] : [];
      marker = { id, second };
      const adds = [
        { parentId: body, nextId: null, node: { type: 2, tagName: "div", attributes: { id: "bench-second" }, childNodes: [], id } },
        { parentId: id, nextId: null, node: { type: 3, textContent: String(second), id: id + 1 } },
      ];
      return { type: pageEventType.incrementalSnapshot, timestamp, data: { source: 0, texts: [], attributes: [], removes, adds } };
    };

    const began = performance.now();
    let rawBytes = 0;
    let sinceStored = 0;
    let second = 0;
    let events = 0;
    const record = (batch: PageEvent[]) => {
      const lines = recorder.add(batch, seekPointAllowed);
      rawBytes += lines.length;
      sinceStored += lines.length;
      events += batch.length;
    };
    for (let loop = 0; atMs < durationMs; loop++) {
      for (const event of source) {
        atMs = loop * loopMs + event.timestamp - sourceStart;
        if (atMs >= durationMs) break;
        // The seconds passed before this event, each put into the page as it is.
        for (; second * 1000 <= atMs; second++) if (body !== null) record([markerEvent(second, startedAt + second * 1000)]);
        const shifted = { ...event, timestamp: startedAt + atMs };
        record([shifted]);
        if (event.type === pageEventType.fullSnapshot) {
          // A new page: its body is another node, and it shows the second it is in.
          body = bodyId((event.data as { node?: SerializedNode } | undefined)?.node);
          marker = null;
          if (body !== null) record([markerEvent(Math.max(0, second - 1), startedAt + atMs)]);
        }
        if (sinceStored > 8_000_000) {
          sinceStored = 0;
          await recorder.stored();
        }
      }
    }
    await recorder.close();
    await db.update(sessions).set({ status: "ended", endedAt: new Date(startedAt + durationMs) }).where(eq(sessions.id, sessionId));
    const stored = await storedChunks(db, sessionId);
    const figures = {
      hours,
      sourceEvents: source.length,
      sourceSeconds: Math.round(loopMs / 1000),
      events,
      rawMb: Number((rawBytes / 1e6).toFixed(0)),
      storedMb: Number((stored.bytes / 1e6).toFixed(0)),
      chunks: stored.chunks,
      seekPoints: stored.snapshots,
      recordedSeconds: Number(((performance.now() - began) / 1000).toFixed(0)),
    };
    console.log(
      `synthetic ${hours} h web recording from ${source.length} events of ${figures.sourceSeconds} s of browsing: ${events} events, ${figures.rawMb} MB, ${figures.storedMb} MB stored in ${figures.chunks} chunks with ${figures.seekPoints} seek points (recorded in ${figures.recordedSeconds} s)`,
    );
    return { sessionId, durationMs, figures };
  } finally {
    await handle.close();
  }
}

/** Page script: the second the player's page shows, or null where it shows none. */
const shownSecond = `(() => {
  const frame = document.querySelector('[data-testid="web-player"] iframe');
  const text = frame?.contentDocument?.getElementById("bench-second")?.textContent;
  return text ? Number(text) : null;
})()`;

/**
 * Opens the recording in Chromium's player at a random moment, then seeks `seeks` times to random moments by the
 * position slider; each is timed until the player's page shows that moment's second.
 */
export async function measureWebSeeks(bench: BenchGateway, sessionId: string, durationMs: number, seeks: number) {
  const { browser, page, problems } = await reviewerPage(bench);
  try {
    const showsSecond = (second: number) => shows(page, shownSecond, second);

    // The page compiled and cached once, as a reviewer's second visit would find it.
    await page.goto(`${bench.url}/recordings/${sessionId}?t=30`);
    if (!(await showsSecond(30))) throw await stuckPlayer(page, problems, `the player does not show the recording's second 30 (it shows ${String(await page.evaluate(shownSecond))})`);

    const opening = middleOfASecond(durationMs);
    let began = performance.now();
    await page.goto(`${bench.url}/recordings/${sessionId}?t=${opening / 1000}`);
    let wrong = (await showsSecond(Math.floor(opening / 1000))) ? 0 : 1;
    const openMs = performance.now() - began;

    const latencies: number[] = [];
    /** Each wrong page: the second sought, the one shown instead, and the seek before it (a race would show there). */
    const wrongSeeks: { second: number; shown: unknown; after: number | null }[] = [];
    for (let seek = 0, previous: number | null = null; seek < seeks; seek++) {
      const target = middleOfASecond(durationMs);
      began = performance.now();
      await seekBySlider(page, target);
      if (!(await showsSecond(Math.floor(target / 1000)))) {
        wrong++;
        wrongSeeks.push({ second: Math.floor(target / 1000), shown: await page.evaluate(shownSecond), after: previous });
      }
      latencies.push(performance.now() - began);
      previous = Math.floor(target / 1000);
    }
    // Of which the gateway's part: the window for a moment, read and sent (other moments, same count).
    const gateway = await timedWindows(bench, seeks, () => `/api/recordings/${sessionId}/page-events?at=${Math.floor(Math.random() * durationMs)}`);
    const figures = { openMs: Math.round(openMs), seekMs: latencySummary(latencies), seeks: latencies.length, wrongPages: wrong, wrongSeeks, ...gateway };
    console.log(
      `seeks in Chromium's player: opened at a moment in ${figures.openMs} ms; ${seeks} seeks by the slider p50 ${figures.seekMs.p50} ms, p95 ${figures.seekMs.p95} ms, max ${figures.seekMs.max} ms; wrong pages: ${wrong}${wrongSeeks.length > 0 ? ` ${JSON.stringify(wrongSeeks)}` : ""}; ` +
        `the window alone from the gateway p50 ${figures.windowMs.p50} ms, p95 ${figures.windowMs.p95} ms (${figures.windowMb} MB)`,
    );
    return figures;
  } finally {
    await browser.close();
  }
}
