// Recordings as evidence against an insider who can write the database and the blob store: chunks are
// ciphertext at rest, bound to where they live; a chunk edited with every hash recomputed, a plain chunk slipped
// in, and the newest chunks cut off are all detected; deleting the data key (the purge) leaves nothing readable.
import { createHash } from "node:crypto";
import { and, eq, gte } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, recordingChunks, recordingKeys, sessions } from "@/lib/data/schema";
import { evidenceKeys } from "@/lib/infra/evidence-keys";
import { forgetRecordingKey, recordingCipher } from "@/lib/infra/recording-cipher";
import { listChunks, readPageEventsWindow, verifyRecording } from "@/lib/data/recordings";
import { WebRecorder } from "@/server/recorder/web-recorder";
import { useRecordingStore } from "../fixtures/recording-store";

const sha256 = (blob: Buffer) => createHash("sha256").update(blob).digest("hex");

describe("recordings as evidence", () => {
  const { db, blobStore, userId } = useRecordingStore("evidence");

  /** A web recording of `pages` page loads a minute apart, each with text that must not be readable at rest. */
  async function record(pages: number) {
    const startedAt = Date.UTC(2026, 10, 30, 9);
    const [session] = await db().insert(sessions).values({ userId: userId(), targetName: "evidence", protocol: "web", node: "evidence-test", status: "ended", startedAt: new Date(startedAt) }).returning();
    const recorder = new WebRecorder({ db: db(), blobStore: blobStore(), sessionId: session!.id, startedAt, store: true, wantSnapshot: () => {}, quotaBytes: 1 << 30, quotaReached: () => {} });
    for (let page = 0; page < pages; page++) {
      const at = startedAt + page * 60_000;
      recorder.add(
        [
          { type: 4, timestamp: at, data: { href: `https://wiki/page-${page}`, width: 800, height: 600 } },
          { type: 2, timestamp: at, data: { node: { type: 0, childNodes: [{ type: 3, textContent: `quarterly-secret-${page}`, id: 2 }], id: 1 } } },
        ],
        () => true,
      );
    }
    await recorder.close();
    return { sessionId: session!.id, chunks: await listChunks(db(), session!.id) };
  }

  it("keeps chunks as ciphertext bound to their place, and reads them back for the player", async () => {
    const { sessionId, chunks } = await record(3);
    expect(chunks.length).toBe(3);
    for (const chunk of chunks) {
      const stored = await blobStore().get(chunk.blobKey);
      expect(stored.subarray(0, 4).toString()).toBe("GHE1");
      expect(stored.includes(Buffer.from("quarterly-secret"))).toBe(false);
    }
    expect(JSON.stringify((await readPageEventsWindow(db(), blobStore(), sessionId, { atMs: 0 })).events)).toContain("quarterly-secret-0");
    // A blob moved to another chunk's place, or another recording's, does not open there.
    const cipher = await recordingCipher(db(), sessionId, { create: false });
    const [first, second] = chunks;
    expect(() => cipher.open(second!.blobKey, Buffer.from(first!.blobKey))).toThrow(/neither an encrypted nor a plain/);
    expect(() => cipher.open(second!.blobKey, Buffer.concat([Buffer.from("GHE1"), Buffer.alloc(40)]))).toThrow(/does not open/);
    const moved = await blobStore().get(first!.blobKey);
    expect(() => cipher.open(second!.blobKey, moved)).toThrow(/does not open with its recording's key/);
    const other = await record(1);
    const otherCipher = await recordingCipher(db(), other.sessionId, { create: false });
    expect(() => otherCipher.open(first!.blobKey, moved)).toThrow(/does not open/);
    expect(await verifyRecording(db(), blobStore(), chunks)).toEqual({ intact: true, chunks: 3, sealed: true });
  });

  it("refuses a data key row copied from another recording or altered, read by a node that has not cached it", async () => {
    const { sessionId } = await record(1);
    const [row] = await db().select().from(recordingKeys).where(eq(recordingKeys.sessionId, sessionId));
    const fresh = async (sealedKey: string) => {
      const [session] = await db().insert(sessions).values({ userId: userId(), targetName: "evidence", protocol: "web", node: "evidence-test", status: "ended", startedAt: new Date() }).returning();
      await db().insert(recordingKeys).values({ sessionId: session!.id, sealedKey });
      return session!.id;
    };
    // Sealed for its own recording: the key is bound to the session it was made for.
    await expect(recordingCipher(db(), await fresh(row!.sealedKey), { create: false })).rejects.toThrow(/data key of recording .* does not open/);
    const altered = Buffer.from(row!.sealedKey, "base64");
    altered[altered.length - 1]! ^= 1;
    await expect(recordingCipher(db(), await fresh(altered.toString("base64")), { create: false })).rejects.toThrow(/does not open/);
    await expect(recordingCipher(db(), await fresh("not base64 at all"), { create: false })).rejects.toThrow(/does not open/);
  });

  it("catches a chunk edited with every hash recomputed, and a plain chunk slipped in", async () => {
    const { sessionId, chunks } = await record(3);
    const victim = chunks[1]!;
    // The insider re-encrypts nothing (no key) but swaps in another blob and recomputes its SHA-256 and the next link.
    const forged = Buffer.from("not the recording");
    await blobStore().put(victim.blobKey, forged);
    await db().update(recordingChunks).set({ sha256: sha256(forged) }).where(and(eq(recordingChunks.sessionId, sessionId), eq(recordingChunks.seq, 1)));
    await db().update(recordingChunks).set({ prevSha256: sha256(forged) }).where(and(eq(recordingChunks.sessionId, sessionId), eq(recordingChunks.seq, 2)));
    expect(await verifyRecording(db(), blobStore(), await listChunks(db(), sessionId))).toMatchObject({ intact: false, brokenAtSeq: 1, problem: "content changed" });
    // …or writes the row as a plain, unsigned one.
    await db().update(recordingChunks).set({ mac: null, keyId: null }).where(and(eq(recordingChunks.sessionId, sessionId), eq(recordingChunks.seq, 1)));
    expect(await verifyRecording(db(), blobStore(), await listChunks(db(), sessionId))).toMatchObject({ intact: false, brokenAtSeq: 1, problem: "unsigned chunk" });
  });

  it("catches the newest chunks cut off, by the recording's seal in the audit log", async () => {
    const { sessionId, chunks } = await record(4);
    const [seal] = await db().select({ details: auditLog.details }).from(auditLog).where(and(eq(auditLog.action, "recording.seal"), eq(auditLog.objectId, sessionId)));
    expect(seal!.details).toEqual({ chunks: 4, head: chunks[3]!.mac });
    await db().delete(recordingChunks).where(and(eq(recordingChunks.sessionId, sessionId), gte(recordingChunks.seq, 2)));
    const verdict = await verifyRecording(db(), blobStore(), await listChunks(db(), sessionId));
    expect(verdict).toMatchObject({ intact: false, brokenAtSeq: 2, problem: "truncated" });
    expect((verdict as { detail: string }).detail).toBe("the recording was sealed with 4 chunks; 2 are left");
    // A chunk signed under a key this gateway no longer holds is named as such.
    await db().update(recordingChunks).set({ keyId: "0000000000000000" }).where(and(eq(recordingChunks.sessionId, sessionId), eq(recordingChunks.seq, 0)));
    expect(await verifyRecording(db(), blobStore(), await listChunks(db(), sessionId))).toMatchObject({ intact: false, brokenAtSeq: 0, problem: "unknown key" });
    expect(evidenceKeys().byId("0000000000000000")).toBeUndefined();
  });

  it("leaves nothing readable once the recording's data key is gone, wherever its blobs were copied", async () => {
    const { sessionId, chunks } = await record(1);
    const copy = await blobStore().get(chunks[0]!.blobKey);
    await forgetRecordingKey(db(), sessionId);
    expect(await db().select().from(recordingKeys).where(eq(recordingKeys.sessionId, sessionId))).toEqual([]);
    const cipher = await recordingCipher(db(), sessionId, { create: false });
    expect(() => cipher.open(chunks[0]!.blobKey, copy)).toThrow(/has no data key/);
  });
});
