// Streaming to SIEMs against real receivers: Debian's rsyslog over TCP (JSON) and TLS (CEF), a signed JSON webhook
// and a JSON Lines file, from a gateway node configured with SIEM_SINKS. rsyslog is stopped for 60 s in the
// middle of a session, and the sending node restarted meanwhile: afterwards every event is on the other side, in
// order, each with its stable id; commands typed during the outage among them.
import { timingSafeEqual } from "node:crypto";
import { readFileSync, rmSync, mkdtempSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { webhookSignature } from "../lib/infra/http/webhook-signature";
import { startGateway, type RunningGateway } from "../test/fixtures/gateway";
import { freePort } from "../test/fixtures/ports";
import { startRsyslog, type RunningRsyslog } from "../test/fixtures/rsyslog";
import { createCredential, createTarget, sshdUnderTest, TerminalClient } from "./fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const sshd = sshdUnderTest();
const run = Date.now().toString(36);
const target = `siem-${run}`;
const webhookSecret = "a webhook secret of the test's own";

interface ReceivedEvent {
  id: string;
  seq: number;
  type: string;
  actor: { name: string };
  session?: { id: string; target: string };
  command?: string;
}

/** A SIEM's webhook: keeps what came with a good signature, counts what did not. */
async function startWebhookReceiver() {
  const events: ReceivedEvent[] = [];
  let badSignatures = 0;
  const port = await freePort();
  const server = http.createServer((request, response) => {
    let body = "";
    request.on("data", (data: Buffer) => (body += data.toString()));
    request.on("end", () => {
      const expected = Buffer.from(webhookSignature(webhookSecret, body));
      const given = Buffer.from(String(request.headers["x-gatehouse-signature"] ?? ""));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        badSignatures += 1;
        return response.writeHead(401).end();
      }
      events.push(...(JSON.parse(body) as ReceivedEvent[]));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${port}/siem/events`, events, badSignatures: () => badSignatures, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** The ids in the order they first arrived (a redelivery after a break repeats some). */
const firstArrivals = (ids: string[]) => [...new Set(ids)];
const seqOf = (id: string) => Number(id.replace("gatehouse:", ""));

test.describe("streaming to SIEMs", () => {
  let rsyslog: RunningRsyslog;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let node: RunningGateway;
  let port: number;
  let dir: string;
  let sql: postgres.Sql;
  const nodeEnv = () => ({
    ...JSON.parse(process.env.E2E_SSO_ENV!),
    NODE_NAME: "e2e-stream",
    SIEM_SINKS: JSON.stringify([
      { name: "soc-tcp", type: "syslog", address: `tcp://127.0.0.1:${rsyslog.tcpPort}`, format: "json" },
      { name: "soc-tls", type: "syslog", address: `tls://localhost:${rsyslog.tlsPort}`, ca: rsyslog.caFile, format: "cef" },
      { name: "hook", type: "webhook", url: webhook.url, secret: webhookSecret, include: ["session.", "command"] },
      { name: "archive", type: "file", path: path.join(dir, "events.jsonl"), exclude: ["api."] },
    ]),
  });
  const startNode = () => startGateway({ port, env: nodeEnv(), logFile: path.resolve(`.test-artifacts/gateway-stream-${Date.now()}.log`) });

  test.beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "gatehouse-siem-"));
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    [rsyslog, webhook, port] = [await startRsyslog(), await startWebhookReceiver(), await freePort()];
    node = await startNode();
  });
  test.afterAll(async () => {
    await node?.stop();
    await rsyslog?.remove();
    await webhook?.close();
    await sql?.end();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const received = {
    tcp: () => rsyslog.received("tcp").map((line) => JSON.parse(line.slice(line.indexOf("] ") + 2)) as ReceivedEvent),
    tcpIds: () => rsyslog.received("tcp").map((line) => /\[gatehouse@32473 id="([^"]+)"\]/.exec(line)![1]!),
    tlsIds: () => rsyslog.received("tls").map((line) => /externalId=(gatehouse:\d+)/.exec(line)![1]!),
    file: () => {
      try {
        return readFileSync(path.join(dir, "events.jsonl"), "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as ReceivedEvent);
      } catch {
        return [];
      }
    },
  };

  test("a sink down for a minute, its node restarted meanwhile, gets every event afterwards, in order, once each by id", async ({ browser }) => {
    test.setTimeout(240_000);
    const [cursor] = await sql`select delivered_seq from stream_cursors where sink = 'soc-tcp'`;
    const fromSeq = Number(cursor!.delivered_seq);

    const alice = await browser.newContext();
    await signInWithSso(await alice.newPage(), "alice");
    const credential = await createCredential(alice.request, { name: target, kind: "password", username: sshd.username, secret: sshd.password });
    const targetId = await createTarget(alice.request, { name: target, protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["bob"], credentialId: credential });
    const bob = await browser.newContext();
    await signInWithSso(await bob.newPage(), "bob");
    const terminal = await TerminalClient.open(bob, targetId);
    const { sessionId } = await terminal.waitForMessage("connected");
    const typeCommand = async (command: string) => {
      terminal.type(`${command}\r`);
      await terminal.waitForOutput(`${command.replace(/^echo /, "")}\r\n`);
    };
    await typeCommand("echo before-outage");
    await expect.poll(() => received.tcp().some((event) => event.command === "echo before-outage"), { timeout: 15_000, message: "syslog carries the command" }).toBe(true);

    // rsyslog goes away for 60 s.
    await rsyslog.stop();
    const outageStarted = Date.now();
    await typeCommand("echo during-outage-1");
    // The page on the sending node says so: an error, and events waiting.
    const sam = await browser.newContext();
    const samPage = await sam.newPage();
    await signInWithSso(samPage, "sam");
    await expect
      .poll(
        async () => {
          await samPage.goto(`${node.url}/admin/audit`);
          return samPage.getByTestId("sink-soc-tcp").textContent();
        },
        { timeout: 30_000, message: "the audit page shows the sink failing with events waiting" },
      )
      .toMatch(/ECONNREFUSED|closed the connection/);
    expect(Number(await samPage.getByTestId("sink-soc-tcp").getByRole("cell").nth(3).textContent())).toBeGreaterThan(0);

    // The sending node restarts while its sink is down: its position is in the database, not in its memory.
    await node.stop();
    await typeCommand("echo during-outage-2");
    node = await startNode();
    await typeCommand("echo during-outage-3");
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 60_000 - (Date.now() - outageStarted))));
    await rsyslog.start();
    await typeCommand("echo after-outage");
    await terminal.close();
    await expect.poll(async () => (await sql`select status from sessions where id = ${sessionId}`)[0]?.status).toBe("ended");
    // Wait for the session's end to be an event, then take the stream's end as it stands.
    await expect.poll(async () => (await sql`select count(*)::int as n from stream_events where payload->>'action' = 'session.end' and payload->>'objectId' = ${sessionId}`)[0]!.n).toBe(1);
    const rows = await sql`select seq, kind, payload from stream_events where seq > ${fromSeq} order by seq`;
    const expected = rows.map((row) => `gatehouse:${row.seq}`);
    const untilSeq = Number(rows.at(-1)!.seq);
    const upTo = (ids: string[]) => firstArrivals(ids).filter((id) => seqOf(id) <= untilSeq);

    await expect.poll(() => upTo(received.tcpIds()), { timeout: 60_000, message: "syslog over TCP caught up" }).toEqual(expected);
    await expect.poll(() => upTo(received.tlsIds()), { timeout: 30_000, message: "syslog over TLS caught up" }).toEqual(expected);
    const notApi = rows.filter((row) => !(row.kind === "audit" && String(row.payload.action).startsWith("api."))).map((row) => `gatehouse:${row.seq}`);
    await expect.poll(() => upTo(received.file().map((event) => event.id)), { timeout: 30_000, message: "the file caught up" }).toEqual(notApi);
    const sessionsAndCommands = rows.filter((row) => row.kind === "command" || String(row.payload.action).startsWith("session.")).map((row) => `gatehouse:${row.seq}`);
    await expect.poll(() => upTo(webhook.events.map((event) => event.id)), { timeout: 30_000, message: "the webhook caught up" }).toEqual(sessionsAndCommands);
    expect(webhook.badSignatures()).toBe(0);

    // One event per command, with who, where and which session: a SIEM needs no recording to see what was run.
    const commands = received.tcp().filter((event) => event.type === "command" && event.session?.id === sessionId);
    expect(firstArrivals(commands.map((event) => event.command!))).toEqual(["echo before-outage", "echo during-outage-1", "echo during-outage-2", "echo during-outage-3", "echo after-outage"]);
    expect(commands.every((event) => event.actor.name === "bob" && event.session!.target === target)).toBe(true);
    expect(received.tcp().some((event) => event.type === "session.end" && (event as unknown as { object: { id: string } }).object.id === sessionId)).toBe(true);
    expect(rsyslog.received("tls").find((line) => line.includes("echo during-outage-2"))).toMatch(/CEF:0\|Gatehouse\|Gatehouse\|[^|]+\|command\|Command typed\|3\|.*suser=bob .*dhost=siem-/);

    // Caught up (recorded once the connection has stayed up a few seconds past the last event), the page says so.
    await expect
      .poll(
        async () => {
          await samPage.goto(`${node.url}/admin/audit`);
          return samPage.getByTestId("sink-soc-tcp").getByRole("cell").nth(5).textContent();
        },
        { timeout: 20_000, message: "the sink's error is cleared once it takes events again" },
      )
      .toBe("—");
    await Promise.all([alice.close(), bob.close(), sam.close()]);
  });
});
