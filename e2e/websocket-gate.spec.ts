// Attacks on the WebSocket gate, with real cookies from real SSO sign-ins and a real WebSocket client.
import type { BrowserContext } from "@playwright/test";
import postgres from "postgres";
import WebSocket from "ws";
import { gateCloseCodes } from "../lib/protocol/gate";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

type Outcome = { code: number; reason: string; messages: string[] };

/** Opens a WebSocket as a non-browser client would, and reports how it ended. */
function openSocket(path: string, options: { cookie?: string; origin?: string }): Promise<Outcome> {
  const url = new URL(path, ssoUrl().replace(/^http/, "ws"));
  const socket = new WebSocket(url, { headers: { ...(options.cookie ? { cookie: options.cookie } : {}), ...(options.origin ? { origin: options.origin } : {}) } });
  const messages: string[] = [];
  socket.on("message", (data) => messages.push(String(data)));
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString(), messages }));
  });
}

async function cookieHeader(context: BrowserContext) {
  return (await context.cookies(ssoUrl())).map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
}

async function ticketFor(context: BrowserContext, targetId: string) {
  const response = await context.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: { targetId, purpose: "probe" } });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { url: string }).url;
}

test.describe("WebSocket gate", () => {
  let targetId: string;
  let aliceContext: BrowserContext;
  let bobContext: BrowserContext;
  let sql: postgres.Sql;

  test.beforeAll(async ({ browser }) => {
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    aliceContext = await browser.newContext();
    bobContext = await browser.newContext();
    await signInWithSso(await aliceContext.newPage(), "alice");
    await signInWithSso(await bobContext.newPage(), "bob");
    const created = await aliceContext.request.post(`${ssoUrl()}/api/admin/targets`, {
      headers: { origin: ssoUrl() },
      data: { name: "gate-test", protocol: "ssh", host: "127.0.0.1", port: Number(new URL(ssoUrl()).port), allowedUsers: ["alice", "bob"] },
    });
    expect(created.status()).toBe(200);
    targetId = ((await created.json()) as { id: string }).id;
  });

  test.afterAll(async () => {
    await aliceContext.close();
    await bobContext.close();
    await sql.end();
  });

  test("lets a signed-in user through with a fresh ticket from the gateway's origin", async () => {
    const outcome = await openSocket(await ticketFor(bobContext, targetId), { cookie: await cookieHeader(bobContext), origin: ssoUrl() });
    expect(outcome.code).toBe(1000);
    expect(JSON.parse(outcome.messages[0]!)).toMatchObject({ type: "probe.result", reachable: true });
  });

  test("refuses a socket without a session cookie", async () => {
    const outcome = await openSocket(await ticketFor(bobContext, targetId), { origin: ssoUrl() });
    expect(outcome).toEqual({ code: gateCloseCodes.unauthenticated, reason: "sign in first", messages: [] });
  });

  test("refuses a cross-site socket even with the victim's cookie and ticket", async () => {
    const outcome = await openSocket(await ticketFor(bobContext, targetId), { cookie: await cookieHeader(bobContext), origin: "http://evil.example" });
    expect(outcome).toEqual({ code: gateCloseCodes.forbidden, reason: "origin not allowed", messages: [] });
  });

  test("refuses a ticket used twice", async () => {
    const path = await ticketFor(bobContext, targetId);
    const cookie = await cookieHeader(bobContext);
    expect((await openSocket(path, { cookie, origin: ssoUrl() })).code).toBe(1000);
    expect(await openSocket(path, { cookie, origin: ssoUrl() })).toEqual({
      code: gateCloseCodes.ticketInvalid,
      reason: "connect ticket was already used; request a new one",
      messages: [],
    });
  });

  test("refuses an expired ticket", async () => {
    const path = await ticketFor(bobContext, targetId);
    // Age the ticket past its 30 s instead of waiting for it.
    await sql`update connect_tickets set expires_at = now() - interval '1 second' where used_at is null`;
    expect(await openSocket(path, { cookie: await cookieHeader(bobContext), origin: ssoUrl() })).toEqual({
      code: gateCloseCodes.ticketInvalid,
      reason: "connect ticket has expired; request a new one",
      messages: [],
    });
  });

  test("refuses someone else's ticket, and burns it", async () => {
    const alicesTicket = await ticketFor(aliceContext, targetId);
    expect(await openSocket(alicesTicket, { cookie: await cookieHeader(bobContext), origin: ssoUrl() })).toEqual({
      code: gateCloseCodes.forbidden,
      reason: "connect ticket belongs to another user",
      messages: [],
    });
    expect((await openSocket(alicesTicket, { cookie: await cookieHeader(aliceContext), origin: ssoUrl() })).code).toBe(gateCloseCodes.ticketInvalid);
  });

  test("refuses a tampered ticket and an unknown route", async () => {
    const path = await ticketFor(bobContext, targetId);
    const cookie = await cookieHeader(bobContext);
    expect((await openSocket(`${path.slice(0, -2)}xx`, { cookie, origin: ssoUrl() })).reason).toBe("connect ticket is not valid; request a new one");
    expect((await openSocket(path.replace("/ws/probe", "/ws/shell"), { cookie, origin: ssoUrl() })).code).toBe(gateCloseCodes.notFound);
  });

  test("refuses a ticket once access is revoked, and no ticket is minted after", async () => {
    const path = await ticketFor(bobContext, targetId);
    const revoke = await aliceContext.request.patch(`${ssoUrl()}/api/admin/targets/${targetId}`, {
      headers: { origin: ssoUrl() },
      data: { name: "gate-test", protocol: "ssh", host: "127.0.0.1", port: Number(new URL(ssoUrl()).port), allowedUsers: ["alice"] },
    });
    expect(revoke.status()).toBe(200);
    expect((await openSocket(path, { cookie: await cookieHeader(bobContext), origin: ssoUrl() })).reason).toBe("you may not reach this target");
    const refused = await bobContext.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: { targetId, purpose: "probe" } });
    expect(refused.status()).toBe(403);
    const unknownTarget = await bobContext.request.post(`${ssoUrl()}/api/tickets`, {
      headers: { origin: ssoUrl() },
      data: { targetId: "00000000-0000-4000-8000-000000000000", purpose: "probe" },
    });
    expect(unknownTarget.status()).toBe(403);
  });

  test("audits every refusal with its reason and source address", async () => {
    const refusals = await sql<{ reason: string; source_ip: string }[]>`
      select details->>'reason' as reason, source_ip from audit_log where action = 'connect' and outcome = 'refused'`;
    expect(refusals.map((row) => row.reason)).toEqual(
      expect.arrayContaining([
        "sign in first",
        "origin not allowed",
        "connect ticket was already used; request a new one",
        "connect ticket has expired; request a new one",
        "connect ticket belongs to another user",
        "you may not reach this target",
      ]),
    );
    expect(refusals.every((row) => row.source_ip === "127.0.0.1")).toBe(true);
    const [ticketRefusals] = await sql<{ count: number }[]>`select count(*)::int as count from audit_log where action = 'connect.ticket' and outcome = 'refused'`;
    expect(ticketRefusals?.count).toBeGreaterThanOrEqual(2);
  });
});
