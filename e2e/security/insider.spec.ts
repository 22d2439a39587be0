// An insider with write access to the database (not to the gateway's keys) tries to rewrite the evidence behind
// a running gateway's back: an audit row edited with every later hash recomputed, the newest audit rows cut off,
// a recording's last chunks deleted. The gateway's own verification — the Audit log page, the recording's verify
// route — says so, naming the first bad row or chunk. What was changed is put back afterwards.
import type { BrowserContext } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import { auditRowHash, chainLockKey } from "../../lib/data/audit";
import { createEvidenceKeys } from "../../lib/infra/evidence-keys";
import { createCredential, createTarget, sshdUnderTest, TerminalClient } from "../fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "../fixtures/test";

const sshd = sshdUnderTest();
const run = Date.now().toString(36);
/** Keys of the insider's own: a plain row's hash (no key) is all they can compute that the gateway accepts. */
const insiderKeys = createEvidenceKeys({ masterKey: randomBytes(32) });

test.describe("an insider with the database", { tag: "@security" }, () => {
  let alice: BrowserContext;
  let bob: BrowserContext;
  let sql: postgres.Sql;

  test.beforeAll(async ({ browser }) => {
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    [alice, bob] = [await browser.newContext(), await browser.newContext()];
    await signInWithSso(await alice.newPage(), "alice");
    await signInWithSso(await bob.newPage(), "bob");
  });

  test.afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await sql?.end();
  });

  /**
   * Holds the chain's append lock while rows are changed and put back: the gateway goes on auditing in the
   * background, and a row appended meanwhile would chain to a forged or missing row and stay broken after.
   */
  async function withAppendsHeld(work: () => Promise<void>) {
    await sql`select pg_advisory_lock(${chainLockKey})`;
    try {
      await work();
    } finally {
      await sql`select pg_advisory_unlock(${chainLockKey})`;
    }
  }

  const auditReport = async () => ((await (await alice.request.get(`${ssoUrl()}/api/admin/audit`)).json()) as { chain: { intact: boolean; brokenAtSeq?: number; problem?: string; detail?: string; anchors?: number } }).chain;

  test("edits an audit row and recomputes every later hash the old way: the chain breaks at that row", async () => {
    expect(await auditReport()).toMatchObject({ intact: true });
    // Signed rows before the victim: a plain row can then only be a forgery.
    for (let index = 0; index < 8; index++) expect((await alice.request.get(`${ssoUrl()}/api/recordings/search?q=before-${run}-${index}`)).status()).toBe(200);
    await withAppendsHeld(async () => {
      const rows = await sql`select * from audit_log order by seq desc limit 5`;
      const ordered = [...rows].reverse();
      const victim = ordered[0]!;
      let previous = victim.prev_hash as string;
      for (const row of ordered) {
        const content = {
          at: row.at, actorId: row.actor_id, actorName: row.seq === victim.seq ? "nobody" : row.actor_name, action: row.action, outcome: row.outcome,
          objectType: row.object_type, objectId: row.object_id, sourceIp: row.source_ip, details: row.details, prevHash: previous, keyId: null,
        };
        const hash = auditRowHash(content, insiderKeys)!;
        await sql`update audit_log set actor_name = ${content.actorName}, prev_hash = ${previous}, hash = ${hash}, key_id = null where seq = ${row.seq}`;
        previous = hash;
      }
      try {
        expect(await auditReport()).toMatchObject({ intact: false, brokenAtSeq: Number(victim.seq), problem: "unsigned row" });
        const page = await alice.newPage();
        await page.goto(`${ssoUrl()}/admin/audit`);
        await expect(page.getByRole("status")).toContainText(`Chain broken at entry #${victim.seq} (unsigned row)`);
        await page.close();
      } finally {
        for (const row of ordered) await sql`update audit_log set actor_name = ${row.actor_name}, prev_hash = ${row.prev_hash}, hash = ${row.hash}, key_id = ${row.key_id} where seq = ${row.seq}`;
      }
    });
    expect(await auditReport()).toMatchObject({ intact: true });
  });

  test("cuts off the newest audit rows: the anchors outside the database say how far the chain reached", async () => {
    await expect.poll(async () => (await auditReport()).anchors ?? 0, { timeout: 15_000 }).toBeGreaterThan(0);
    // New rows, anchored, then cut off.
    for (let index = 0; index < 3; index++) expect((await alice.request.get(`${ssoUrl()}/api/recordings/search?q=insider-${run}-${index}`)).status()).toBe(200);
    const [head] = await sql`select max(seq)::int as seq from audit_log`;
    // The gateway anchors every 3 s here: wait until its anchor file has reached the head.
    const anchorFile = path.join(JSON.parse(process.env.E2E_SSO_ENV!).DATA_DIR, "audit-anchors.jsonl");
    const anchoredSeq = () => Math.max(0, ...readFileSync(anchorFile, "utf8").split("\n").filter(Boolean).map((line) => (JSON.parse(line) as { seq: number }).seq));
    await expect.poll(anchoredSeq, { timeout: 15_000 }).toBeGreaterThanOrEqual(head!.seq);
    await withAppendsHeld(async () => {
      const cut = await sql`select * from audit_log where seq > ${head!.seq - 3} order by seq`;
      await sql`delete from audit_log where seq > ${head!.seq - 3}`;
      try {
        const report = await auditReport();
        expect(report).toMatchObject({ intact: false, problem: "truncated" });
        // The gateway may have appended (and anchored) a row or two after `head` was read: the newest anchor counts.
        expect(report.detail).toMatch(new RegExp(`but #${anchoredSeq()} was anchored at`));
      } finally {
        for (const row of cut) await sql`insert into audit_log ${sql(row as Record<string, unknown>)}`;
      }
    });
    expect(await auditReport()).toMatchObject({ intact: true });
  });

  test("deletes a recording's last chunks: its verification says the recording was cut short of its seal", async () => {
    const credential = await createCredential(alice.request, { name: `insider-${run}`, kind: "password", username: sshd.username, secret: sshd.password });
    const targetId = await createTarget(alice.request, { name: `insider-${run}`, protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["bob"], credentialId: credential });
    const terminal = await TerminalClient.open(bob, targetId);
    const { sessionId } = await terminal.waitForMessage("connected");
    for (let line = 0; line < 4; line++) {
      terminal.type(`echo evidence-${line}\r`);
      await terminal.waitForOutput(`\revidence-${line}\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    await terminal.close();
    const verify = async () => (await (await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/verify`)).json()) as { intact: boolean; sealed?: boolean; problem?: string; detail?: string; chunks: number };
    await expect.poll(async () => (await verify()).sealed, { timeout: 10_000 }).toBe(true);
    const { chunks } = await verify();
    expect(chunks).toBeGreaterThan(2);
    await sql`delete from recording_chunks where session_id = ${sessionId} and seq >= ${chunks - 2}`;
    expect(await verify()).toMatchObject({ intact: false, problem: "truncated", detail: `the recording was sealed with ${chunks} chunks; ${chunks - 2} are left` });
  });
});
