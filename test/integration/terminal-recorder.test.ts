// A terminal recording's events and what it makes searchable (the commands typed and the lines shown, indexed as
// its chunks are stored), on the test database and a real blob store.
import { isUtf8 } from "node:buffer";
import { randomBytes } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { exportRecording, listChunks } from "@/lib/data/recordings";
import { sessions, transcriptLines } from "@/lib/data/schema";
import type { BlobStore } from "@/lib/infra/blob-store/blob-store";
import { Keyframer } from "@/server/recorder/keyframer";
import { TerminalRecorder } from "@/server/recorder/terminal-recorder";
import { useRecordingStore } from "../fixtures/recording-store";

const node = `terminal-recorder-${randomBytes(3).toString("hex")}`;

describe("a terminal recording", () => {
  const { db, blobStore, userId } = useRecordingStore("terminal-recorder");

  it("stores output as the terminal decodes it, ASCII or not, with UTF-8 sequences cut between pieces", async () => {
    const [session] = await db().insert(sessions).values({ userId: userId(), targetName: "utf-8", protocol: "ssh", node, status: "active" }).returning();
    const sessionId = session!.id;
    const recorder = new TerminalRecorder({ db: db(), blobStore: blobStore(), sessionId, startedAt: Date.now(), size: { cols: 80, rows: 24 }, title: "utf-8", keyframes: new Keyframer(db(), blobStore()).feed(sessionId) });
    const euro = Buffer.from("€"); // three bytes
    const pieces = [
      Buffer.from("plain ascii \"quoted\" \\ \x1b[1mbold\x1b[0m\r\n"),
      euro.subarray(0, 2),
      Buffer.from("abc"), // after a cut sequence: the decoder's replacement character, then ASCII
      Buffer.concat([Buffer.from("x"), euro.subarray(0, 1)]),
      Buffer.concat([euro.subarray(1), Buffer.from(" déjà vu ✓ 🙂")]),
      Buffer.from([0xff, 0x41]),
      Buffer.from("A".repeat(70_000)),
    ];
    const decoder = new StringDecoder("utf8");
    const expected = pieces.map((piece) => decoder.write(piece)).join("") + decoder.end();
    for (const piece of pieces) recorder.output(piece);
    await recorder.close();
    await db().update(sessions).set({ status: "ended", endedAt: new Date() }).where(eq(sessions.id, sessionId));
    // The .cast file a reviewer exports: valid UTF-8 throughout, its output events the decoded text exactly.
    const exported = Buffer.from(await new Response(exportRecording(db(), blobStore(), await listChunks(db(), sessionId), "ssh")).arrayBuffer());
    expect(isUtf8(exported)).toBe(true);
    const events = exported.toString("utf8").trimEnd().split("\n").slice(1).map((line) => JSON.parse(line) as [number, string, string]);
    expect(events.map(([, code, data]) => (code === "o" ? data : "")).join("")).toBe(expected);
    expect(expected).toContain("\ufffdabc");
  });

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
