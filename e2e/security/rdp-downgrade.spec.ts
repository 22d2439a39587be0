// RDP security that cannot be downgraded: a desktop that answers the negotiation with standard RDP security
// only — an old server, or a man in the middle posing as one — is refused with a clear error and an audit row
// under "any", TLS and NLA, and the stored password is not sent. Standard RDP security is used only when the
// target says so explicitly, and never while a certificate is pinned (it could not be checked).
import type { BrowserContext } from "@playwright/test";
import postgres from "postgres";
import WebSocket from "ws";
import { sessionServerMessageSchema, type SessionServerMessage } from "../../lib/protocol/session-socket";
import { startXrdp, type DesktopTarget } from "../../test/fixtures/desktop-targets";
import { cookieHeader, createCredential, createTarget } from "../fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "../fixtures/test";

const run = Date.now().toString(36);

test.describe("a desktop that offers only standard RDP security", { tag: "@security" }, () => {
  let xrdp: DesktopTarget;
  let alice: BrowserContext;
  let bob: BrowserContext;
  let sql: postgres.Sql;
  const targetIds: Record<string, string> = {};

  /** Opens a desktop socket as the page does and returns the first `connected` or `ended` message. */
  async function connect(targetId: string): Promise<SessionServerMessage> {
    const ticket = await bob.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: { purpose: "desktop", targetId } });
    expect(ticket.status()).toBe(200);
    const { url } = (await ticket.json()) as { url: string };
    const socket = new WebSocket(new URL(`${url}&width=800&height=600&dpi=96`, ssoUrl().replace(/^http/, "ws")), { headers: { cookie: await cookieHeader(bob), origin: ssoUrl() } });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no answer from the desktop socket in 30 s")), 30_000);
      socket.on("message", (data: Buffer, isBinary: boolean) => {
        if (isBinary) return;
        const message = sessionServerMessageSchema.parse(JSON.parse(data.toString()));
        if (message.type !== "connected" && message.type !== "ended") return;
        clearTimeout(timer);
        socket.close();
        resolve(message);
      });
    });
  }

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(120_000);
    xrdp = await startXrdp({ securityLayer: "rdp" });
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    [alice, bob] = [await browser.newContext(), await browser.newContext()];
    await signInWithSso(await alice.newPage(), "alice");
    await signInWithSso(await bob.newPage(), "bob");
    const login = await createCredential(alice.request, { name: `downgrade-${run}`, kind: "password", username: xrdp.username, secret: xrdp.password });
    for (const [security, pin] of [["any"], ["tls"], ["nla"], ["rdp"], ["rdp", Array.from({ length: 32 }, () => "AB").join(":")]] as const) {
      const name = `downgrade-${security}${pin ? "-pinned" : ""}-${run}`;
      targetIds[name.replace(`-${run}`, "")] = await createTarget(alice.request, { name, protocol: "rdp", host: xrdp.host, port: xrdp.port, allowedUsers: ["bob"], credentialId: login, rdpSecurity: security, ...(pin ? { hostKeyFingerprint: pin } : {}) });
    }
  });

  test.afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await sql?.end();
    await xrdp?.stop();
  });

  test("is refused under any, TLS and NLA, with the reason and an audit row; the password is not sent", async () => {
    for (const security of ["any", "tls", "nla"]) {
      const answer = await connect(targetIds[`downgrade-${security}`]!);
      expect(answer.type, security).toBe("ended");
      expect((answer as { message: string }).message, security).toContain("offered only standard RDP security, which cannot prove the desktop's identity: the password was not sent");
    }
    const audited = await sql`select details->>'target' as target from audit_log where action = 'target.rdp_security_refused' and outcome = 'refused' and details->>'target' like ${`downgrade-%-${run}`}`;
    expect(audited.map((row) => row.target).sort()).toEqual([`downgrade-any-${run}`, `downgrade-nla-${run}`, `downgrade-tls-${run}`]);
  });

  test("is used only when the target asks for standard RDP security by name, and never while a certificate is pinned", async () => {
    expect(await connect(targetIds["downgrade-rdp"]!)).toMatchObject({ type: "connected" });
    const pinned = await connect(targetIds["downgrade-rdp-pinned"]!);
    expect(pinned).toMatchObject({ type: "ended" });
    expect((pinned as { message: string }).message).toContain("has a pinned certificate, which standard RDP security cannot check");
  });
});
