// SSH sessions through the gateway against Debian's OpenSSH on loopback, driven by a WebSocket client
// with the cookies of real SSO sign-ins.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import type { BrowserContext } from "@playwright/test";
import postgres from "postgres";
import { Client } from "ssh2";
import path from "node:path";
import { startGateway } from "../test/fixtures/gateway";
import { startSshd, type RunningSshd } from "../test/fixtures/sshd";
import { freePort } from "../test/fixtures/ports";
import { createCredential, createTarget, sshdUnderTest, TerminalClient } from "./fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const sshd = sshdUnderTest();
/** Names unique to this worker run: a retried worker runs beforeAll again against the same database. */
const run = Date.now().toString(36);
const named = (name: string) => `${name}-${run}`;

function runOnTarget(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on("ready", () =>
        client.exec(command, (error, stream) => {
          if (error) return reject(error);
          let output = "";
          stream.on("data", (data: Buffer) => (output += data.toString())).on("close", () => {
            client.end();
            resolve(output);
          });
        }),
      )
      .on("error", reject)
      .connect({ host: sshd.host, port: sshd.port, username: sshd.username, password: sshd.password });
  });
}

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;

test.describe("SSH sessions", () => {
  let alice: BrowserContext;
  let bob: BrowserContext;
  let sql: postgres.Sql;
  let silentServer: Server;
  let legacySshd: RunningSshd;
  const targets: Record<string, string> = {};

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(120_000);
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    alice = await browser.newContext();
    bob = await browser.newContext();
    await signInWithSso(await alice.newPage(), "alice");
    await signInWithSso(await bob.newPage(), "bob");
    silentServer = createServer(() => {}).listen(0, "127.0.0.1");
    legacySshd = await startSshd({ extraConfig: "KexAlgorithms diffie-hellman-group14-sha1\nCiphers aes128-cbc\nMACs hmac-sha1" });

    const api = alice.request;
    const password = await createCredential(api, { name: named("ssh-password"), kind: "password", username: sshd.username, secret: sshd.password });
    const key = await createCredential(api, { name: named("ssh-key"), kind: "private_key", username: sshd.username, secret: sshd.privateKey });
    const wrong = await createCredential(api, { name: named("ssh-wrong"), kind: "password", username: sshd.username, secret: "not-the-password" });
    const base = { protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["bob"], credentialId: password };
    targets.password = await createTarget(api, { ...base, name: named("ssh-password") });
    targets.key = await createTarget(api, { ...base, name: named("ssh-key"), credentialId: key });
    targets.wrong = await createTarget(api, { ...base, name: named("ssh-wrong-password"), credentialId: wrong });
    targets.pinnedWrong = await createTarget(api, { ...base, name: named("ssh-pinned-wrong"), hostKeyFingerprint: `SHA256:${"A".repeat(43)}` });
    targets.ttl = await createTarget(api, { ...base, name: named("ssh-ttl"), sessionTtlSeconds: 3, extensionSeconds: 2, maxSessionSeconds: 5 });
    targets.refused = await createTarget(api, { ...base, name: named("ssh-refused"), port: await freePort() });
    targets.unresolvable = await createTarget(api, { ...base, name: named("ssh-unresolvable"), host: "no-such-host.invalid" });
    targets.silent = await createTarget(api, { ...base, name: named("ssh-silent"), port: (silentServer.address() as { port: number }).port });
    targets.noCredential = await createTarget(api, { ...base, name: named("ssh-no-credential"), credentialId: null });
    targets.legacyOff = await createTarget(api, { ...base, name: named("ssh-legacy-off"), port: legacySshd.port });
    targets.legacyOn = await createTarget(api, { ...base, name: named("ssh-legacy-on"), port: legacySshd.port, legacyAlgorithms: true });
    targets.aliceOnly = await createTarget(api, { ...base, name: named("ssh-alice-only"), allowedUsers: ["alice"] });
  });

  test.afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await sql?.end();
    silentServer?.close();
    await legacySshd?.stop();
  });

  test("logs in with the vault's password, carries bytes both ways, and records the session", async () => {
    const terminal = await TerminalClient.open(bob, targets.password!);
    const { sessionId } = await terminal.waitForMessage("connected");
    terminal.type("echo hello-$((6*7))\r");
    await terminal.waitForOutput("hello-42");
    await terminal.close();
    await expect
      .poll(async () => (await sql`select * from sessions where id = ${sessionId}`)[0]?.status)
      .toBe("ended");
    const [row] = await sql`select s.*, u.username from sessions s join users u on u.id = s.user_id where s.id = ${sessionId}`;
    expect(row).toMatchObject({ username: "bob", target_name: named("ssh-password"), protocol: "ssh", node: "e2e-sso", end_reason: "user_closed" });
    expect(Number(row!.bytes_from_user)).toBe("echo hello-$((6*7))\r".length);
    expect(Number(row!.bytes_to_user)).toBeGreaterThan(20);
    expect(row!.ended_at.getTime()).toBeGreaterThanOrEqual(row!.started_at.getTime());
  });

  test("pins the host key on first use", async () => {
    const terminal = await TerminalClient.open(bob, targets.password!);
    await terminal.waitForMessage("connected");
    await terminal.close();
    const listing = (await (await alice.request.get(`${ssoUrl()}/api/admin/targets?q=${named("ssh-password")}`)).json()) as { name: string; hostKeyFingerprint: string | null }[];
    expect(listing.find((target) => target.name === named("ssh-password"))?.hostKeyFingerprint).toBe(sshd.hostKeyFingerprint);
    const [pinned] = await sql`select * from audit_log where action = 'target.host_key_pinned' and details->>'target' = ${named("ssh-password")}`;
    expect(pinned?.details.fingerprint).toBe(sshd.hostKeyFingerprint);
  });

  test("logs in with a private key", async () => {
    const terminal = await TerminalClient.open(bob, targets.key!);
    await terminal.waitForMessage("connected");
    terminal.type("whoami\r");
    await terminal.waitForOutput(`\r${sshd.username}\r\n`);
    await terminal.close();
  });

  test("opens the PTY at the browser's size and follows resizes", async () => {
    const terminal = await TerminalClient.open(bob, targets.password!, { cols: 91, rows: 27 });
    await terminal.waitForMessage("connected");
    terminal.type("stty size\r");
    await terminal.waitForOutput("27 91");
    terminal.control({ type: "resize", cols: 120, rows: 40 });
    terminal.type("stty size\r");
    await terminal.waitForOutput("40 120");
    await terminal.close();
  });

  test("round-trips UTF-8: CJK, emoji and combining marks", async () => {
    const text = "Ünïcødé 日本語 👋🏽 e\u0301";
    const terminal = await TerminalClient.open(bob, targets.password!);
    await terminal.waitForMessage("connected");
    // bash restores the terminal's line mode before it runs the line, so once READY shows, typed text queues for cat.
    terminal.type("stty iutf8; echo READY''-FOR-TEXT; cat\r");
    await terminal.waitForOutput("READY-FOR-TEXT\r\n");
    terminal.type(`${text}\r`);
    // Once echoed by the terminal, once written by cat.
    await terminal.waitFor((client) => client.output.split(text).length === 3, 10_000, "the text twice");
    terminal.type("\x04");
    await terminal.close();
  });

  test("refuses a changed host key, naming both fingerprints, and audits it", async () => {
    const terminal = await TerminalClient.open(bob, targets.pinnedWrong!);
    const ended = await terminal.waitForMessage("ended");
    expect(ended.reason).toBe("error");
    expect(ended.message).toBe(
      `host key for ${named("ssh-pinned-wrong")} changed: expected SHA256:${"A".repeat(43)}, got ${sshd.hostKeyFingerprint}. The connection was refused; an admin must confirm the new key`,
    );
    const [audited] = await sql`select * from audit_log where action = 'target.host_key_mismatch' and object_id = ${targets.pinnedWrong!}`;
    expect(audited).toMatchObject({ outcome: "refused", actor_name: "bob" });
    expect(audited!.details.got).toBe(sshd.hostKeyFingerprint);
  });

  test("an admin confirms a new host key by setting it, or clears the pin to trust the next one", async () => {
    const listing = (await (await alice.request.get(`${ssoUrl()}/api/admin/targets?q=${named("ssh-pinned-wrong")}`)).json()) as ({ id: string } & Record<string, unknown>)[];
    const pinnedWrong = listing.find((target) => target.id === targets.pinnedWrong)!;
    const { id, ...fields } = pinnedWrong;
    const headers = { origin: ssoUrl() };
    const confirm = await alice.request.patch(`${ssoUrl()}/api/admin/targets/${id}`, { headers, data: { ...fields, hostKeyFingerprint: sshd.hostKeyFingerprint } });
    expect(confirm.status()).toBe(200);
    const confirmed = await TerminalClient.open(bob, id);
    await confirmed.waitForMessage("connected");
    await confirmed.close();

    const malformed = await alice.request.patch(`${ssoUrl()}/api/admin/targets/${id}`, { headers, data: { ...fields, hostKeyFingerprint: "MD5:aa:bb" } });
    expect(malformed.status()).toBe(400);
    expect(((await malformed.json()) as { fields: Record<string, string> }).fields.hostKeyFingerprint).toMatch(/^A fingerprint looks like SHA256:/);

    const clear = await alice.request.patch(`${ssoUrl()}/api/admin/targets/${id}`, { headers, data: { ...fields, hostKeyFingerprint: "" } });
    expect(((await clear.json()) as { hostKeyFingerprint: string | null }).hostKeyFingerprint).toBeNull();
    const trusted = await TerminalClient.open(bob, id);
    await trusted.waitForMessage("connected");
    await trusted.close();
    await expect
      .poll(async () => ((await (await alice.request.get(`${ssoUrl()}/api/admin/targets?q=${named("ssh-pinned-wrong")}`)).json()) as { id: string; hostKeyFingerprint: string }[]).find((target) => target.id === id)?.hostKeyFingerprint)
      .toBe(sshd.hostKeyFingerprint);
    const changes = await sql`select action from audit_log where object_id = ${id} and action in ('target.update', 'target.host_key_pinned') order by seq`;
    expect(changes.map((row) => row.action)).toEqual(["target.update", "target.update", "target.host_key_pinned"]);
  });

  test("warns before the time limit, extends by the step up to the maximum, then expires", async () => {
    const terminal = await TerminalClient.open(bob, targets.ttl!);
    await terminal.waitForMessage("connected");
    const warning = await terminal.waitForMessage("expiry");
    expect(warning).toMatchObject({ canExtend: true, extensionSeconds: 2 });
    // The warning is a message the page shows, never text in the terminal (which a target could forge).
    expect(terminal.output).not.toContain("[gatehouse]");

    terminal.control({ type: "extend" });
    await terminal.waitFor((client) => client.messages.filter((message) => message.type === "expiry").length === 2, 5_000, "the extended deadline");
    const extended = terminal.messages.filter((message) => message.type === "expiry").at(-1)!;
    expect(new Date(extended.expiresAt).getTime() - new Date(warning.expiresAt).getTime()).toBe(2000);
    expect(extended.canExtend).toBe(false);

    terminal.control({ type: "extend" });
    await terminal.waitFor((client) => client.messages.some((message) => message.type === "error"), 5_000, "the refusal");
    const ended = await terminal.waitForMessage("ended", 10_000);
    expect(ended).toEqual({ type: "ended", reason: "expired", message: "the session reached its time limit" });
    // The user hears first; the row follows.
    await expect.poll(async () => (await sql`select end_reason from sessions where target_id = ${targets.ttl!}`)[0]?.end_reason).toBe("expired");
    const [row] = await sql`select extract(epoch from ended_at - started_at) as seconds from sessions where target_id = ${targets.ttl!}`;
    expect(Number(row!.seconds)).toBeGreaterThanOrEqual(4.9);
  });

  for (const [name, key, message] of [
    ["a refused port", "refused", /^127\.0\.0\.1:\d+ refused the connection$/],
    ["a name that does not resolve", "unresolvable", /^the name no-such-host\.invalid does not resolve$/],
    ["a wrong password", "wrong", new RegExp(`^${named("ssh-wrong-password")} rejected the stored credential for user gatehouse-test; ask an admin to check it$`)],
    ["a target that never answers", "silent", /^no answer from 127\.0\.0\.1:\d+ in time$/],
    ["a target without a credential", "noCredential", new RegExp(`^${named("ssh-no-credential")} has no credential to log in with; ask an admin to set one$`)],
    ["only legacy algorithms, not allowed", "legacyOff", new RegExp(`^${named("ssh-legacy-off")} and the gateway share no .*; if it is an old device, an admin can allow legacy algorithms for this target$`)],
  ] as const) {
    test(`tells the user what went wrong: ${name}`, async () => {
      const terminal = await TerminalClient.open(bob, targets[key]!);
      const ended = await terminal.waitForMessage("ended", 15_000);
      expect(ended.reason).toBe("error");
      expect(ended.message).toMatch(message);
      expect(ended.message).not.toContain(sshd.password);
    });
  }

  test("connects to a legacy-only server once the target allows legacy algorithms", async () => {
    const terminal = await TerminalClient.open(bob, targets.legacyOn!);
    await terminal.waitForMessage("connected");
    terminal.type("echo legacy-ok\r");
    await terminal.waitForOutput("\rlegacy-ok\r\n");
    await terminal.close();
  });

  test("ends with target_closed when the shell exits", async () => {
    const terminal = await TerminalClient.open(bob, targets.password!);
    await terminal.waitForMessage("connected");
    terminal.type("exit\r");
    expect(await terminal.waitForMessage("ended")).toMatchObject({ reason: "target_closed", message: `${named("ssh-password")} closed the connection` });
  });

  test("a browser that stops reading pauses the target; buffers stay bounded; nothing is lost when it reads again", async () => {
    test.setTimeout(150_000);
    const gatewayPid = Number(process.env.E2E_SSO_PID);
    const counter = `/tmp/gatehouse-flood-${Date.now()}`;
    const terminal = await TerminalClient.open(bob, targets.password!);
    await terminal.waitForMessage("connected");
    terminal.socket.pause();
    // The loop ends when told through another connection, not by Ctrl+C: an interrupt makes the terminal discard
    // the output it holds (and, racing the shell, sometimes the prompt after it), so nothing could be counted.
    terminal.type(`i=0; while [ ! -e ${counter}.stop ]; do printf '%01000d\\n' $i; i=$((i+1)); [ $((i % 100)) = 0 ] && echo $i > ${counter}; done; echo "flood ended after $i lines"\r`);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const stalledAt = Number(await runOnTarget(`cat ${counter}`));
    const rssAtStall = rssOf(gatewayPid);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const stillAt = Number(await runOnTarget(`cat ${counter}`));
    // The target is blocked on a full pipe: at most a few MB in flight, not the seconds of output it could produce,
    // and the gateway holds no growing buffer meanwhile (its memory before the stall is the recorder's garbage, not a queue).
    expect(stillAt).toBe(stalledAt);
    expect(stalledAt * 1001).toBeLessThan(64 * 1024 * 1024);
    expect(rssOf(gatewayPid) - rssAtStall).toBeLessThan(16 * 1024 * 1024);

    terminal.socket.resume();
    await expect.poll(async () => Number(await runOnTarget(`cat ${counter}`)), { timeout: 20_000 }).toBeGreaterThan(stillAt + 1000);
    await runOnTarget(`touch ${counter}.stop`);
    // Only the recent output is searched: the output is tens of megabytes by now, and slicing it per message
    // copies it all each time.
    const ended = /flood ended after (\d+) lines/;
    await terminal.waitFor((client) => ended.test(client.recent), 60_000, "the end of the flood");
    const printed = Number(ended.exec(terminal.recent)![1]);
    // Every line the target printed arrived, once and in order.
    const numbers = [...terminal.output.matchAll(/^(\d{1000})\r$/gm)].map((match) => Number(match[1]));
    expect(printed).toBeGreaterThan(stillAt + 1000);
    expect(numbers.length).toBe(printed);
    expect(numbers.every((value, index) => value === index)).toBe(true);
    await terminal.close();
    await runOnTarget(`rm -f ${counter} ${counter}.stop`);
  });

  test("a ticket minted on one node opens a session on another; SIGTERM ends that node's sessions as interrupted", async () => {
    const port = await freePort();
    const node = await startGateway({
      port,
      env: { ...JSON.parse(process.env.E2E_SSO_ENV!), NODE_NAME: "e2e-node-2" },
      logFile: path.resolve(".test-artifacts/gateway-node-2.log"),
    });
    try {
      const terminal = await TerminalClient.open(bob, targets.password!, { cols: 80, rows: 24 }, node.url);
      const { sessionId } = await terminal.waitForMessage("connected");
      terminal.type("echo on-node-2\r");
      await terminal.waitForOutput("\ron-node-2\r\n");
      await node.stop();
      expect(await terminal.waitForMessage("ended")).toEqual({ type: "ended", reason: "interrupted", message: "the gateway is shutting down; reconnect in a moment" });
      const [row] = await sql`select node, end_reason from sessions where id = ${sessionId}`;
      expect(row).toEqual({ node: "e2e-node-2", end_reason: "interrupted" });
    } finally {
      await node.stop();
    }
  });

  test("a user not allowed on a target gets 403 and an audit row; other tickets cannot drive a terminal", async () => {
    const response = await bob.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: { targetId: targets.aliceOnly!, purpose: "terminal" } });
    expect(response.status()).toBe(403);
    const [audited] = await sql`select * from audit_log where action = 'connect.ticket' and outcome = 'refused' and object_id = ${targets.aliceOnly!}`;
    expect(audited?.actor_name).toBe("bob");

    const probe = await bob.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: { targetId: targets.password!, purpose: "probe" } });
    const { url } = (await probe.json()) as { url: string };
    const { default: WebSocket } = await import("ws");
    const { cookieHeader } = await import("./fixtures/terminal-client");
    const socket = new WebSocket(new URL(url.replace("/ws/probe", "/ws/terminal"), ssoUrl().replace(/^http/, "ws")), { headers: { cookie: await cookieHeader(bob), origin: ssoUrl() } });
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    expect(closed).toEqual({ code: 4403, reason: "connect ticket is for probe, not terminal" });
  });
});
