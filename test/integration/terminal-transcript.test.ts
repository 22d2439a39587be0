// What a terminal recording makes searchable: the commands typed and the lines shown, indexed as its chunks are
// stored, on the test database and a real blob store.
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { sessions, transcriptLines } from "@/lib/data/schema";
import type { BlobStore } from "@/lib/infra/blob-store/blob-store";
import { Keyframer } from "@/server/recorder/keyframer";
import { TerminalRecorder } from "@/server/recorder/terminal-recorder";
import { useRecordingStore } from "../fixtures/recording-store";

const node = `transcript-${randomBytes(3).toString("hex")}`;

describe("a terminal recording's transcript", () => {
  const { db, blobStore, userId } = useRecordingStore("transcript");

  it("indexes a session's last command although its chunk was stored while the closing chunk waited behind it", async () => {
    const [session] = await db().insert(sessions).values({ userId: userId(), targetName: "transcript", protocol: "ssh", node, status: "active" }).returning();
    const sessionId = session!.id;
    // Blob writes wait until `letWritesGo`: the chunk with the command is still being stored when the session closes.
    const store = blobStore();
    let letWritesGo = () => {};
    const writesHeld = new Promise<void>((resolve) => (letWritesGo = resolve));
    const heldStore: BlobStore = {
      put: async (key, body) => {
        await writesHeld;
        await store.put(key, body);
      },
      get: (key, range) => store.get(key, range),
      list: (prefix) => store.list(prefix),
      delete: (key) => store.delete(key),
    };
    const startedAt = Date.UTC(2026, 11, 3);
    const clock = { nowMs: startedAt };
    const keyframer = new Keyframer(db(), blobStore());
    const recorder = new TerminalRecorder({ db: db(), blobStore: heldStore, sessionId, startedAt, size: { cols: 80, rows: 24 }, title: "transcript", keyframes: keyframer.feed(sessionId), now: () => clock.nowMs });
    recorder.input("echo closing-2\r", ["echo closing-2"]);
    recorder.output(Buffer.from("echo closing-2\r\nclosing-2\r\n"));
    // The prompt a second and a half later cuts the chunk, which goes to the writer; closing adds the last one.
    clock.nowMs += 1500;
    recorder.output(Buffer.from("$ "));
    const closed = recorder.close();
    letWritesGo();
    await closed;
    await db().update(sessions).set({ status: "ended", endedAt: new Date() }).where(eq(sessions.id, sessionId));
    const lines = await db().select().from(transcriptLines).where(eq(transcriptLines.sessionId, sessionId));
    expect(lines.map((line) => `${line.kind}: ${line.text}`).sort()).toEqual(["command: echo closing-2", "output: $", "output: closing-2", "output: echo closing-2"]);
  });
});
