// Web recordings, for real: page events go through the recorder into the file blob store and PostgreSQL as a
// hash chain; each full snapshot opens a chunk of its own; a seek reads from the last snapshot before the moment
// asked for, never from the start; a recording taken up again on another node continues the same chain.
import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { recordingChunks, sessions } from "@/lib/data/schema";
import type { PageEvent } from "@/lib/protocol/page-recorder";
import { listChunks, readPageEventsWindow, verifyRecording } from "@/lib/data/recordings";
import { chainEnd } from "@/lib/data/recordings";
import { WebRecorder } from "@/server/recorder/web-recorder";
import { useRecordingStore } from "../fixtures/recording-store";

describe("web recordings", () => {
  const { db, blobStore, userId } = useRecordingStore("web-recording");

  /** A page load at `atMs` (meta, full snapshot), then a click every second for `seconds`. */
  function pageVisit(startedAt: number, atMs: number, href: string, seconds: number): PageEvent[] {
    const at = startedAt + atMs;
    const visit: PageEvent[] = [
      { type: 4, timestamp: at, data: { href, width: 1280, height: 800 } },
      { type: 2, timestamp: at, data: { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { top: 0, left: 0 }, page: href } },
    ];
    for (let second = 1; second <= seconds; second++) visit.push({ type: 3, timestamp: at + second * 1000, data: { source: 2, type: 2, id: 1, x: second, y: second } });
    return visit;
  }

  async function webSession() {
    const startedAt = new Date(Date.UTC(2026, 10, 24, 9));
    const [session] = await db().insert(sessions).values({ userId: userId(), targetName: "wiki", protocol: "web", node: "web-recording-test", status: "active", startedAt }).returning();
    return { sessionId: session!.id, startedAt: startedAt.getTime() };
  }

  it("stores pages as a verifiable chain whose full snapshots open chunks, and seeks from the nearest one", async () => {
    const { sessionId, startedAt } = await webSession();
    const recorder = new WebRecorder({ db: db(), blobStore: blobStore(), sessionId, startedAt, store: true, wantSnapshot: () => {}, quotaBytes: 1 << 30, quotaReached: () => {} });
    recorder.add(pageVisit(startedAt, 0, "https://wiki/one", 60), () => true);
    recorder.add(pageVisit(startedAt, 70_000, "https://wiki/two", 60), () => true);
    recorder.add(pageVisit(startedAt, 140_000, "https://wiki/three", 30), () => true);
    // The page as it is now, for a watcher joining: from the last full snapshot on.
    const [page, events] = await recorder.catchUp();
    expect(page).toEqual({ type: "page" });
    const current = (events as Buffer).toString("utf8").trim().split("\n").map((line) => JSON.parse(line) as PageEvent);
    expect(current[0]).toMatchObject({ type: 4, data: { href: "https://wiki/three" } });
    expect(current).toHaveLength(32);
    await recorder.close();

    const chunks = await listChunks(db(), sessionId);
    expect(await verifyRecording(db(), blobStore(), chunks)).toEqual({ intact: true, chunks: chunks.length, sealed: true });
    expect(chunks.filter((chunk) => chunk.snapshot).map((chunk) => chunk.startMs)).toEqual([0, 70_000, 140_000]);
    expect(chunks.every((chunk) => chunk.blobKey.endsWith(".rrweb.gz"))).toBe(true);

    const seek = await readPageEventsWindow(db(), blobStore(), sessionId, { atMs: 100_000 });
    expect(seek.events[0]).toMatchObject({ type: 4, timestamp: startedAt + 70_000, data: { href: "https://wiki/two" } });
    expect(seek.events.some((event) => event.timestamp < startedAt + 70_000)).toBe(false);
    expect(seek).toMatchObject({ startedAt, durationMs: 170_000 });
    expect(seek.nextSeq).not.toBeNull();

    // Continuations go on from there a stretch at a time (20 s, or less where the chunks are big) to the end.
    let rest = await readPageEventsWindow(db(), blobStore(), sessionId, { seq: seek.nextSeq! });
    let continuations = 1;
    while (rest.nextSeq !== null) {
      expect(rest.events.at(-1)!.timestamp - rest.events[0]!.timestamp).toBeLessThanOrEqual(30_000);
      rest = await readPageEventsWindow(db(), blobStore(), sessionId, { seq: rest.nextSeq });
      continuations++;
    }
    expect(continuations).toBeGreaterThan(1);
    expect(rest.events.at(-1)).toMatchObject({ timestamp: startedAt + 170_000 });
    expect((await readPageEventsWindow(db(), blobStore(), sessionId, { atMs: 0 })).events[0]).toMatchObject({ data: { href: "https://wiki/one" } });
  });

  it("continues the same chain when the session's pages are recorded on another node", async () => {
    const { sessionId, startedAt } = await webSession();
    const first = new WebRecorder({ db: db(), blobStore: blobStore(), sessionId, startedAt, store: true, wantSnapshot: () => {}, quotaBytes: 1 << 30, quotaReached: () => {} });
    first.add(pageVisit(startedAt, 0, "https://wiki/one", 5), () => true);
    await first.close();
    const second = new WebRecorder({ db: db(), blobStore: blobStore(), sessionId, startedAt, store: true, after: await chainEnd(db(), sessionId), wantSnapshot: () => {}, quotaBytes: 1 << 30, quotaReached: () => {} });
    second.add(pageVisit(startedAt, 10_000, "https://wiki/two", 5), () => true);
    await second.close();
    const chunks = await db().select().from(recordingChunks).where(eq(recordingChunks.sessionId, sessionId)).orderBy(asc(recordingChunks.seq));
    expect(chunks.map((chunk) => chunk.seq)).toEqual(chunks.map((_, index) => index));
    expect(await verifyRecording(db(), blobStore(), chunks)).toEqual({ intact: true, chunks: chunks.length, sealed: true });
  });

  it("keeps the page for watchers but stores nothing for a target recorded by exception", async () => {
    const { sessionId, startedAt } = await webSession();
    let snapshotsAskedFor = 0;
    const recorder = new WebRecorder({ db: db(), blobStore: blobStore(), sessionId, startedAt, store: false, wantSnapshot: () => snapshotsAskedFor++, quotaBytes: 1 << 30, quotaReached: () => {} });
    // No page yet: a watcher gets an empty page, and the page is asked for a full snapshot.
    expect(await recorder.catchUp()).toEqual([{ type: "page" }]);
    expect(snapshotsAskedFor).toBe(1);
    recorder.add(pageVisit(startedAt, 0, "https://wiki/one", 3), () => true);
    expect(String((await recorder.catchUp())[1])).toContain("https://wiki/one");
    await recorder.close();
    expect(await listChunks(db(), sessionId)).toEqual([]);
  });
});
