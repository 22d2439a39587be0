// Terminal recordings: chunked asciicast in the blob store with a verifiable hash chain, a .cast export that
// the asciinema CLI plays, secrets typed at prompts masked, and nothing lost to an S3 outage or a crash.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BrowserContext } from "@playwright/test";
import postgres from "postgres";
import { createFsBlobStore } from "../lib/infra/blob-store/fs";
import { openDatabase } from "../lib/data/client";
import { createEvidenceKeys, installEvidenceKeys } from "../lib/infra/evidence-keys";
import { replay } from "../lib/protocol/recordings";
import { Keyframer } from "../server/recorder/keyframer";
import { TerminalRecorder } from "../server/recorder/terminal-recorder";
import { startGateway, type RunningGateway } from "../test/fixtures/gateway";
import { freePort } from "../test/fixtures/ports";
import { startS3Server, type RunningS3 } from "../test/fixtures/s3-server";
import { headlessTerminal, recordSynthetic, screenOf, syntheticSession } from "../test/fixtures/synthetic-terminal";
import { createCredential, createTarget, sshdUnderTest, TerminalClient } from "./fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const sshd = sshdUnderTest();
const run = Date.now().toString(36);

type CastEvent = [number, "o" | "i" | "r" | "m", string];

const clockText = (ms: number) => `${Math.floor(ms / 60_000)}:${String(Math.floor((ms / 1000) % 60)).padStart(2, "0")}`;

function parseCast(text: string) {
  const [header, ...lines] = text.trimEnd().split("\n");
  return { header: JSON.parse(header!) as Record<string, unknown>, events: lines.map((line) => JSON.parse(line) as CastEvent) };
}

test.describe("terminal recordings", () => {
  let alice: BrowserContext;
  let bob: BrowserContext;
  let sam: BrowserContext;
  let sql: postgres.Sql;
  let targetId: string;

  test.beforeAll(async ({ browser }) => {
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    [alice, bob, sam] = [await browser.newContext(), await browser.newContext(), await browser.newContext()];
    await signInWithSso(await alice.newPage(), "alice");
    await signInWithSso(await bob.newPage(), "bob");
    await signInWithSso(await sam.newPage(), "sam");
    const credential = await createCredential(alice.request, { name: `rec-${run}`, kind: "password", username: sshd.username, secret: sshd.password });
    targetId = await createTarget(alice.request, { name: `rec-${run}`, protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["bob"], credentialId: credential });
  });

  test.afterAll(async () => {
    for (const context of [alice, bob, sam]) await context?.close();
    await sql?.end();
  });

  async function recordSession(nodeUrl = ssoUrl(), script: (terminal: TerminalClient) => Promise<void>) {
    const terminal = await TerminalClient.open(bob, targetId, { cols: 80, rows: 24 }, nodeUrl);
    const { sessionId } = await terminal.waitForMessage("connected");
    await script(terminal);
    return { terminal, sessionId };
  }

  /** Records a session on the main node, closes it, and waits until its row says it ended. */
  async function recordEndedSession(script: (terminal: TerminalClient) => Promise<void>) {
    const recorded = await recordSession(ssoUrl(), script);
    await recorded.terminal.close();
    await expect.poll(async () => (await sql`select status from sessions where id = ${recorded.sessionId}`)[0]?.status).toBe("ended");
    return recorded;
  }

  const castOf = async (sessionId: string) => {
    const response = await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/export`);
    expect(response.status()).toBe(200);
    return response.text();
  };

  test("records output, input and resizes; the chain verifies; the export plays in asciinema", async () => {
    const { terminal, sessionId } = await recordEndedSession(async (terminal) => {
      terminal.type("echo rec-$((2+3))\r");
      await terminal.waitForOutput("\rrec-5\r\n");
      terminal.control({ type: "resize", cols: 100, rows: 30 });
      terminal.type("echo 日本語-👋\r");
      await terminal.waitForOutput("\r日本語-👋\r\n");
    });

    const verdict = await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/verify`);
    expect(await verdict.json()).toMatchObject({ intact: true });

    const cast = await castOf(sessionId);
    const { header, events } = parseCast(cast);
    expect(header).toMatchObject({ version: 2, width: 80, height: 24, title: `bob@rec-${run}` });
    expect(events.every(([time], index) => index === 0 || time >= events[index - 1]![0])).toBe(true);
    const output = events.filter(([, code]) => code === "o").map(([, , text]) => text).join("");
    expect(output).toBe(terminal.output);
    expect(events.filter(([, code]) => code === "i").map(([, , text]) => text).join("")).toContain("echo rec-$((2+3))\r");
    expect(events).toContainEqual([expect.any(Number), "r", "100x30"]);

    const folder = mkdtempSync(path.join(tmpdir(), "gatehouse-cast-"));
    try {
      writeFileSync(path.join(folder, "session.cast"), cast);
      // asciinema cat wants a terminal: give it one that passes bytes through unchanged.
      const played = execFileSync("script", ["-qec", `stty -onlcr; asciinema cat ${path.join(folder, "session.cast")}`, "/dev/null"], { encoding: "utf8" });
      expect(played).toBe(output);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test("a flood faster than its recording is stored waits for the store: the target is held, nothing piles up or is lost", async () => {
    test.setTimeout(120_000);
    const lockingClient = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    const locker = await lockingClient.reserve();
    try {
      const { terminal, sessionId } = await recordSession(ssoUrl(), async (terminal) => {
        terminal.type("echo flood-ready\r");
        await terminal.waitForOutput("\rflood-ready\r\n");
      });
      // The store stops taking this recording: its session's row is locked, so its chunks' rows wait on the
      // foreign key, as they would behind a slow database.
      await locker`begin`;
      await locker`select 1 from sessions where id = ${sessionId} for update`;
      const before = terminal.output.length;
      terminal.type("head -c 30000000 /dev/zero | base64 -w 0; echo; echo flood-$((6*7))-done\r");
      let seen = -1;
      await expect
        .poll(
          () => {
            const held = terminal.output.length === seen && seen > before + 1_000_000;
            seen = terminal.output.length;
            return held;
          },
          { intervals: [2_000], timeout: 30_000 },
        )
        .toBe(true);
      // 40 MB of output, held at the recording's bound (8 MiB) plus what sockets and the SSH window carry.
      expect(terminal.output.length - before).toBeLessThan(20_000_000);
      expect(terminal.output).not.toContain("flood-42-done");
      await locker`rollback`;
      // The end of the output, not all 40 MB of it at every frame.
      await terminal.waitFor((client) => client.recent.includes("flood-42-done"), 60_000, "the flood's end");
      await terminal.close();
      await expect.poll(async () => (await sql`select status from sessions where id = ${sessionId}`)[0]?.status).toBe("ended");
      await expect
        .poll(async () => ((await (await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/verify`, { headers: { origin: ssoUrl() } })).json()) as { intact: boolean }).intact, { timeout: 20_000 })
        .toBe(true);
      const output = parseCast(await castOf(sessionId)).events.filter(([, code]) => code === "o").map(([, , text]) => text).join("");
      expect(output.length).toBe(terminal.output.length);
      expect(output === terminal.output).toBe(true);
    } finally {
      locker.release();
      await lockingClient.end();
    }
  });

  test("masks what is typed at a password prompt", async () => {
    const { sessionId } = await recordEndedSession(async (terminal) => {
      // The prompt is assembled at run time so that the echo of this command line does not already show it.
      terminal.type(`read -s -p "$(printf Pass)word: " secret; echo; echo got-\${#secret}-chars\r`);
      await terminal.waitForOutput(/\rPassword: $/);
      terminal.type("s3cr3t-typed-at-prompt\r");
      await terminal.waitForOutput("got-22-chars");
      terminal.type("echo after-prompt\r");
      await terminal.waitForOutput("\rafter-prompt\r\n");
    });
    const cast = await castOf(sessionId);
    expect(cast).not.toContain("s3cr3t-typed-at-prompt");
    const inputs = parseCast(cast).events.filter(([, code]) => code === "i").map(([, , text]) => text).join("");
    expect(inputs).toContain("[masked]\r");
    expect(inputs).toContain("echo after-prompt\r");
  });

  test("detects a tampered chunk and tells where", async () => {
    const { sessionId } = await recordEndedSession(async (terminal) => {
      terminal.type("echo tamper-me\r");
      await terminal.waitForOutput("\rtamper-me\r\n");
    });
    const [chunk] = await sql`select seq, sha256 from recording_chunks where session_id = ${sessionId} order by seq limit 1`;
    await sql`update recording_chunks set sha256 = ${"f".repeat(64)} where session_id = ${sessionId} and seq = ${chunk!.seq}`;
    const verdict = await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/verify`);
    expect(await verdict.json()).toMatchObject({ intact: false, brokenAtSeq: chunk!.seq, problem: "content changed" });
    await sql`update recording_chunks set sha256 = ${chunk!.sha256} where session_id = ${sessionId} and seq = ${chunk!.seq}`;
  });

  test("only reviewers and admins open recordings; ids cannot be guessed into one", async () => {
    const { sessionId } = await recordEndedSession(async (terminal) => {
      terminal.type("echo private\r");
      await terminal.waitForOutput("\rprivate\r\n");
    });
    const session = { id: sessionId };
    for (const [who, context] of [["bob (the session's own user)", bob], ["sam (security)", sam]] as const) {
      expect((await context.request.get(`${ssoUrl()}/api/recordings/${session.id}/export`)).status(), who).toBe(403);
      expect((await context.request.get(`${ssoUrl()}/api/recordings/${session.id}/verify`)).status(), who).toBe(403);
      expect((await context.request.get(`${ssoUrl()}/api/recordings/${session.id}/window?at=0`)).status(), who).toBe(403);
      expect((await context.request.get(`${ssoUrl()}/api/recordings/${session.id}/commands`)).status(), who).toBe(403);
      const page = await context.newPage();
      expect((await page.goto(`${ssoUrl()}/recordings/${session.id}`))!.status(), who).toBe(403);
      await page.close();
    }
    expect((await alice.request.get(`${ssoUrl()}/api/recordings/not-a-uuid/export`)).status()).toBe(404);
    expect((await alice.request.get(`${ssoUrl()}/api/recordings/not-a-uuid/window?at=0`)).status()).toBe(404);
    expect((await alice.request.get(`${ssoUrl()}/api/recordings/00000000-0000-4000-8000-000000000000/window?at=0`)).status()).toBe(404);
    const badQuery = await alice.request.get(`${ssoUrl()}/api/recordings/${session.id}/window?at=-5`);
    expect(badQuery.status()).toBe(400);
    expect(await badQuery.json()).toMatchObject({ error: "Ask for ?at=<milliseconds> or ?seq=<chunk number>" });
    const viewer = await alice.newPage();
    await viewer.goto(`${ssoUrl()}/recordings/${session.id}?t=60`);
    await expect(viewer.getByTestId("player-terminal")).toContainText("echo private");
    await viewer.close();
    const [viewed] = await sql`select * from audit_log where action = 'recording.view' and object_id = ${session.id}`;
    expect(viewed?.actor_name).toBe("alice");
    expect((await alice.request.get(`${ssoUrl()}/api/recordings/00000000-0000-4000-8000-000000000000/export`)).status()).toBe(404);
    expect((await alice.request.get(`${ssoUrl()}/api/recordings/${session.id}/export`)).status()).toBe(200);
    const [exported] = await sql`select * from audit_log where action = 'recording.export' and object_id = ${session.id}`;
    expect(exported?.actor_name).toBe("alice");

    const hold = (context: BrowserContext, id: string) => context.request.patch(`${ssoUrl()}/api/sessions/${id}`, { headers: { origin: ssoUrl() }, data: { preventPurge: true } });
    expect((await hold(bob, session.id)).status()).toBe(403);
    expect((await hold(alice, "00000000-0000-4000-8000-000000000000")).status()).toBe(404);
    expect((await hold(alice, session.id)).status()).toBe(200);
    const [held] = await sql`select prevent_purge from sessions where id = ${session.id}`;
    expect(held!.prevent_purge).toBe(true);
    const [audited] = await sql`select * from audit_log where action = 'recording.prevent_purge' and object_id = ${session.id}`;
    expect(audited).toMatchObject({ actor_name: "alice", details: { preventPurge: true } });
  });

  test("the sessions list: users see their own without recordings; reviewers and admins see all with them", async () => {
    const { sessionId } = await recordEndedSession(async (terminal) => {
      terminal.type("echo listed\r");
      await terminal.waitForOutput("\rlisted\r\n");
    });
    const own = (await (await bob.request.get(`${ssoUrl()}/api/sessions?user=alice`)).json()) as { username: string }[];
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((row) => row.username === "bob")).toBe(true);

    const bobPage = await bob.newPage();
    await bobPage.goto(`${ssoUrl()}/recordings?target=rec-${run}`);
    await expect(bobPage.getByRole("heading", { name: "Sessions", level: 1 })).toBeVisible();
    await expect(bobPage.locator("tbody tr").first()).toBeVisible();
    await expect(bobPage.getByRole("link", { name: /Download the recording/ })).toHaveCount(0);
    await expect(bobPage.getByLabel("User")).toHaveCount(0);
    await bobPage.close();

    const alicePage = await alice.newPage();
    await alicePage.goto(`${ssoUrl()}/recordings`);
    await alicePage.getByLabel("Target").fill(`rec-${run}`);
    await alicePage.getByLabel("User").fill("bob");
    await alicePage.getByRole("button", { name: "Filter" }).click();
    await expect(alicePage).toHaveURL(new RegExp(`target=rec-${run}`));
    const rows = alicePage.locator("tbody tr");
    await expect(rows.first()).toBeVisible();
    for (const text of await rows.allTextContents()) expect(text).toContain(`rec-${run}`);
    const download = alicePage.getByRole("link", { name: `Download the recording of bob on rec-${run}` }).first();
    const cast = await alicePage.request.get(new URL((await download.getAttribute("href"))!, ssoUrl()).href);
    expect(cast.status()).toBe(200);
    expect((await cast.text()).split("\n")[0]).toContain('"version":2');

    await alicePage.goto(`${ssoUrl()}/recordings?from=not-a-date`);
    await expect(alicePage.getByRole("alert").filter({ hasText: "Use a date such as 2026-11-24" })).toBeVisible();
    await alicePage.goto(`${ssoUrl()}/recordings?to=2001-01-01`);
    await expect(alicePage.getByText("No sessions match")).toBeVisible();
    await alicePage.close();

    const samRows = (await (await sam.request.get(`${ssoUrl()}/api/sessions?target=rec-${run}`)).json()) as { username: string }[];
    expect(samRows.some((row) => row.username === "bob")).toBe(true);
    expect((await sam.request.get(`${ssoUrl()}/api/sessions?from=yesterday-ish`)).status()).toBe(400);
  });

  test("reading recordings is audited: one row per reader, recording and hour, every search, and the audit page filters them", { tag: "@security" }, async () => {
    const { sessionId } = await recordEndedSession(async (terminal) => {
      terminal.type("echo audited-read\r");
      await terminal.waitForOutput("\raudited-read\r\n");
    });
    const reads = async () => sql`select actor_name, details from audit_log where action = 'recording.read' and object_id = ${sessionId}`;
    expect(await reads()).toEqual([]);
    // The player's windows, the commands, a verification, several times over: one row for Alice this hour.
    for (const route of ["window?at=0", "commands", "verify", "window?at=500", "window?seq=0"]) expect((await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/${route}`)).status(), route).toBe(200);
    expect(await reads()).toEqual([{ actor_name: "alice", details: { how: "player", user: "bob", target: `rec-${run}` } }]);
    // Another reader has a row of their own (Sam, made a reviewer for the moment).
    const samId = (await sql`select id from users where username = 'sam'`)[0]!.id as string;
    const grant = (grantedRoles: string[]) => alice.request.patch(`${ssoUrl()}/api/admin/users/${samId}`, { headers: { origin: ssoUrl() }, data: { grantedRoles } });
    expect((await grant(["reviewer"])).status()).toBe(200);
    expect((await sam.request.get(`${ssoUrl()}/api/recordings/${sessionId}/verify`)).status()).toBe(200);
    expect((await grant([])).status()).toBe(200);
    expect((await reads()).map((row) => row.actor_name).sort()).toEqual(["alice", "sam"]);
    // A search is audited with its words, once per reader and hour.
    const query = `audited-query-${run}`;
    for (let again = 0; again < 3; again++) expect((await alice.request.get(`${ssoUrl()}/api/recordings/search?q=${query}`)).status()).toBe(200);
    expect(await sql`select details from audit_log where action = 'recording.search' and actor_name = 'alice' and details->>'query' = ${query}`).toHaveLength(1);

    const page = await alice.newPage();
    await page.goto(`${ssoUrl()}/admin/audit`);
    await page.getByLabel("Action starts with").fill("recording.");
    await page.getByLabel("Actor").fill("sam");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page).toHaveURL(/action=recording\.&actor=sam/);
    const actions = await page.getByRole("table", { name: "Audit entries" }).locator("tbody tr td:nth-child(4)").allTextContents();
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.every((action) => action.startsWith("recording."))).toBe(true);
    expect(await page.getByRole("table", { name: "Audit entries" }).locator("tbody tr td:nth-child(3)").allTextContents()).toEqual(actions.map(() => "sam"));
    await page.close();
  });

  test("search finds what was typed and shown, with the session and the second; secrets are not searchable", async () => {
    const marker = `needle${run}`;
    const { sessionId } = await recordEndedSession(async (terminal) => {
      await new Promise((resolve) => setTimeout(resolve, 1200));
      terminal.type(`echo ${marker}-oops\x7f\x7f\x7f\x7fshown\r`);
      await terminal.waitForOutput(`\r${marker}-shown\r\n`);
      terminal.type(`read -s -p "$(printf Pass)word: " secret\r`);
      await terminal.waitForOutput(/\rPassword: $/);
      terminal.type(`hidden${run}\r`);
      terminal.type("echo done\r");
      await terminal.waitForOutput("\rdone\r\n");
    });

    const search = async (query: string) => {
      const response = await alice.request.get(`${ssoUrl()}/api/recordings/search?q=${encodeURIComponent(query)}`);
      expect(response.status()).toBe(200);
      return (await response.json()) as { sessionId: string; atMs: number; kind: string; text: string; before: string | null; after: string | null }[];
    };
    const hits = await search(marker);
    expect(hits.map((hit) => [hit.kind, hit.text])).toEqual(
      expect.arrayContaining([
        ["command", `echo ${marker}-shown`],
        ["output", `${marker}-shown`],
      ]),
    );
    const command = hits.find((hit) => hit.kind === "command")!;
    expect(command.sessionId).toBe(sessionId);
    expect(command.atMs).toBeGreaterThanOrEqual(1200);
    expect(hits.find((hit) => hit.kind === "output")!.before).toContain(`echo ${marker}-`);
    expect(await search(`hidden${run}`)).toEqual([]);

    // The same search on the Sessions page; a hit opens the player at its second.
    const page = await alice.newPage();
    await page.goto(`${ssoUrl()}/recordings`);
    await page.getByRole("searchbox").fill(marker);
    await page.getByRole("button", { name: "Search" }).click();
    const results = page.getByRole("region", { name: "Search results" });
    await expect(results.getByText(`$ echo ${marker}-shown`)).toBeVisible();
    await results.getByRole("link").first().click();
    await expect(page).toHaveURL(new RegExp(`/recordings/${sessionId}\\?t=2$`));
    await expect(page.getByTestId("player-terminal").locator(".xterm-rows")).toContainText(`echo ${marker}-`);
    await page.close();

    expect((await bob.request.get(`${ssoUrl()}/api/recordings/search?q=${marker}`)).status()).toBe(403);
    expect((await sam.request.get(`${ssoUrl()}/api/recordings/search?q=${marker}`)).status()).toBe(403);
    const tooShort = await alice.request.get(`${ssoUrl()}/api/recordings/search?q=x`);
    expect(tooShort.status()).toBe(400);
    expect(await tooShort.json()).toMatchObject({ error: "Search for at least 2 characters" });
  });

  test("a long recording opens at a late second from its nearest keyframe, shows the true screen, and plays on", async () => {
    test.setTimeout(120_000);
    // Twenty minutes of synthetic shell use, recorded by the real recorder and keyframer into this gateway's store,
    // signed and encrypted with the gateway's keys (from its master key).
    installEvidenceKeys(createEvidenceKeys({ masterKey: Buffer.from(JSON.parse(process.env.E2E_SSO_ENV!).GATEHOUSE_MASTER_KEY, "hex") }));
    const handle = await openDatabase({ databaseUrl: process.env.E2E_DATABASE_URL!, dataDir: "unused" });
    const blobStore = createFsBlobStore(path.join(JSON.parse(process.env.E2E_SSO_ENV!).DATA_DIR, "blobs"));
    const keyframer = new Keyframer(handle.db, blobStore);
    keyframer.start();
    const [bobRow] = await sql`select id from users where username = 'bob'`;
    const [session] = await sql`insert into sessions (user_id, target_name, protocol, node, status) values (${bobRow!.id}, 'synthetic', 'ssh', 'e2e-synthetic', 'active') returning id`;
    const sessionId = session!.id as string;
    const startedAt = Date.now() - 20 * 60_000;
    const clock = { nowMs: startedAt };
    const recorder = new TerminalRecorder({ db: handle.db, blobStore, sessionId, startedAt, size: { cols: 120, rows: 40 }, title: "synthetic", keyframes: keyframer.feed(sessionId), now: () => clock.nowMs });
    const steps = [...syntheticSession({ durationMs: 20 * 60_000, bytesPerSecond: 3000, seed: 5 })];
    await recordSynthetic(recorder, clock, startedAt, steps);
    await recorder.close();
    await sql`update sessions set status = 'ended', ended_at = now() where id = ${sessionId}`;
    await expect.poll(async () => (await sql`select keyframed_seq from sessions where id = ${sessionId}`)[0]?.keyframed_seq, { timeout: 30_000 }).not.toBeNull();
    keyframer.stop();
    await handle.close();

    // The true screen at 15:00, from a terminal fed everything up to then.
    const moment = 15 * 60_000;
    const truth = headlessTerminal(120, 40);
    await replay(truth, steps.filter((step) => step.atMs <= moment).map((step) => [step.atMs / 1000, step.code, step.data]));
    const expected = screenOf(truth).lines.filter((line) => line.trim().length > 20);
    expect(expected.length).toBeGreaterThan(3);

    const page = await alice.newPage();
    const fetched: string[] = [];
    page.on("request", (request) => request.url().includes(`/api/recordings/${sessionId}/`) && fetched.push(new URL(request.url()).pathname + new URL(request.url()).search));
    await page.goto(`${ssoUrl()}/recordings/${sessionId}?t=900`);
    const screen = page.getByTestId("player-terminal").locator(".xterm-rows");
    for (const line of expected) await expect(screen).toContainText(line.trim());
    await expect(page.getByTestId("player-clock")).toHaveText(/^15:00 \/ 1\d:\d\d$/);
    // It read the nearest keyframe and what follows, never the whole recording.
    expect(fetched.filter((url) => url.includes("/window?at="))).toEqual([`/api/recordings/${sessionId}/window?at=900000`]);
    expect(fetched.some((url) => url.includes("/cast"))).toBe(false);
    const window = await (await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/window?at=900000`)).json();
    const [nearest] = await sql`select max(at_ms) as at_ms from recording_keyframes where session_id = ${sessionId} and at_ms <= 900000`;
    expect(window.keyframe).not.toBeNull();
    expect(window.startMs).toBe(nearest!.at_ms);

    // Playing on fetches the next chunks ahead of the playhead.
    await page.getByLabel("Speed", { exact: true }).selectOption("16");
    await page.getByRole("button", { name: "Play" }).click();
    // Playing on to the end fetches the rest ahead of the playhead, and ends on the true last screen.
    await expect(page.getByRole("button", { name: "Play" })).toBeVisible({ timeout: 60_000 });
    expect(fetched.filter((url) => url.includes("/window?seq=")).length).toBeGreaterThan(0);
    await replay(truth, steps.filter((step) => step.atMs > moment).map((step) => [step.atMs / 1000, step.code, step.data]));
    for (const line of screenOf(truth).lines.filter((text) => text.trim().length > 20)) await expect(screen).toContainText(line.trim());
    truth.dispose();
    const end = clockText(steps.at(-1)!.atMs);
    await expect(page.getByTestId("player-clock")).toHaveText(`${end} / ${end}`);
  });

  test("the web player replays, seeks to a command, shows the verification, and lets nothing in the recording act", async () => {
    const { sessionId } = await recordEndedSession(async (terminal) => {
      // Typed, echoed, then entered, as a person does: the screen at the command's marker shows the line.
      terminal.type("echo first-$((1))");
      await terminal.waitForOutput("echo first-$((1))");
      terminal.type("\r");
      await terminal.waitForOutput("\rfirst-1\r\n");
      await new Promise((resolve) => setTimeout(resolve, 1200));
      terminal.type("printf '\\e]0;pwned-title\\a\\e]52;c;ZXZpbA==\\a\\e]8;;javascript:alert(1)\\aclick-me\\e]8;;\\a \\e]8;;http://127.0.0.1:9/phish\\aweb-link\\e]8;;\\a\\n'\r");
      await terminal.waitForOutput("click-me");
      terminal.type("echo last-$((2))\r");
      await terminal.waitForOutput("\rlast-2\r\n");
    });
    const page = await alice.newPage();
    let dialogs = 0;
    page.on("dialog", async (dialog) => {
      dialogs += 1;
      await dialog.dismiss();
    });
    await page.goto(`${ssoUrl()}/recordings/${sessionId}`);
    const screen = page.getByTestId("player-terminal").locator(".xterm-rows");
    await expect(page.getByTestId("verification")).toHaveText(/^Verified: all \d+ chunks present, unaltered and signed, sealed when the recording ended\.$/);
    const title = await page.title();

    await page.getByLabel("Speed", { exact: true }).selectOption("16");
    await page.getByRole("button", { name: "Play" }).click();
    await expect(screen).toContainText("last-2");
    await expect(page.getByRole("button", { name: "Play" })).toBeVisible();
    // Click where each link is drawn, as a person would (xterm's own layer receives the click).
    const pagesBefore = page.context().pages().length;
    for (const text of ["click-me", "web-link"]) {
      const link = await screen.getByText(text, { exact: true }).boundingBox();
      await page.mouse.move(link!.x + link!.width / 2, link!.y + link!.height / 2);
      await page.mouse.click(link!.x + link!.width / 2, link!.y + link!.height / 2);
      await page.waitForTimeout(300);
    }
    expect(page.context().pages()).toHaveLength(pagesBefore);
    expect(page.url()).toBe(`${ssoUrl()}/recordings/${sessionId}`);
    expect(await page.title()).toBe(title);
    expect(dialogs).toBe(0);

    // The command's mark on the activity strip, under the scrub bar.
    await page.getByRole("region", { name: "Activity in the recording" }).getByRole("button", { name: /echo first-\$\(\(1\)\)$/ }).click();
    await expect(screen).toContainText("echo first-$((1))");
    await expect(screen).not.toContainText("last-2");
    await page.getByTestId("player-terminal").focus();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    await expect(screen).toContainText("last-2");

    await page.goto(`${ssoUrl()}/recordings/${sessionId}?t=0`);
    await expect(page.getByTestId("player-clock")).toHaveText(/^0:00 \/ 0:0\d$/);

    const [chunk] = await sql`select seq, sha256 from recording_chunks where session_id = ${sessionId} order by seq limit 1`;
    await sql`update recording_chunks set sha256 = ${"e".repeat(64)} where session_id = ${sessionId} and seq = ${chunk!.seq}`;
    await page.reload();
    await expect(page.getByTestId("verification")).toHaveText(new RegExp(`^Not verified: chunk ${chunk!.seq} of \\d+ — content changed`));
    await sql`update recording_chunks set sha256 = ${chunk!.sha256} where session_id = ${sessionId} and seq = ${chunk!.seq}`;
    await page.close();

    const bobPage = await bob.newPage();
    expect((await bobPage.goto(`${ssoUrl()}/recordings/${sessionId}`))?.status()).toBe(403);
    await bobPage.close();
  });

  test("a session's page shows it whole, one timeline of its events, audit rows and commands, each playing the recording from its moment", async () => {
    const { sessionId } = await recordEndedSession(async (terminal) => {
      terminal.type("echo opening-$((1))\r");
      await terminal.waitForOutput("\ropening-1\r\n");
      const { sessionId: id } = await terminal.waitForMessage("connected");
      const locked = await alice.request.post(`${ssoUrl()}/api/sessions/${id}/control`, { headers: { origin: ssoUrl() }, data: { action: "lock", reason: "checking the change window" } });
      expect(locked.status()).toBe(200);
      const unlocked = await alice.request.post(`${ssoUrl()}/api/sessions/${id}/control`, { headers: { origin: ssoUrl() }, data: { action: "unlock", reason: "window confirmed" } });
      expect(unlocked.status()).toBe(200);
      // A few seconds in, so that a link counted in the wrong unit would land elsewhere.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      terminal.type("echo closing-$((2))\r");
      await terminal.waitForOutput("\rclosing-2\r\n");
    });
    const [closing] = await sql`select at_ms from transcript_lines where session_id = ${sessionId} and kind = 'command' and text like 'echo closing-%'`;
    expect(closing!.at_ms).toBeGreaterThanOrEqual(2500);
    const [opening] = await sql`select at_ms from transcript_lines where session_id = ${sessionId} and kind = 'command' and text like 'echo opening-%'`;

    // Reached from the sessions list.
    const page = await alice.newPage();
    await page.goto(`${ssoUrl()}/recordings?user=bob`);
    await page.getByRole("link", { name: `Details of bob on rec-${run}` }).first().click();
    await page.waitForURL(`${ssoUrl()}/sessions/${sessionId}`);
    const facts = page.getByLabel("Session facts");
    await expect(facts).toContainText(`Userbob`);
    await expect(facts).toContainText(/Connected from(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)/);
    await expect(facts).toContainText("ended");
    await expect(facts).toContainText("(user closed)");
    await expect(facts).toContainText(/Data\d+(\.\d)? (B|KiB) from the user · \d+(\.\d)? (B|KiB) to the user/);
    await expect(facts).toContainText("Access requestnone: standing access");
    const timeline = page.getByLabel("Session timeline");
    await expect(timeline.locator('[data-source="command"]')).toHaveText([/\$ echo opening-\$\(\(1\)\)/, /\$ echo closing-\$\(\(2\)\)/]);
    await expect(timeline.locator('[data-source="session"]').filter({ hasText: "lock by alice: checking the change window" })).toHaveCount(1);
    await expect(timeline.locator('[data-source="audit"]').filter({ hasText: "session.lock by alice: checking the change window" })).toHaveCount(1);
    await expect(timeline.locator('[data-source="audit"]').filter({ hasText: "session.unlock by alice: window confirmed" })).toHaveCount(1);
    // Oldest first, the lock between the two commands.
    const order = await timeline.locator("li").allTextContents();
    const at = (text: string) => order.findIndex((line) => line.includes(text));
    expect(at("echo opening")).toBeLessThan(at("lock by alice"));
    expect(at("lock by alice")).toBeLessThan(at("echo closing"));

    // A moment's link opens the player at that second (seconds, not milliseconds), the line on screen.
    await timeline.locator('[data-source="command"]').filter({ hasText: "closing" }).getByRole("link").click();
    await page.waitForURL(new RegExp(`/recordings/${sessionId}\\?t=`));
    await expect(page.getByTestId("player-clock")).toHaveText(new RegExp(`^${clockText(closing!.at_ms)} / `));
    await expect(page.getByTestId("player-terminal").locator(".xterm-rows")).toContainText("echo closing-$((2))");
    // Under the scrub bar, where things happened: output over time, and a mark for each command and control.
    const strip = page.getByRole("region", { name: "Activity in the recording" });
    await expect(strip.locator('[data-source="command"]')).toHaveCount(2);
    await expect(strip.getByRole("button", { name: /^\d+:\d\d: lock by alice: checking the change window$/ })).toHaveCount(1);
    const shares = (await page.getByTestId("activity-density").locator("[data-share]").evaluateAll((bars) => bars.map((bar) => Number(bar.getAttribute("data-share"))))) as number[];
    expect(shares).toHaveLength(120);
    expect(Math.max(...shares)).toBe(1);
    expect(shares.filter((share) => share === 0).length).toBeGreaterThan(10);
    // A mark moves the player there, in place.
    await strip.getByRole("button", { name: /echo opening/ }).click();
    await expect(page.getByTestId("player-clock")).toHaveText(new RegExp(`^${clockText(opening!.at_ms)} / `));
    await expect(page.getByTestId("player-terminal").locator(".xterm-rows")).toContainText("echo opening-$((1))");
    await page.close();

    // Opening it is audited; a user who may not open the recording gets no page, an unknown session a 404.
    await expect.poll(async () => (await sql`select count(*)::int as n from audit_log where action = 'session.view' and object_id = ${sessionId} and actor_name = 'alice'`)[0]!.n).toBe(1);
    const bobPage = await bob.newPage();
    expect((await bobPage.goto(`${ssoUrl()}/sessions/${sessionId}`))?.status()).toBe(403);
    expect((await bobPage.goto(`${ssoUrl()}/sessions/00000000-0000-4000-8000-000000000000`))?.status()).toBe(404);
    expect((await bobPage.goto(`${ssoUrl()}/sessions/not-a-session`))?.status()).toBe(404);
    await bobPage.close();
  });

  test.describe("on a node that stores recordings in S3", () => {
    let s3: RunningS3;
    let node: RunningGateway;
    const nodeEnvironment = (port: number, dataDir: string) => ({
      ...JSON.parse(process.env.E2E_SSO_ENV!),
      NODE_NAME: `e2e-s3-${run}`,
      DATA_DIR: dataDir,
      PUBLIC_URL: `http://localhost:${port}`,
      BLOB_STORE: "s3",
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3.bucket,
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
      S3_FORCE_PATH_STYLE: "true",
    });
    let port: number;
    let dataDir: string;

    test.beforeAll(async () => {
      s3 = await startS3Server();
      port = await freePort();
      dataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-e2e-s3-node-"));
      node = await startGateway({ port, env: nodeEnvironment(port, dataDir), logFile: path.resolve(".test-artifacts/gateway-s3.log") });
    });
    test.afterAll(async () => {
      await node?.stop();
      await s3?.remove();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test("an S3 outage in the middle of a session loses nothing", async () => {
      const { terminal, sessionId } = await recordSession(node.url, async (terminal) => {
        terminal.type("echo before-outage\r");
        await terminal.waitForOutput("\rbefore-outage\r\n");
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await s3.stop();
        for (let line = 1; line <= 5; line++) {
          terminal.type(`echo during-outage-${line}\r`);
          await terminal.waitForOutput(`\rduring-outage-${line}\r\n`);
          await new Promise((resolve) => setTimeout(resolve, 400));
        }
        await s3.start();
        terminal.type("echo after-outage\r");
        await terminal.waitForOutput("\rafter-outage\r\n");
      });
      await terminal.close();
      await expect.poll(async () => (await sql`select status from sessions where id = ${sessionId}`)[0]?.status).toBe("ended");
      await expect
        .poll(async () => ((await (await alice.request.get(`${node.url}/api/recordings/${sessionId}/verify`, { headers: { origin: node.url } })).json()) as { intact: boolean }).intact, { timeout: 20_000 })
        .toBe(true);
      const cast = await (await alice.request.get(`${node.url}/api/recordings/${sessionId}/export`)).text();
      const output = parseCast(cast).events.filter(([, code]) => code === "o").map(([, , text]) => text).join("");
      expect(output).toBe(terminal.output);
      for (const line of ["before-outage", "during-outage-3", "after-outage"]) expect(output).toContain(line);
    });

    test("kill -9 in the middle of a session: the recording holds everything up to the last second and the session is interrupted", async () => {
      const { terminal, sessionId } = await recordSession(node.url, async (terminal) => {
        terminal.type("echo written-before-crash\r");
        await terminal.waitForOutput("\rwritten-before-crash\r\n");
        await new Promise((resolve) => setTimeout(resolve, 1500));
      });
      process.kill(node.pid, "SIGKILL");
      await terminal.closed;
      expect((await sql`select status from sessions where id = ${sessionId}`)[0]?.status).toBe("active");

      node = await startGateway({ port, env: nodeEnvironment(port, dataDir), logFile: path.resolve(".test-artifacts/gateway-s3-restarted.log") });
      const [row] = await sql`select status, end_reason, ended_at, started_at from sessions where id = ${sessionId}`;
      expect(row).toMatchObject({ status: "ended", end_reason: "interrupted" });
      expect(row!.ended_at.getTime()).toBeGreaterThan(row!.started_at.getTime());
      const cast = await (await alice.request.get(`${node.url}/api/recordings/${sessionId}/export`)).text();
      expect(cast).toContain("written-before-crash");
      expect(await (await alice.request.get(`${node.url}/api/recordings/${sessionId}/verify`)).json()).toMatchObject({ intact: true });
    });
  });
});
