// The data layer against both databases Gatehouse runs on: the machine's PostgreSQL (a fresh database per
// run) and the embedded PGlite, migrated by the same SQL files.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { asc, desc, eq, gte, lte, max, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createScratchDatabase } from "../fixtures/postgres-database";
import { audit, AuditChainChecker, auditEntries, auditRowHash, listAuditPage, verifyAuditChain, type Actor } from "@/lib/data/audit";
import { anchorAuditHead, readAuditAnchors } from "@/lib/data/audit-anchors";
import { createEvidenceKeys, evidenceKeys, installEvidenceKeys } from "@/lib/infra/evidence-keys";
import { createCredential, openCredential, updateCredential } from "@/lib/data/credentials";
import { openDatabase, type DatabaseHandle } from "@/lib/data/client";
import { createFsBlobStore } from "@/lib/infra/blob-store/fs";
import { apiTokens, auditLog, connectTickets, streamCursors, streamEvents, videoExports, credentials, loginThrottle, recordingChunks, recordingKeyframes, sessions, transcriptLines, users } from "@/lib/data/schema";
import { createLoginThrottle, loginLimits } from "@/lib/data/login-throttle";
import { chunkBlobKey, keyframeBlobKey } from "@/lib/data/recordings";
import { purgeExpiredRecordings, setPreventPurge } from "@/lib/data/retention";
import { listSessionEvents, SessionEventBatcher, type SessionEventInput } from "@/lib/data/session-events";
import { searchTranscripts } from "@/lib/data/transcripts";
import { closeSessionRow, listSessions, readThumbnail, savePreview, saveThumbnail } from "@/lib/data/sessions";
import { sessionFilterSchema } from "@/lib/protocol/sessions";
import { targetInputSchema } from "@/lib/protocol/admin";
import { createTarget, deleteTarget, listTargetsPage, updateTarget } from "@/lib/data/targets";
import { matchesTargetSearch } from "@/lib/protocol/target-search";
import { mintConnectTicket, redeemConnectTicket } from "@/lib/data/tickets";
import { completeSetup, effectiveRoles, isSetupTokenValid, prepareLocalAdmin, seedGroupRoleMappings, upsertSsoUser } from "@/lib/data/users";
import { createVault } from "@/lib/infra/vault";
import { deleteDeliveredEvents, ensureCursor, eventsAfter, markDelivered, noteSinkError, releaseLease, sinkStates, takeLease } from "@/lib/data/stream-cursors";
import { streamEvent } from "@/lib/infra/event-stream/events";
import { jobNames, startJobQueue } from "@/lib/infra/job-queue";
import { authenticateToken, createApiToken, createServiceAccount, listApiTokens, revokeApiToken } from "@/lib/data/api-tokens";
import { apiTokenPattern, apiTokenPrefix } from "@/lib/protocol/api-tokens";
import type { Role } from "@/lib/protocol/domain";

const actor: Actor = { id: null, name: "test", sourceIp: "127.0.0.1" };

const backends: [string, () => Promise<{ handle: DatabaseHandle; cleanup: () => void }>][] = [
  // A database of its own: these tests count and edit every audit row, which other suites write too.
  [
    "PostgreSQL",
    async () => {
      const database = await createScratchDatabase("gatehouse_data_layer");
      const handle = await openDatabase({ databaseUrl: database.url, dataDir: "unused" });
      return { handle, cleanup: () => void handle.close().then(() => database.drop()) };
    },
  ],
  [
    "PGlite",
    async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-pglite-"));
      return { handle: await openDatabase({ dataDir }), cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
    },
  ],
];

describe.each(backends)("data layer on %s", (_name, open) => {
  let handle: DatabaseHandle;
  let cleanup: () => void;
  const db = () => handle.db;

  beforeAll(async () => {
    ({ handle, cleanup } = await open());
  });
  afterAll(async () => {
    await handle?.close();
    cleanup?.();
  });

  it("applies the migrations and can apply them again", async () => {
    const tables = (await db().execute(sql`select table_name from information_schema.tables where table_schema = 'public'`)) as unknown;
    const names = (Array.isArray(tables) ? tables : (tables as { rows: unknown[] }).rows).map((row) => (row as { table_name: string }).table_name);
    expect(names).toEqual(expect.arrayContaining(["users", "group_role_mappings", "targets", "credentials", "sessions", "audit_log", "connect_tickets"]));
  });

  describe("audit chain", () => {
    it("verifies an intact chain, including appends that race", async () => {
      await audit(db(), actor, { action: "login" });
      await Promise.all(Array.from({ length: 20 }, (_, index) => audit(db(), actor, { action: "target.update", objectId: `t${index}`, details: { index } })));
      const report = await verifyAuditChain(db());
      expect(report).toMatchObject({ intact: true, rows: 21 });
    });

    it("finds the first row whose content was edited", async () => {
      const rows = await db().select().from(auditLog).orderBy(auditLog.seq);
      const victim = rows[5]!;
      await db().update(auditLog).set({ actorName: "someone else" }).where(eq(auditLog.seq, victim.seq));
      expect(await verifyAuditChain(db(), [], 4)).toEqual({ intact: false, rows: 5, brokenAtSeq: victim.seq, problem: "content changed" });
      await db().update(auditLog).set({ actorName: victim.actorName }).where(eq(auditLog.seq, victim.seq));
      expect((await verifyAuditChain(db())).intact).toBe(true);
    });

    it("catches an insider who edits a row and recomputes every hash after it, signed or plain", async () => {
      const rows = await db().select().from(auditLog).orderBy(auditLog.seq);
      const victim = rows[3]!;
      // Plain SHA-256 from the victim on, as the chain was before it had a key…
      let previous = victim.prevHash;
      for (const row of rows.slice(3)) {
        const { seq, hash: _hash, ...fields } = row;
        const edited = { ...fields, prevHash: previous, keyId: null, actorName: seq === victim.seq ? "covered tracks" : fields.actorName };
        const hash = auditRowHash(edited, evidenceKeys())!;
        await db().update(auditLog).set({ actorName: edited.actorName, prevHash: edited.prevHash, keyId: null, hash }).where(eq(auditLog.seq, seq));
        previous = hash;
      }
      expect(await verifyAuditChain(db())).toMatchObject({ intact: false, brokenAtSeq: victim.seq, problem: "unsigned row" });
      // …or an HMAC under a key of their own: the content does not match under the gateway's key.
      const forger = createEvidenceKeys({ masterKey: randomBytes(32) });
      previous = victim.prevHash;
      for (const row of rows.slice(3)) {
        const { seq, hash: _hash, ...fields } = row;
        const edited = { ...fields, prevHash: previous, actorName: seq === victim.seq ? "covered tracks" : fields.actorName };
        const hash = auditRowHash({ ...edited, keyId: forger.current.id }, forger)!;
        await db().update(auditLog).set({ actorName: edited.actorName, prevHash: edited.prevHash, keyId: evidenceKeys().current.id, hash }).where(eq(auditLog.seq, seq));
        previous = hash;
      }
      expect(await verifyAuditChain(db())).toMatchObject({ intact: false, brokenAtSeq: victim.seq, problem: "content changed" });
      for (const row of rows) await db().update(auditLog).set({ actorName: row.actorName, prevHash: row.prevHash, keyId: row.keyId, hash: row.hash }).where(eq(auditLog.seq, row.seq));
      expect((await verifyAuditChain(db())).intact).toBe(true);
    });

    it("catches the newest rows cut off, by the anchors kept outside the database", async () => {
      const sinks = { blobStore: createFsBlobStore(mkdtempSync(path.join(tmpdir(), "gatehouse-anchors-"))), file: path.join(mkdtempSync(path.join(tmpdir(), "gatehouse-anchor-file-")), "anchors.jsonl") };
      for (let more = 0; more < 3; more++) await audit(db(), actor, { action: "session.start", objectId: `s${more}` });
      const anchor = (await anchorAuditHead(db(), sinks, "test-node", 0))!;
      expect(await anchorAuditHead(db(), sinks, "test-node", anchor.seq)).toBeNull();
      expect(await verifyAuditChain(db(), await readAuditAnchors(sinks))).toMatchObject({ intact: true, anchors: 2 });
      // The last three rows go: the chain still links, but the anchors say how far it reached.
      const newest = await db().select().from(auditLog).orderBy(desc(auditLog.seq)).limit(3);
      await db().delete(auditLog).where(gte(auditLog.seq, newest.at(-1)!.seq));
      const report = await verifyAuditChain(db(), await readAuditAnchors(sinks));
      expect(report).toMatchObject({ intact: false, brokenAtSeq: newest.at(-1)!.seq, problem: "truncated" });
      expect((report as { detail: string }).detail).toContain(`#${anchor.seq} was anchored at`);
      // Each sink alone is enough: the anchor file, with the blob store emptied by the same insider.
      for (const key of await sinks.blobStore.list("anchors/")) await sinks.blobStore.delete(key);
      expect(await verifyAuditChain(db(), await readAuditAnchors(sinks))).toMatchObject({ intact: false, problem: "truncated" });
    });

    it("a checker goes on from the head it verified, and walks the whole chain when that head changed or when asked", async () => {
      const checker = new AuditChainChecker(60 * 60_000);
      const first = await checker.check(db(), []);
      expect(first).toMatchObject({ report: { intact: true }, checkedFromSeq: 1 });
      const head = (first.report as { head: { seq: number } }).head.seq;
      await audit(db(), actor, { action: "target.update", objectId: "after-the-head" });
      expect(await checker.check(db(), [])).toMatchObject({ report: { intact: true, rows: first.report.rows + 1 }, checkedFromSeq: head + 1 });
      // A row behind the head, edited: found by the next whole walk (the page's periodic one, or asked for).
      const rows = await db().select().from(auditLog).orderBy(auditLog.seq);
      const victim = rows[2]!;
      await db().update(auditLog).set({ actorName: "rewritten" }).where(eq(auditLog.seq, victim.seq));
      try {
        expect((await checker.check(db(), [])).report.intact).toBe(true);
        expect((await checker.check(db(), [], { whole: true })).report).toMatchObject({ intact: false, brokenAtSeq: victim.seq, problem: "content changed" });
      } finally {
        await db().update(auditLog).set({ actorName: victim.actorName }).where(eq(auditLog.seq, victim.seq));
      }
      expect(await checker.check(db(), [])).toMatchObject({ report: { intact: true }, checkedFromSeq: 1 });
      // The head itself rewritten: the checker cannot go on from it, and walks everything.
      const newest = rows.at(-1)!;
      await db().update(auditLog).set({ actorName: "rewritten" }).where(eq(auditLog.seq, newest.seq));
      try {
        expect(await checker.check(db(), [])).toMatchObject({ report: { intact: false, brokenAtSeq: newest.seq }, checkedFromSeq: 1 });
      } finally {
        await db().update(auditLog).set({ actorName: newest.actorName }).where(eq(auditLog.seq, newest.seq));
      }
    });

    it("pages the log newest first by entry number, with every filter, and exports everything a filter matches", async () => {
      const marker = `page-${randomBytes(3).toString("hex")}`;
      for (let index = 0; index < 7; index++) {
        await audit(db(), { ...actor, name: `${marker}-${index % 2 ? "odd" : "even"}` }, { action: `${marker}.act`, outcome: index === 3 ? "refused" : "success", objectType: "session", objectId: `${marker}-${index}` });
      }
      const mine = { actor: marker };
      const first = await listAuditPage(db(), mine, undefined, 3);
      expect(first.entries.map((entry) => entry.objectId)).toEqual([`${marker}-6`, `${marker}-5`, `${marker}-4`]);
      expect(first.olderBefore).toBe(first.entries[2]!.seq);
      const second = await listAuditPage(db(), mine, first.olderBefore!, 3);
      expect(second.entries.map((entry) => entry.objectId)).toEqual([`${marker}-3`, `${marker}-2`, `${marker}-1`]);
      const last = await listAuditPage(db(), mine, second.olderBefore!, 3);
      expect(last).toEqual({ entries: [expect.objectContaining({ objectId: `${marker}-0` })], olderBefore: null });

      expect((await listAuditPage(db(), { actor: `${marker}-odd` })).entries).toHaveLength(3);
      expect((await listAuditPage(db(), { action: `${marker}.`, outcome: "refused" })).entries.map((entry) => entry.objectId)).toEqual([`${marker}-3`]);
      expect((await listAuditPage(db(), { objectType: "session", objectId: `${marker}-5` })).entries).toHaveLength(1);
      // Wildcards typed into a filter are plain characters.
      expect((await listAuditPage(db(), { actor: "%" })).entries).toHaveLength(0);
      const at = first.entries[0]!.at;
      expect((await listAuditPage(db(), { ...mine, from: new Date(at.getTime() + 1) })).entries).toHaveLength(0);
      expect((await listAuditPage(db(), { ...mine, to: new Date(at.getTime() + 1) })).entries).toHaveLength(7);

      const exported: string[] = [];
      for await (const entry of auditEntries(db(), mine, 2)) exported.push(entry.objectId!);
      expect(exported).toEqual(Array.from({ length: 7 }, (_, index) => `${marker}-${index}`));
    });

    it("verifies across a key rotation with the rotated-out key listed, and says which key it lacks without it", async () => {
      const before = evidenceKeys();
      const next = randomBytes(32);
      try {
        installEvidenceKeys({ ...createEvidenceKeys({ masterKey: randomBytes(32), chainKey: next, previous: [before.current.key] }), recordingKeySeal: before.recordingKeySeal });
        await audit(db(), actor, { action: "settings.update", details: { after: "rotation" } });
        expect(await verifyAuditChain(db())).toMatchObject({ intact: true });
        installEvidenceKeys({ ...createEvidenceKeys({ masterKey: randomBytes(32), chainKey: next }), recordingKeySeal: before.recordingKeySeal });
        expect(await verifyAuditChain(db())).toMatchObject({ intact: false, problem: "unknown key", detail: `signed with key ${before.current.id}` });
      } finally {
        installEvidenceKeys(before);
      }
    });

    it("finds a deleted row", async () => {
      const rows = await db().select().from(auditLog).orderBy(auditLog.seq);
      await db().delete(auditLog).where(eq(auditLog.seq, rows[10]!.seq));
      expect(await verifyAuditChain(db())).toEqual({ intact: false, rows: 10, brokenAtSeq: rows[11]!.seq, problem: "link broken" });
    });
  });

  describe("connect tickets", () => {
    let userId: string;
    let targetId: string;

    beforeAll(async () => {
      const [user] = await db().insert(users).values({ username: `ticket-user-${randomBytes(3).toString("hex")}`, source: "local" }).returning();
      userId = user!.id;
      targetId = (await createTarget(db(), actor, targetInputSchema.parse({ name: `box-${randomBytes(3).toString("hex")}`, protocol: "ssh", host: "127.0.0.1", port: 22 }))).id;
    });

    it("redeems a ticket once, with its binding", async () => {
      const { ticket } = await mintConnectTicket(db(), { userId, targetId, purpose: "probe" }, 30);
      expect(await redeemConnectTicket(db(), ticket)).toEqual({ ok: true, binding: { userId, targetId, purpose: "probe", sessionId: null, browserBinding: null } });
      expect(await redeemConnectTicket(db(), ticket)).toEqual({ ok: false, reason: "used" });
    });

    it("redeems a ticket bound to a browser only with that binding, and another's attempt does not spend it", async () => {
      const browserBinding = "b".repeat(64);
      const { ticket } = await mintConnectTicket(db(), { userId, targetId, purpose: "app", browserBinding }, 30);
      expect(await redeemConnectTicket(db(), ticket)).toEqual({ ok: false, reason: "used" });
      expect(await redeemConnectTicket(db(), ticket, "c".repeat(64))).toEqual({ ok: false, reason: "used" });
      expect(await redeemConnectTicket(db(), ticket, browserBinding)).toMatchObject({ ok: true, binding: { purpose: "app", browserBinding } });
      expect(await redeemConnectTicket(db(), ticket, browserBinding)).toEqual({ ok: false, reason: "used" });
      // An unbound ticket is not redeemed where a binding is asked for either.
      const unbound = await mintConnectTicket(db(), { userId, targetId, purpose: "probe" }, 30);
      expect(await redeemConnectTicket(db(), unbound.ticket, browserBinding)).toEqual({ ok: false, reason: "used" });
      expect(await redeemConnectTicket(db(), unbound.ticket)).toMatchObject({ ok: true });
    });

    it("refuses an expired or unknown ticket and stores only its hash", async () => {
      const { ticket } = await mintConnectTicket(db(), { userId, targetId, purpose: "probe" }, 1);
      const stored = await db().select().from(connectTickets);
      expect(JSON.stringify(stored)).not.toContain(ticket);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await redeemConnectTicket(db(), ticket)).toEqual({ ok: false, reason: "expired" });
      expect(await redeemConnectTicket(db(), "made-up")).toEqual({ ok: false, reason: "unknown" });
    });
  });

  describe("password sign-in counters", () => {
    const attempt = async (throttle: ReturnType<typeof createLoginThrottle>, address: string, account: string) => {
      const admission = await throttle.admit(address, account);
      if (admission.ok) await admission.finish(false);
      return admission.ok ? "admitted" : admission.reason;
    };
    const age = (key: string, minutes: number) => db().update(loginThrottle).set({ windowStartedAt: sql`now() - ${minutes} * interval '1 minute'` }).where(eq(loginThrottle.key, key));

    it("count every attempt before hashing, per account from an address and per address, with a window that doubles after a lockout", async () => {
      const throttle = createLoginThrottle(db());
      const address = `10.9.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;
      const results = await Promise.all(Array.from({ length: 8 }, () => attempt(throttle, address, "Admin")));
      expect(results.filter((result) => result === "rate_limited")).toHaveLength(8 - loginLimits.perAccountFromAddress);
      // Another address is not locked out; nor is another account from this address (until the address limit).
      expect(await attempt(throttle, "10.8.0.1", "admin")).toBe("admitted");
      expect(await attempt(throttle, address, "someone-else")).toBe("admitted");

      const key = `account:admin@${address}`;
      await age(key, 16);
      expect(await attempt(throttle, address, "admin")).toBe("admitted");
      // The window that ended past the limit doubles the next: 16 minutes on, still the same window.
      for (let more = 1; more < loginLimits.perAccountFromAddress; more++) expect(await attempt(throttle, address, "admin")).toBe("admitted");
      expect(await attempt(throttle, address, "admin")).toBe("rate_limited");
      await age(key, 16);
      expect(await attempt(throttle, address, "admin")).toBe("rate_limited");
      await age(key, 31);
      expect(await attempt(throttle, address, "admin")).toBe("admitted");
      // The address as a whole has its own, larger limit (17 attempts so far).
      for (let more = 17; more < loginLimits.perAddress; more++) await attempt(throttle, address, `spray-${more}`);
      expect(await attempt(throttle, address, "yet-another")).toBe("rate_limited");
    });

    it("let no more than a few hashes run at once, and count a success by forgetting the account's failures", async () => {
      const throttle = createLoginThrottle(db());
      const admitted = await Promise.all(Array.from({ length: loginLimits.hashesAtOnce }, (_, index) => throttle.admit(`10.7.0.${index}`, "admin")));
      expect(admitted.every((admission) => admission.ok)).toBe(true);
      expect(await throttle.admit("10.7.1.1", "admin")).toEqual({ ok: false, reason: "busy" });
      for (const admission of admitted) if (admission.ok) await admission.finish(true);
      expect((await throttle.admit("10.7.1.1", "admin")).ok).toBe(true);
      expect(await db().select().from(loginThrottle).where(eq(loginThrottle.key, "account:admin@10.7.0.0"))).toEqual([]);
    });
  });

  describe("credentials", () => {
    it("stores only ciphertext and opens it in memory", async () => {
      const vault = createVault(randomBytes(32));
      const created = await createCredential(db(), vault, actor, { name: `cred-${randomBytes(3).toString("hex")}`, kind: "password", username: "deploy", secret: "hunter2-but-longer" });
      expect(JSON.stringify(created)).not.toContain("hunter2");
      const [row] = await db().select().from(credentials).where(eq(credentials.id, created.id));
      expect(row!.secretCiphertext).not.toContain("hunter2");
      expect(await openCredential(db(), vault, created.id)).toEqual({ kind: "password", username: "deploy", secret: "hunter2-but-longer" });

      await updateCredential(db(), vault, actor, created.id, { username: "deploy2" });
      expect((await openCredential(db(), vault, created.id))?.secret).toBe("hunter2-but-longer");
      const trail = await db().select().from(auditLog).where(eq(auditLog.objectId, created.id)).orderBy(auditLog.seq);
      expect(trail.map((entry) => entry.action)).toEqual(["credential.create", "credential.update"]);
      expect(JSON.stringify(trail)).not.toContain("hunter2");
    });
  });

  describe("session event batches", () => {
    it("writes a batch in the order it was queued, each event with its own moment, kind, actor and details", async () => {
      const [user] = await db().insert(users).values({ username: `browser-${randomBytes(3).toString("hex")}`, source: "local" }).returning();
      const [session] = await db().insert(sessions).values({ userId: user!.id, targetName: "wiki", protocol: "web", node: "n1", status: "active" }).returning();
      const timeline = new SessionEventBatcher(db(), 60_000);
      const navigatedAt = new Date("2026-12-04T05:00:00.123Z");
      const events: SessionEventInput[] = [
        ...Array.from({ length: 300 }, (_, index): SessionEventInput => ({ sessionId: session!.id, kind: "web.request", actorName: "ann", details: { method: "GET", path: `/page/${index}?q=a'b"c\\d`, status: 200 } })),
        { sessionId: session!.id, kind: "web.navigation", actorName: "ann", details: { title: "Straße — 日本語 😀", nested: { list: [1, null, true] } }, at: navigatedAt },
        { sessionId: session!.id, kind: "web.recorder_silent", actorName: "gatehouse" },
      ];
      for (const event of events) timeline.add(event);
      await timeline.flush();
      const written = await listSessionEvents(db(), session!.id, 1000);
      expect(written.map(({ kind, actorName, details }) => ({ kind, actorName, details }))).toEqual(events.map(({ kind, actorName, details }) => ({ kind, actorName, details: details ?? {} })));
      expect(written.at(-2)!.at.toISOString()).toBe(navigatedAt.toISOString());
      expect(Math.abs(written[0]!.at.getTime() - Date.now())).toBeLessThan(60_000);
    });
  });

  describe("transcript search", () => {
    it("finds words and substrings, with the session, time offset and neighbouring lines", async () => {
      const [user] = await db().insert(users).values({ username: `searcher-${randomBytes(3).toString("hex")}`, source: "local" }).returning();
      const [session] = await db()
        .insert(sessions)
        .values({ userId: user!.id, targetName: "db-01", protocol: "ssh", node: "n1", status: "ended" })
        .returning();
      await db()
        .insert(transcriptLines)
        .values([
          { sessionId: session!.id, atMs: 1000, kind: "command", text: "systemctl restart postgresql" },
          { sessionId: session!.id, atMs: 1200, kind: "output", text: "Job for postgresql.service failed" },
          { sessionId: session!.id, atMs: 4000, kind: "command", text: "journalctl -xeu postgresql.service" },
        ]);
      const byWord = await searchTranscripts(db(), "restart");
      expect(byWord).toEqual([expect.objectContaining({ sessionId: session!.id, atMs: 1000, kind: "command", text: "systemctl restart postgresql", targetName: "db-01", before: null, after: "Job for postgresql.service failed" })]);
      const bySubstring = await searchTranscripts(db(), "ctl -xeu");
      expect(bySubstring.map((hit) => hit.atMs)).toEqual([4000]);
      expect(bySubstring[0]!.before).toBe("Job for postgresql.service failed");
      expect((await searchTranscripts(db(), "failed")).map((hit) => hit.kind)).toEqual(["output"]);
      expect(await searchTranscripts(db(), "100%_done")).toEqual([]);
    });
  });

  it("runs the job queue (pg-boss) on this database: a job sent is worked once", async () => {
    const jobs = await startJobQueue(handle);
    try {
      const worked: unknown[] = [];
      await jobs.work<{ exportId: string }>(jobNames.videoExport, { pollingIntervalSeconds: 0.5 }, async ([job]) => void worked.push(job?.data));
      await jobs.send(jobNames.videoExport, { exportId: "e-1" });
      await expect.poll(() => worked, { timeout: 15_000 }).toEqual([{ exportId: "e-1" }]);
    } finally {
      await jobs.stop({ graceful: false, wait: true, timeout: 5_000 });
    }
  });

  describe("event stream", () => {
    it("gets an event for every audit entry and every command typed, in their transactions, enriched for a SIEM", async () => {
      const [before] = await db().select({ seq: max(streamEvents.seq) }).from(streamEvents);
      const from = Number(before?.seq ?? 0);
      await audit(db(), { id: null, name: "streamer", sourceIp: "10.1.1.1" }, { action: "target.create", objectType: "target", objectId: "t-9", details: { name: "db" } });
      const [user] = await db().insert(users).values({ username: `typist-${randomBytes(3).toString("hex")}`, source: "local" }).returning();
      const [session] = await db().insert(sessions).values({ userId: user!.id, targetName: "db-02", protocol: "ssh", node: "n1", status: "active", clientAddress: "10.2.2.2" }).returning();
      await db()
        .insert(transcriptLines)
        .values([
          { sessionId: session!.id, atMs: 1500, kind: "command", text: "sudo -i" },
          { sessionId: session!.id, atMs: 1600, kind: "output", text: "root@db" },
        ]);
      // A failed transaction leaves no event behind.
      await expect(db().transaction(async (tx) => {
        await tx.insert(transcriptLines).values({ sessionId: session!.id, atMs: 2000, kind: "command", text: "never ran" });
        throw new Error("rolled back");
      })).rejects.toThrow("rolled back");
      const rows = await eventsAfter(db(), from, 100);
      const events = rows.map(streamEvent);
      expect(events.map((event) => event.type)).toEqual(["target.create", "command"]);
      expect(events[0]).toMatchObject({ actor: { name: "streamer", ip: "10.1.1.1" }, object: { type: "target", id: "t-9" }, details: { name: "db" } });
      expect(events[1]).toMatchObject({ actor: { id: user!.id, name: user!.username, ip: "10.2.2.2" }, session: { id: session!.id, target: "db-02", protocol: "ssh", node: "n1" }, command: "sudo -i" });
      expect(Date.parse(events[1]!.time) - session!.startedAt.getTime()).toBe(1500);
      expect(rows[1]!.seq).toBeGreaterThan(rows[0]!.seq);
    });

    it("lets one node at a time send to a sink, from where the last one stopped", async () => {
      const sink = `sink-${randomBytes(3).toString("hex")}`;
      await ensureCursor(db(), sink);
      const [newest] = await db().select({ seq: max(streamEvents.seq) }).from(streamEvents);
      const start = await takeLease(db(), sink, "node-a");
      expect(start).toBe(Number(newest!.seq));
      expect(await takeLease(db(), sink, "node-b")).toBeNull();
      expect(await markDelivered(db(), sink, "node-b", start! + 1)).toBe(false);
      await audit(db(), actor, { action: "stream.test" });
      expect(await markDelivered(db(), sink, "node-a", start! + 1)).toBe(true);
      // A node that died holds its lease no longer than it lasts; the next one carries on from the position.
      await db().update(streamCursors).set({ leaseUntil: new Date(Date.now() - 1000) }).where(eq(streamCursors.sink, sink));
      expect(await takeLease(db(), sink, "node-b")).toBe(start! + 1);
      expect(await markDelivered(db(), sink, "node-a", start! + 2)).toBe(false);
      await noteSinkError(db(), sink, "connect ECONNREFUSED");
      const [state] = await sinkStates(db(), [sink]);
      expect(state).toMatchObject({ sink, deliveredSeq: start! + 1, sendingNode: "node-b", lastError: "connect ECONNREFUSED" });
      expect(state!.backlog).toBeGreaterThanOrEqual(0);
      await releaseLease(db(), sink, "node-b");
      expect((await sinkStates(db(), [sink]))[0]!.sendingNode).toBeNull();
    });

    it("drops only events every sink in use has, and keeps an unsent day when no sink is", async () => {
      await db().delete(streamCursors);
      await audit(db(), actor, { action: "stream.old" });
      const [old] = await db().select({ seq: max(streamEvents.seq) }).from(streamEvents);
      await db().update(streamEvents).set({ at: new Date(Date.now() - 2 * 86_400_000) }).where(lte(streamEvents.seq, Number(old!.seq)));
      await ensureCursor(db(), "slow");
      await db().update(streamCursors).set({ deliveredSeq: Number(old!.seq) - 1, deliveredAt: new Date() });
      await deleteDeliveredEvents(db());
      const left = await db().select({ seq: streamEvents.seq }).from(streamEvents).orderBy(asc(streamEvents.seq));
      expect(left[0]!.seq).toBe(Number(old!.seq));
      await db().delete(streamCursors);
      await deleteDeliveredEvents(db());
      expect(await db().select({ seq: streamEvents.seq }).from(streamEvents).where(lte(streamEvents.seq, Number(old!.seq)))).toEqual([]);
    });
  });

  describe("sessions list", () => {
    it("pages by its sort keys: every session once, in order, sessions started in the same microsecond included", async () => {
      const [user] = await db().insert(users).values({ username: `pager-${randomBytes(3).toString("hex")}`, source: "local" }).returning();
      const base = Date.now() - 3_600_000;
      // Three sessions share a start to the microsecond (finer than a JavaScript date); risk scores repeat.
      const same = "2026-11-30 09:15:00.123456+00";
      for (let index = 0; index < 7; index++) {
        await db()
          .insert(sessions)
          .values({ userId: user!.id, targetName: "paged", protocol: "ssh", node: "n", status: "ended", startedAt: index < 3 ? sql`${same}::timestamptz` : new Date(base + index), riskScore: index % 3 });
      }
      const scope = { onlyUserId: user!.id };
      for (const sort of [undefined, "risk"] as const) {
        const all = (await listSessions(db(), { sort }, scope, 100)).rows.map((row) => row.id);
        expect(all).toHaveLength(7);
        const paged: string[] = [];
        let after: string | null = null;
        for (let page = 0; page < 5; page++) {
          const filter = sessionFilterSchema.parse({ sort: sort ?? "", after: after ?? "" });
          const { rows, next } = await listSessions(db(), filter, scope, 3);
          paged.push(...rows.map((row) => row.id));
          after = next;
          if (!next) break;
        }
        expect(paged).toEqual(all);
      }
      const riskiest = (await listSessions(db(), { sort: "risk" }, scope, 100)).rows.map((row) => row.riskScore);
      expect(riskiest).toEqual([...riskiest].sort((a, b) => b - a));
      // A cursor is read, never trusted: anything else is a clear error.
      for (const forged of ["not-a-cursor", Buffer.from(JSON.stringify([0, "2026-01-01 00:00:00+00", "x'); drop table sessions; --"])).toString("base64url")]) {
        expect(sessionFilterSchema.safeParse({ after: forged }).error?.issues[0]?.message).toBe("Not a page of this list: start again from its first page");
      }
    });
  });

  describe("targets list", () => {
    it("finds in the database what the home page finds in memory, and pages by name: every target once, in order", async () => {
      const run = randomBytes(3).toString("hex");
      const made = [
        { name: `t-${run}-db-primary`, host: "10.0.4.12", protocol: "ssh" as const, tags: [`prod-${run}`, "postgres"] },
        { name: `t-${run}-db-replica`, host: "10.0.4.13", protocol: "ssh" as const, tags: [`prod-${run}`, "postgres_100%"] },
        { name: `t-${run}-wiki`, host: "wiki.internal", protocol: "vnc" as const, tags: [`staging-${run}`] },
        { name: `t-${run}-desk`, host: "10.9.0.1", protocol: "rdp" as const, tags: [] },
      ];
      const ids: string[] = [];
      for (const target of made) ids.push((await createTarget(db(), actor, targetInputSchema.parse({ port: 22, ...target }))).id);
      const searches = [{ q: run }, { q: `${run} DB prod` }, { q: `${run} 10.0.4` }, { q: `${run} vnc` }, { q: `${run} postgres_1` }, { q: `${run} _` }, { q: `${run} %` }, { q: run, tag: `prod-${run}` }, { tag: "pro" }, { q: `${run} nothing-like-this` }];
      for (const search of searches) {
        const found = (await listTargetsPage(db(), search)).targets.map((target) => target.name);
        const expected = made.filter((target) => matchesTargetSearch(target, search)).map((target) => target.name).sort();
        expect(found, JSON.stringify(search)).toEqual(expected);
      }
      const paged: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 5; page++) {
        const { targets, next, matching } = await listTargetsPage(db(), { q: run, after }, { pageSize: 3 });
        expect(matching).toBe(4);
        paged.push(...targets.map((target) => target.name));
        if (!next) break;
        after = next;
      }
      expect(paged).toEqual(made.map((target) => target.name).sort());
      const tags = async () => (await listTargetsPage(db(), {}, { withTags: true })).tags;
      expect(await tags()).toEqual(expect.arrayContaining([`prod-${run}`, "postgres", `staging-${run}`]));
      // The tags in use follow every change: a tag leaves the choices with the last target that carried it.
      await updateTarget(db(), actor, ids[2]!, targetInputSchema.parse({ port: 22, ...made[2], tags: [`prod-${run}`] }));
      expect(await tags()).not.toContain(`staging-${run}`);
      expect((await listTargetsPage(db(), { q: `${run} prod-${run}` })).matching).toBe(3);
      await deleteTarget(db(), actor, ids[0]!);
      await deleteTarget(db(), actor, ids[1]!);
      expect(await tags()).toContain(`prod-${run}`);
      await deleteTarget(db(), actor, ids[2]!);
      expect(await tags()).not.toContain(`prod-${run}`);
    });
  });

  describe("live thumbnails", () => {
    it("keeps a live session's latest picture, none before it starts showing and none after it ends", async () => {
      const [user] = await db().insert(users).values({ username: `viewer-${randomBytes(3).toString("hex")}`, source: "local" }).returning();
      const [session] = await db().insert(sessions).values({ userId: user!.id, targetName: "desk", protocol: "rdp", node: "n", status: "active" }).returning();
      expect(await readThumbnail(db(), session!.id)).toBeUndefined();
      await savePreview(db(), session!.id, "$ ls");
      await saveThumbnail(db(), session!.id, Buffer.from("first"));
      await saveThumbnail(db(), session!.id, Buffer.from("second"));
      expect((await readThumbnail(db(), session!.id))?.jpeg.toString()).toBe("second");
      expect(await readThumbnail(db(), "not-a-uuid")).toBeUndefined();
      await closeSessionRow(db(), session!.id, { reason: "user_closed", message: "closed", bytesFromUser: 0, bytesToUser: 0 });
      expect(await readThumbnail(db(), session!.id)).toBeUndefined();
      // A picture that arrives after the end is not kept.
      await saveThumbnail(db(), session!.id, Buffer.from("late"));
      expect(await readThumbnail(db(), session!.id)).toBeUndefined();
      const [row] = await db().select({ preview: sessions.preview }).from(sessions).where(eq(sessions.id, session!.id));
      expect(row?.preview).toBeNull();
    });
  });

  describe("retention", () => {
    it("purges recordings past their target's retention, except held ones, and audits each", async () => {
      const blobs = createFsBlobStore(mkdtempSync(path.join(tmpdir(), "gatehouse-retention-")));
      const [user] = await db().insert(users).values({ username: `kept-${randomBytes(3).toString("hex")}`, source: "local" }).returning();
      const target = await createTarget(db(), actor, targetInputSchema.parse({ name: `kept-${randomBytes(3).toString("hex")}`, protocol: "ssh", host: "h", port: 22, retentionDays: 7 }));
      const forever = await createTarget(db(), actor, targetInputSchema.parse({ name: `forever-${randomBytes(3).toString("hex")}`, protocol: "ssh", host: "h", port: 22 }));
      const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 60 * 60 * 1000);
      const recorded = async (targetId: string, endedDaysAgo: number) => {
        const [session] = await db()
          .insert(sessions)
          .values({ userId: user!.id, targetId, targetName: "t", protocol: "ssh", node: "n", status: "ended", startedAt: daysAgo(endedDaysAgo + 1), endedAt: daysAgo(endedDaysAgo) })
          .returning();
        const key = chunkBlobKey(session!.id, 0, "cast");
        await blobs.put(key, Buffer.from("chunk"));
        await db().insert(recordingChunks).values({ sessionId: session!.id, seq: 0, startMs: 0, endMs: 1, size: 5, sha256: "x", prevSha256: "0", blobKey: key });
        await db().insert(transcriptLines).values({ sessionId: session!.id, atMs: 0, kind: "command", text: "ls" });
        const keyframeKey = keyframeBlobKey(session!.id, 0);
        await blobs.put(keyframeKey, Buffer.from("screen"));
        await db().insert(recordingKeyframes).values({ sessionId: session!.id, afterSeq: 0, atMs: 1, size: 6, sha256: "y", blobKey: keyframeKey });
        const [video] = await db().insert(videoExports).values({ sessionId: session!.id, requestedBy: user!.id, format: "mp4", status: "ready", blobKey: `exports/${randomBytes(4).toString("hex")}.mp4` }).returning();
        await blobs.put(video!.blobKey!, Buffer.from("video"));
        return session!.id;
      };
      const old = await recorded(target.id, 8);
      const held = await recorded(target.id, 30);
      const recent = await recorded(target.id, 2);
      const keptForever = await recorded(forever.id, 400);
      await setPreventPurge(db(), actor, held, true);

      expect(await purgeExpiredRecordings(db(), blobs)).toEqual([old]);
      expect(await purgeExpiredRecordings(db(), blobs)).toEqual([]);
      expect(await blobs.list(`recordings/${old}/`)).toEqual([]);
      expect(await db().select().from(recordingChunks).where(eq(recordingChunks.sessionId, old))).toEqual([]);
      expect(await db().select().from(transcriptLines).where(eq(transcriptLines.sessionId, old))).toEqual([]);
      expect(await db().select().from(recordingKeyframes).where(eq(recordingKeyframes.sessionId, old))).toEqual([]);
      // Its videos go with it; the others' stay.
      expect(await db().select().from(videoExports).where(eq(videoExports.sessionId, old))).toEqual([]);
      expect(await blobs.list("exports/")).toHaveLength(3);
      const [row] = await db().select().from(sessions).where(eq(sessions.id, old));
      expect(row!.recordingPurgedAt).toBeInstanceOf(Date);
      for (const kept of [held, recent, keptForever]) expect(await blobs.list(`recordings/${kept}/`), kept).toHaveLength(2);
      const trail = await db().select().from(auditLog).where(eq(auditLog.objectId, old));
      expect(trail.map((entry) => entry.action)).toEqual(["recording.purge"]);
      expect(trail[0]!.details).toEqual({ chunks: 1, retentionDays: 7 });
    });
  });

  describe("accounts", () => {
    it("issues a one-time setup token for the embedded admin", async () => {
      const { setupToken } = await prepareLocalAdmin(db());
      expect(setupToken).toBeTruthy();
      const { setupToken: rotated } = await prepareLocalAdmin(db());
      expect(await isSetupTokenValid(db(), setupToken!)).toBe(false);
      expect(await isSetupTokenValid(db(), rotated!)).toBe(true);
      const admin = await completeSetup(db(), rotated!, "scrypt$hash");
      expect(admin?.username).toBe("admin");
      expect(effectiveRoles(admin!)).toEqual(["admin", "user"]);
      expect(await completeSetup(db(), rotated!, "scrypt$other")).toBeNull();
      expect((await prepareLocalAdmin(db())).setupToken).toBeNull();
    });

    it("maps IdP groups to roles at every sign-in and keeps granted roles", async () => {
      await seedGroupRoleMappings(db(), [{ group: "secops", role: "security" }]);
      const identity = { issuer: "https://idp", subject: "sub-1", username: "dana", email: "dana@example.com", displayName: "Dana", groups: ["secops"] };
      const first = await upsertSsoUser(db(), identity);
      expect(effectiveRoles(first)).toEqual(["security", "user"]);
      await db().update(users).set({ grantedRoles: ["reviewer"] }).where(eq(users.id, first.id));
      const second = await upsertSsoUser(db(), { ...identity, groups: [] });
      expect(second.id).toBe(first.id);
      expect(effectiveRoles(second)).toEqual(["reviewer", "user"]);
    });
  });

  describe("API tokens", () => {
    it("keeps only a hash, authenticates live tokens of enabled accounts, and writes the last use at most once a minute", async () => {
      const owner = await upsertSsoUser(db(), { issuer: "https://idp", subject: "sub-tokens", username: "tilda", email: null, displayName: null, groups: [] });
      const caller = { id: owner.id, roles: effectiveRoles(owner) };
      const { token, secret } = await createApiToken(db(), actor, caller, { name: "ci", scopes: ["sessions:read", "sessions:read"], expiresInDays: 30 });
      expect(token.scopes).toEqual(["sessions:read"]);
      expect(secret).toMatch(apiTokenPattern);
      const [row] = await db().select().from(apiTokens).where(eq(apiTokens.id, token.id));
      expect(JSON.stringify(row)).not.toContain(secret.slice(apiTokenPrefix.length));
      expect(row!.hint).toBe(secret.slice(apiTokenPrefix.length, apiTokenPrefix.length + 6));

      const first = await authenticateToken(db(), secret, "10.0.0.1");
      expect(first?.user.id).toBe(owner.id);
      const [used] = await db().select().from(apiTokens).where(eq(apiTokens.id, token.id));
      expect(used!.lastUsedFrom).toBe("10.0.0.1");
      await authenticateToken(db(), secret, "10.0.0.1");
      const [again] = await db().select().from(apiTokens).where(eq(apiTokens.id, token.id));
      expect(again!.lastUsedAt).toEqual(used!.lastUsedAt);
      // A new address is written at once: the page shows where a token is used from.
      await authenticateToken(db(), secret, "10.0.0.2");
      expect((await db().select().from(apiTokens).where(eq(apiTokens.id, token.id)))[0]!.lastUsedFrom).toBe("10.0.0.2");

      expect(await authenticateToken(db(), `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`, null)).toBeNull();
      expect(await authenticateToken(db(), "gatehouse_short", null)).toBeNull();
      await db().update(users).set({ disabled: true }).where(eq(users.id, owner.id));
      expect(await authenticateToken(db(), secret, null)).toBeNull();
      await db().update(users).set({ disabled: false }).where(eq(users.id, owner.id));
      await db().update(apiTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiTokens.id, token.id));
      expect(await authenticateToken(db(), secret, null)).toBeNull();
      await db().update(apiTokens).set({ expiresAt: new Date(Date.now() + 60_000) }).where(eq(apiTokens.id, token.id));
      expect(await authenticateToken(db(), secret, null)).not.toBeNull();
      const revoked = await revokeApiToken(db(), actor, caller, token.id);
      expect(revoked.revokedAt).not.toBeNull();
      expect(await authenticateToken(db(), secret, null)).toBeNull();
    });

    it("refuses scopes the owner's roles could never use, and service-account tokens to anyone but admins", async () => {
      const owner = await upsertSsoUser(db(), { issuer: "https://idp", subject: "sub-plain", username: "plain", email: null, displayName: null, groups: [] });
      const caller = { id: owner.id, roles: effectiveRoles(owner) };
      await expect(createApiToken(db(), actor, caller, { name: "x", scopes: ["admin"], expiresInDays: 1 })).rejects.toMatchObject({ status: 400, fields: { scopes: "Not for these roles: admin" } });
      const robot = await createServiceAccount(db(), actor, { name: "robot", roles: ["security"] });
      await expect(createApiToken(db(), actor, caller, { name: "x", scopes: ["sessions:read"], expiresInDays: 1, serviceAccountId: robot.id })).rejects.toMatchObject({ status: 403 });
      const admin = { id: owner.id, roles: ["admin", "user"] as Role[] };
      const { secret } = await createApiToken(db(), actor, admin, { name: "pull", scopes: ["sessions:control"], expiresInDays: 1, serviceAccountId: robot.id });
      expect((await authenticateToken(db(), secret, null))?.user.username).toBe("robot");
      // Someone else's token is not found, not merely refused.
      const [robotToken] = await listApiTokens(db(), robot.id);
      await expect(revokeApiToken(db(), actor, caller, robotToken!.id)).rejects.toMatchObject({ status: 404 });
    });
  });
});

describe("nodes starting together", () => {
  it("migrate one after another on the same PostgreSQL database", async () => {
    const { createScratchDatabase } = await import("../fixtures/postgres-database");
    const database = await createScratchDatabase("gatehouse_migrate");
    try {
      const handles = await Promise.all([1, 2, 3].map(() => openDatabase({ databaseUrl: database.url, dataDir: "unused" })));
      const rows = await handles[0]!.db.select().from(users);
      expect(rows).toEqual([]);
      await Promise.all(handles.map((handle) => handle.close()));
    } finally {
      await database.drop();
    }
  });
});
