// Access governance end to end: an admin puts a tagged SSH target under a policy that needs an approved request;
// Carol (a contractor) requests access, Sam (security, an approver) approves it in his queue, Carol connects under
// the request and loses the session when Sam revokes it. Denials, field errors, network and window refusals are
// refused with the reason and audited; approvers are mailed (a real SMTP server) and a signed webhook is called.
import { createHmac } from "node:crypto";
import path from "node:path";
import type { BrowserContext } from "@playwright/test";
import postgres from "postgres";
import ssh2 from "ssh2";
import { startGateway, type RunningGateway } from "../test/fixtures/gateway";
import { startSmtpServer, startWebhookReceiver } from "../test/fixtures/notification-sinks";
import { freePort } from "../test/fixtures/ports";
import { createCredential, createTarget, sshdUnderTest, TerminalClient } from "./fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const sshd = sshdUnderTest();
const run = Date.now().toString(36);
const webhookSecret = "governance-webhook-secret-0123456789";

test.describe("access governance", () => {
  test.describe.configure({ mode: "serial" });
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let notifier: RunningGateway;
  let alice: BrowserContext;
  let carol: BrowserContext;
  let sam: BrowserContext;
  let bob: BrowserContext;
  let sql: postgres.Sql;
  let targetId = "";
  let policyId = "";
  let activityId = "";
  const targetName = `gov-ssh-${run}`;
  const activityName = `DB maintenance ${run}`;

  const call = (context: BrowserContext, method: "get" | "post" | "patch" | "delete", route: string, data?: unknown) =>
    context.request[method](`${ssoUrl()}${route}`, { headers: { origin: ssoUrl() }, data });
  const ticket = (context: BrowserContext) => call(context, "post", "/api/tickets", { targetId, purpose: "terminal" });
  const requestAccess = async (body: Record<string, unknown>) => call(carol, "post", "/api/requests", { activityId, targetIds: [targetId], ticket: "INC000001", durationMinutes: 30, ...body });
  const policy = (overrides: Record<string, unknown> = {}) => ({
    name: `gov-${run}`,
    targetTags: [`gov-${run}`],
    subjectUsers: ["carol@example.com"],
    access: "approval",
    approverGroups: ["secops"],
    maxDurationMinutes: 60,
    ...overrides,
  });

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(120_000);
    [smtp, webhook] = await Promise.all([startSmtpServer(), startWebhookReceiver({ failFirst: 1 })]);
    // Notifications go out from whichever node claims them: only this one has somewhere to send them. It also
    // stands behind a (pretend) proxy, so a test can give the client an address other than loopback.
    notifier = await startGateway({
      port: await freePort(),
      env: { ...JSON.parse(process.env.E2E_SSO_ENV!), NODE_NAME: "e2e-governance-notifier", SMTP_URL: smtp.url, NOTIFY_WEBHOOK_URL: webhook.url, NOTIFY_WEBHOOK_SECRET: webhookSecret, TRUST_PROXY: "true" },
      logFile: path.resolve(".test-artifacts/gateway-governance-notifier.log"),
    });
    sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    [alice, carol, sam, bob] = await Promise.all([browser.newContext(), browser.newContext(), browser.newContext(), browser.newContext()]);
    for (const [context, login] of [[alice, "alice"], [carol, "carol"], [sam, "sam"], [bob, "bob"]] as const) await signInWithSso(await context.newPage(), login);
    const credentialId = await createCredential(alice.request, { name: `gov-${run}`, kind: "password", username: sshd.username, secret: sshd.password });
    targetId = await createTarget(alice.request, { name: targetName, protocol: "ssh", host: sshd.host, port: sshd.port, credentialId, tags: [`gov-${run}`], extensionSeconds: 600 });
    const created = await call(alice, "post", "/api/admin/policies", policy());
    expect(created.status(), await created.text()).toBe(200);
    policyId = ((await created.json()) as { id: string }).id;
    const activity = await call(alice, "post", "/api/admin/activities", { name: activityName, policyIds: [policyId], ticketPattern: "^(INC|CHG)\\d{6}$" });
    expect(activity.status(), await activity.text()).toBe(200);
    activityId = ((await activity.json()) as { id: string }).id;
  });

  /** The gateway's texts as they were: other specs expect the built-in wording. */
  const builtInSettings = { revealSeconds: 20, lockMessage: null, terminationMessage: null, recordingNotice: null, logonNotice: null };

  test.afterAll(async () => {
    // Other specs share this database: the policy and the texts must not outlive this one.
    if (alice) await call(alice, "patch", "/api/admin/settings", builtInSettings);
    if (activityId) await call(alice, "delete", `/api/admin/activities/${activityId}`);
    if (policyId) await call(alice, "delete", `/api/admin/policies/${policyId}`);
    await Promise.all([alice?.close(), carol?.close(), sam?.close(), bob?.close()]);
    await sql?.end();
    await notifier?.stop();
    await Promise.all([smtp?.stop(), webhook?.stop()]);
  });

  test("a request goes from the requester through the approver's queue to a session, and revoking it ends the session", async () => {
    const home = await carol.newPage();
    await home.goto(`${ssoUrl()}/`);
    const card = home.getByRole("listitem").filter({ hasText: targetName });
    await expect(card.getByTestId("access-refused")).toHaveText(`${targetName} needs an approved access request (gov-${run})`);
    const refused = await ticket(carol);
    expect(refused.status()).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe(`Access refused: ${targetName} needs an approved access request (gov-${run})`);

    await card.getByRole("link", { name: `Request access to ${targetName}` }).click();
    await expect(home.getByRole("heading", { name: "Access requests" })).toBeVisible();
    await expect(home.getByRole("checkbox", { name: new RegExp(targetName) })).toBeChecked();
    await home.getByLabel("Ticket").fill("TICKET-1");
    await home.getByLabel("Duration (minutes)").fill("30");
    await home.getByLabel("Notes").fill("rotate the replication slot");
    await home.getByRole("button", { name: "Review" }).click();
    await home.getByRole("button", { name: "Submit request" }).click();
    await expect(home.getByText("The ticket must match ^(INC|CHG)\\d{6}$")).toBeVisible();
    // What was typed is still there to correct.
    await expect(home.getByLabel("Notes")).toHaveValue("rotate the replication slot");
    await home.getByLabel("Ticket").fill("CHG123456");
    await home.getByRole("button", { name: "Review" }).click();
    const summary = home.getByTestId("request-summary");
    await expect(summary).toContainText(targetName);
    await expect(summary).toContainText("CHG123456");
    await expect(summary).toContainText("30 minutes");
    await home.getByRole("button", { name: "Submit request" }).click();
    const row = home.getByRole("row").filter({ hasText: "CHG123456" });
    await expect(row).toContainText("Waiting for approval");
    const [found] = await sql`select id from access_requests where ticket = 'CHG123456' and activity_name = ${activityName}`;
    const requestId = found!.id as string;

    // Nobody approves their own request, and nobody else reads it.
    expect((await call(carol, "post", `/api/requests/${requestId}/decision`, { decision: "approve" })).status()).toBe(403);
    expect((await call(bob, "get", `/api/requests/${requestId}`)).status()).toBe(404);
    expect((await call(bob, "post", `/api/requests/${requestId}/decision`, { decision: "approve" })).status()).toBe(403);

    const queue = await sam.newPage();
    await queue.goto(`${ssoUrl()}/`);
    await expect(queue.getByTestId("approvals-badge")).toHaveText("1");
    await queue.getByRole("link", { name: /Approvals/ }).click();
    const label = `carol for ${targetName}`;
    await queue.getByLabel(`Comment on request by ${label}`).fill("go ahead, CHG checked");
    await queue.getByRole("button", { name: `Approve request by ${label}` }).click();
    await expect(queue.getByRole("listitem").filter({ hasText: label })).toContainText("Available");

    await home.reload();
    await expect(row).toContainText("Available");
    await expect(row).toContainText("Approved by sam: go ahead, CHG checked");
    const terminal = await TerminalClient.open(carol, targetId);
    const { sessionId } = await terminal.waitForMessage("connected");
    terminal.type("echo under-request\r");
    await terminal.waitForOutput("under-request\r\n");
    const [session] = await sql`select request_id, client_address from sessions where id = ${sessionId}`;
    expect(session!.request_id).toBe(requestId);
    // Sam approved it; that lets Carol in, not him.
    expect((await ticket(sam)).status()).toBe(403);
    await home.reload();
    await expect(row).toContainText("Active");

    // Approvers were mailed, Carol was told of the decision, and the webhook got both, signed, after a refused first try.
    // Other specs' notifications (risk events mailed to security) may go out from this node too: only this
    // request's are looked at, and every call must be signed.
    const aboutThisRequest = (raw: string) => raw.includes(`Access request by carol for ${targetName}`);
    await expect
      .poll(() => smtp.mails.filter((mail) => aboutThisRequest(mail.raw)).map((mail) => mail.to.join(",")), { timeout: 20_000 })
      .toEqual(expect.arrayContaining(["sam@example.com", "carol@example.com"]));
    expect(smtp.mails.find((mail) => mail.to.includes("sam@example.com") && aboutThisRequest(mail.raw))!.raw).toContain(`Access request by carol for ${targetName} waits for your approval`);
    await expect.poll(() => webhook.calls.map((call) => call.headers["x-gatehouse-event"]), { timeout: 20_000 }).toEqual(expect.arrayContaining(["request.created", "request.approved"]));
    expect(webhook.refusedCount()).toBe(1);
    for (const received of webhook.calls) {
      expect(received.headers["x-gatehouse-signature"]).toBe(`sha256=${createHmac("sha256", webhookSecret).update(received.body).digest("hex")}`);
      if (String(received.headers["x-gatehouse-event"]).startsWith("request.")) expect(JSON.parse(received.body)).toMatchObject({ request: { id: requestId, targets: [targetName], ticket: "CHG123456" } });
    }

    // Sam revokes the access: the live session ends within a sweep, saying why.
    queue.once("dialog", (dialog) => void dialog.accept("leaving the project"));
    await queue.getByRole("button", { name: `Revoke request by ${label}` }).click();
    const ended = await terminal.waitForMessage("ended", 6000);
    expect(ended.message).toBe("access revoked: the access request was revoked: leaving the project");
    expect((await ticket(carol)).status()).toBe(403);
    const actions = await sql`select action, actor_name, outcome from audit_log where object_id = ${requestId} order by seq`;
    expect(actions.map((entry) => `${entry.action} by ${entry.actor_name}: ${entry.outcome}`)).toEqual([
      "request.create by carol: success",
      "request.approve by carol: refused",
      "request.approve by bob: refused",
      "request.approve by sam: success",
      "request.revoke by sam: success",
    ]);
    // The end is audited just after the user is told.
    await expect.poll(async () => (await sql`select details from audit_log where action = 'session.revoked' and object_id = ${sessionId}`)[0]?.details.why).toMatch(/request was revoked/);
  });

  test("a denied request tells the requester why and grants nothing", async () => {
    const created = await requestAccess({ ticket: "INC654321" });
    expect(created.status(), await created.text()).toBe(200);
    const { id } = (await created.json()) as { id: string };
    const denied = await call(sam, "post", `/api/requests/${id}/decision`, { decision: "deny", comment: "not during the freeze" });
    expect(await denied.json()).toEqual({ status: "denied" });
    expect((await call(sam, "post", `/api/requests/${id}/decision`, { decision: "approve" })).status()).toBe(409);
    const page = await carol.newPage();
    await page.goto(`${ssoUrl()}/requests`);
    const row = page.getByRole("row").filter({ hasText: "INC654321" });
    await expect(row).toContainText("Denied");
    await expect(row).toContainText("Denied by sam: not during the freeze");
    expect((await ticket(carol)).status()).toBe(403);
  });

  test("bad requests get a field error each", async () => {
    const fields = async (body: Record<string, unknown>) => {
      const response = await requestAccess(body);
      expect(response.status()).toBe(400);
      return ((await response.json()) as { fields: Record<string, string> }).fields;
    };
    expect(await fields({ ticket: null })).toEqual({ ticket: "This activity needs a ticket number" });
    expect(await fields({ startsAt: new Date(Date.now() - 3600_000).toISOString() })).toEqual({ startsAt: "The start is in the past" });
    expect(await fields({ durationMinutes: 90 })).toEqual({ durationMinutes: `Policy gov-${run} allows at most 1 h on ${targetName}` });
    expect(await fields({ targetIds: ["00000000-0000-4000-8000-000000000000"] })).toEqual({ targetIds: `You may not request one of these resources for ${activityName}` });
    const bobs = await call(bob, "post", "/api/requests", { activityId, targetIds: [targetId], ticket: "INC000002", durationMinutes: 30 });
    expect(((await bobs.json()) as { fields: Record<string, string> }).fields).toEqual({ targetIds: `You may not request ${targetName} for ${activityName}` });
    expect(await fields({ startsAt: new Date(Date.now() + 400 * 24 * 3600_000).toISOString() })).toEqual({ startsAt: "The start may be at most a year ahead" });
    // An activity whose ticket format backtracks catastrophically is cut off, and the gateway keeps answering.
    const slow = await call(alice, "post", "/api/admin/activities", { name: `Slow format ${run}`, policyIds: [policyId], ticketPattern: "^(a+)+$" });
    const slowId = ((await slow.json()) as { id: string }).id;
    const stalled = await call(carol, "post", "/api/requests", { activityId: slowId, targetIds: [targetId], ticket: `${"a".repeat(40)}!`, durationMinutes: 30 });
    expect(((await stalled.json()) as { fields: Record<string, string> }).fields).toEqual({ ticket: "The ticket format of this activity takes too long to check; ask an administrator to simplify it" });
    expect((await call(carol, "get", "/api/requests")).status()).toBe(200);
    expect((await call(alice, "delete", `/api/admin/activities/${slowId}`)).status()).toBe(200);
    const later = new Date(Date.now() + 24 * 3600_000).toISOString();
    expect((await requestAccess({ startsAt: later, ticket: "INC000003" })).status()).toBe(200);
    expect(await fields({ startsAt: later, ticket: "INC000004" })).toEqual({ targetIds: `You already have a request for ${targetName} in that time` });
    // Twenty waiting at once is the most: each one mails the approvers.
    const waiting = [];
    for (let day = 2; day <= 20; day++) {
      const made = await requestAccess({ startsAt: new Date(Date.now() + day * 24 * 3600_000).toISOString(), ticket: "INC000010" });
      expect(made.status(), await made.text()).toBe(200);
      waiting.push(((await made.json()) as { id: string }).id);
    }
    const flooding = await requestAccess({ startsAt: new Date(Date.now() + 21 * 24 * 3600_000).toISOString(), ticket: "INC000010" });
    expect(flooding.status()).toBe(429);
    for (const id of waiting) expect((await call(carol, "post", `/api/requests/${id}/cancel`, { reason: "test" })).status()).toBe(200);
  });

  test("a policy's networks and weekly windows refuse the connect with the reason, audited", async () => {
    const auto = await call(alice, "patch", `/api/admin/policies/${policyId}`, policy({ access: "auto_approve" }));
    expect(auto.status(), await auto.text()).toBe(200);
    // Auto-approval still caps the request at the policy's longest duration.
    expect((await requestAccess({ ticket: "INC000005", durationMinutes: 61 })).status()).toBe(400);
    const approved = await requestAccess({ ticket: "INC000005", durationMinutes: 20 });
    expect(((await approved.json()) as { status: string }).status).toBe("approved");
    expect((await ticket(carol)).status()).toBe(200);

    expect((await call(alice, "patch", `/api/admin/policies/${policyId}`, policy({ access: "auto_approve", sourceNetworks: ["10.0.0.0/8"] }))).status()).toBe(200);
    const fromElsewhere = await ticket(carol);
    expect(fromElsewhere.status()).toBe(403);
    expect(((await fromElsewhere.json()) as { error: string }).error).toMatch(new RegExp(`^Access refused: your address (127\\.0\\.0\\.1|::1) is not in the networks policy gov-${run} allows$`));
    // Behind a trusted proxy the address is the one the proxy saw.
    const behindProxy = (address: string) =>
      carol.request.post(`${notifier.url}/api/tickets`, { headers: { origin: notifier.url, "x-forwarded-for": address }, data: { targetId, purpose: "terminal" } });
    expect((await behindProxy("10.20.30.40")).status()).toBe(200);
    const outsider = await behindProxy("192.168.7.7");
    expect(((await outsider.json()) as { error: string }).error).toBe(`Access refused: your address 192.168.7.7 is not in the networks policy gov-${run} allows`);

    const today = ((new Date().getUTCDay() + 6) % 7) + 1;
    const otherDay = (today % 7) + 1;
    const windows = [{ days: [otherDay], from: "00:00", to: "24:00" }];
    expect((await call(alice, "patch", `/api/admin/policies/${policyId}`, policy({ access: "auto_approve", weeklyWindows: windows }))).status()).toBe(200);
    const offHours = await ticket(carol);
    expect(offHours.status()).toBe(403);
    expect(((await offHours.json()) as { error: string }).error).toMatch(new RegExp(`^Access refused: policy gov-${run} allows access \\w{3} 00:00–24:00 \\(UTC\\) only$`));
    const refusals = await sql`select details from audit_log where action = 'connect.ticket' and outcome = 'refused' and object_id = ${targetId}`;
    expect(refusals.map((row) => row.details.code)).toEqual(expect.arrayContaining(["needs_request", "network", "outside_window"]));
    expect((await call(alice, "patch", `/api/admin/policies/${policyId}`, policy())).status()).toBe(200);
  });

  test("terminate and cancel from Live revokes the request the session ran under; a reviewer puts its recording on hold", async () => {
    // The auto-approved request of the test before is still in its window.
    const [open] = await sql`select id from access_requests where ticket = 'INC000005' and status = 'approved'`;
    const terminal = await TerminalClient.open(carol, targetId);
    const { sessionId } = await terminal.waitForMessage("connected");
    terminal.type("echo before-cancel\r");
    await terminal.waitForOutput("before-cancel\r\n");
    const control = await call(sam, "post", `/api/sessions/${sessionId}/control`, { action: "terminate_and_cancel", reason: "copied data out" });
    expect(control.status(), await control.text()).toBe(200);
    await terminal.waitForMessage("ended");
    const [request] = await sql`select status, closed_by, closed_reason from access_requests where id = ${open!.id}`;
    expect(request).toEqual({ status: "revoked", closed_by: "sam", closed_reason: "copied data out" });
    const [carolRow] = await sql`select id from users where username = 'carol'`;
    expect((await call(alice, "delete", `/api/admin/targets/${targetId}/revocations/${carolRow!.id}`)).status()).toBe(200);

    // Recordings of the policy's targets open to the reviewers it names.
    expect((await call(alice, "patch", `/api/admin/policies/${policyId}`, policy({ reviewerUsers: ["alice"] }))).status()).toBe(200);
    const page = await alice.newPage();
    await page.goto(`${ssoUrl()}/recordings/${sessionId}`);
    await expect(page.getByText(`under access request ${open!.id}`)).toBeVisible();
    await page.getByRole("button", { name: "Prevent purge" }).click();
    await expect(page.getByTestId("legal-hold-state")).toHaveText("On hold: retention will not purge this recording.");
    await page.goto(`${ssoUrl()}/recordings?status=ended&target=${targetName}`);
    await expect(page.locator(`tr[data-session-id="${sessionId}"]`).getByTestId("legal-hold")).toHaveText("On hold");
    const [held] = await sql`select prevent_purge from sessions where id = ${sessionId}`;
    expect(held!.prevent_purge).toBe(true);
    expect((await call(alice, "patch", `/api/admin/policies/${policyId}`, policy())).status()).toBe(200);
  });

  test("access that ends with its weekly window ends the session with the warning first, and refuses after", async () => {
    test.setTimeout(150_000);
    const name = `gov-window-${run}`;
    const credentialId = await createCredential(alice.request, { name, kind: "password", username: sshd.username, secret: sshd.password });
    const windowTarget = await createTarget(alice.request, { name, protocol: "ssh", host: sshd.host, port: sshd.port, credentialId, tags: [name] });
    // The window closes at the next whole minute at least 30 s away (at midnight if that is tomorrow).
    const now = new Date();
    const end = new Date(Math.ceil((now.getTime() + 30_000) / 60_000) * 60_000);
    const to = end.getUTCDate() === now.getUTCDate() ? end.toISOString().slice(11, 16) : "24:00";
    const today = ((now.getUTCDay() + 6) % 7) + 1;
    const created = await call(alice, "post", "/api/admin/policies", {
      name,
      targetTags: [name],
      subjectUsers: ["carol"],
      access: "standing",
      weeklyWindows: [{ days: [today], from: "00:00", to }],
    });
    expect(created.status(), await created.text()).toBe(200);
    const windowPolicy = ((await created.json()) as { id: string }).id;
    try {
      const terminal = await TerminalClient.open(carol, windowTarget);
      await terminal.waitForMessage("connected");
      const warning = await terminal.waitForMessage("expiry");
      expect(Math.abs(new Date(warning.expiresAt).getTime() - (to === "24:00" ? new Date(now.toISOString().slice(0, 10) + "T00:00:00Z").getTime() + 86_400_000 : end.getTime()))).toBeLessThan(1000);
      const ended = await terminal.waitForMessage("ended", 100_000);
      expect(ended).toMatchObject({ reason: "expired", message: "your access ended: its window or request is over" });
      const refused = await call(carol, "post", "/api/tickets", { targetId: windowTarget, purpose: "terminal" });
      expect(((await refused.json()) as { error: string }).error).toMatch(/^Access refused: policy gov-window-\w+ allows access \w{3} 00:00–\d\d:\d\d \(UTC\) only$/);
    } finally {
      await call(alice, "delete", `/api/admin/policies/${windowPolicy}`);
    }
  });

  test("a password is shown for the seconds the settings allow, copied, audited and marked for rotation; only under a request", async () => {
    expect((await call(alice, "patch", "/api/admin/settings", { revealSeconds: 5 })).status()).toBe(200);
    expect((await call(alice, "patch", `/api/admin/policies/${policyId}`, policy({ allowCredentialReveal: true }))).status()).toBe(200);
    const checkout = () => call(carol, "post", `/api/targets/${targetId}/checkout`);
    // No request in its window yet: the policy's permission alone shows nothing.
    expect((await checkout()).status()).toBe(403);
    // A target under the same policy that logs in with a key: its key is never shown.
    const keyCredential = await createCredential(alice.request, { name: `gov-key-${run}`, kind: "private_key", username: sshd.username, secret: ssh2.utils.generateKeyPairSync("ed25519").private });
    const keyTarget = await createTarget(alice.request, { name: `gov-key-${run}`, protocol: "ssh", host: sshd.host, port: sshd.port, credentialId: keyCredential, tags: [`gov-${run}`] });
    const created = await requestAccess({ ticket: "INC000006", durationMinutes: 20, targetIds: [targetId, keyTarget] });
    const { id: requestId } = (await created.json()) as { id: string };
    expect((await call(sam, "post", `/api/requests/${requestId}/decision`, { decision: "approve" })).status()).toBe(200);

    await carol.grantPermissions(["clipboard-read", "clipboard-write"], { origin: ssoUrl() });
    const home = await carol.newPage();
    await home.goto(`${ssoUrl()}/`);
    home.once("dialog", (dialog) => void dialog.accept());
    await home.getByRole("button", { name: `Show the password of ${targetName}` }).click();
    await expect(home.getByTestId("password-value")).toHaveText(sshd.password);
    await home.getByTestId("checked-out-password").getByRole("button", { name: "Copy" }).click();
    expect(await home.evaluate(() => navigator.clipboard.readText())).toBe(sshd.password);
    await expect(home.getByTestId("checked-out-password")).toHaveCount(0, { timeout: 10_000 });
    const keyRefused = await call(carol, "post", `/api/targets/${keyTarget}/checkout`);
    expect(keyRefused.status()).toBe(403);
    expect(((await keyRefused.json()) as { error: string }).error).toBe("Private keys are never shown");

    const [revealed] = await sql`select details from audit_log where action = 'credential.reveal' and outcome = 'success' and object_id = ${targetId}`;
    expect(revealed!.details).toMatchObject({ target: targetName, username: sshd.username, requestId });
    const credentials = await alice.newPage();
    await credentials.goto(`${ssoUrl()}/admin/credentials`);
    await expect(credentials.getByRole("row").filter({ hasText: `gov-${run}` }).getByTestId("rotation-due")).toContainText(`shown to carol for ${targetName}`);
    // Nobody else sees it, and it is gone with the request.
    expect((await call(bob, "post", `/api/targets/${targetId}/checkout`)).status()).toBe(404);
    expect((await call(carol, "post", `/api/requests/${requestId}/cancel`, { reason: "done" })).status()).toBe(200);
    expect((await checkout()).status()).toBe(403);
    const refusals = await sql`select count(*)::int as count from audit_log where action = 'credential.reveal' and outcome = 'refused' and object_id = ${targetId}`;
    expect(refusals[0]!.count).toBeGreaterThanOrEqual(2);
    expect((await call(alice, "patch", `/api/admin/policies/${policyId}`, policy())).status()).toBe(200);
  });

  test("a logon notice must be accepted before connecting, and the texts admins write are what the user sees", async () => {
    const name = `gov-notice-${run}`;
    const credentialId = await createCredential(alice.request, { name, kind: "password", username: sshd.username, secret: sshd.password });
    const noticeTarget = await createTarget(alice.request, { name, protocol: "ssh", host: sshd.host, port: sshd.port, credentialId, tags: [name] });
    const created = await call(alice, "post", "/api/admin/policies", { name, targetTags: [name], subjectUsers: ["carol"], access: "standing", requireNoticeAcceptance: true });
    const noticePolicy = ((await created.json()) as { id: string }).id;
    const texts = { logonNotice: `Authorized use only (${run}).`, lockMessage: `Locked by the SOC (${run})`, terminationMessage: "Ended by the SOC", recordingNotice: `Recorded for audit (${run})` };
    try {
      const settings = await alice.newPage();
      await settings.goto(`${ssoUrl()}/admin/settings`);
      await settings.getByLabel("Logon notice").fill(texts.logonNotice);
      await settings.getByLabel("Lock message").fill(texts.lockMessage);
      await settings.getByLabel("Termination message").fill(texts.terminationMessage);
      await settings.getByLabel("Recording notice").fill(texts.recordingNotice);
      await settings.getByRole("button", { name: "Save texts" }).click();
      await expect(settings.getByRole("status")).toHaveText("Saved.");

      const refused = await call(carol, "post", "/api/tickets", { targetId: noticeTarget, purpose: "terminal" });
      expect(((await refused.json()) as { error: string }).error).toBe(`Access refused: accept the logon notice before connecting to ${name}`);
      const page = await carol.newPage();
      await page.goto(`${ssoUrl()}/`);
      await page.getByRole("link", { name: `Read the notice for ${name}` }).click();
      await expect(page.getByTestId("logon-notice")).toHaveText(texts.logonNotice);
      await page.getByRole("button", { name: "I accept" }).click();
      await expect(page.getByTestId("terminal-status")).toHaveText("Connected");
      await expect(page.getByTestId("recording-indicator")).toHaveText(texts.recordingNotice);
      const [accepted] = await sql`select details from audit_log where action = 'notice.accept' and object_id = ${noticeTarget}`;
      expect(accepted!.details.noticeSha256).toMatch(/^[0-9a-f]{64}$/);

      const [live] = await sql`select id from sessions where target_id = ${noticeTarget} and status <> 'ended'`;
      const sessionId = live!.id as string;
      expect((await call(sam, "post", `/api/sessions/${sessionId}/control`, { action: "lock", reason: "checking" })).status()).toBe(200);
      await expect(page.getByTestId("control-banner")).toHaveText(texts.lockMessage);
      expect((await call(sam, "post", `/api/sessions/${sessionId}/control`, { action: "terminate", reason: "shift over" })).status()).toBe(200);
      await expect(page.getByTestId("terminal-status")).toHaveText("Session terminated: Ended by the SOC: shift over");
    } finally {
      await call(alice, "patch", "/api/admin/settings", builtInSettings);
      await call(alice, "delete", `/api/admin/policies/${noticePolicy}`);
    }
  });

  test("a covered target's recordings open to its reviewers, or on a justification an approver accepts; search shows only what may be opened", async () => {
    const [first] = await sql`select id from sessions where target_id = ${targetId} and request_id is not null order by started_at limit 1`;
    const sessionId = first!.id as string;
    const hitsFor = async () => ((await (await alice.request.get(`${ssoUrl()}/api/recordings/search?q=under-request`)).json()) as { sessionId: string }[]).some((hit) => hit.sessionId === sessionId);
    const page = await alice.newPage();
    await page.goto(`${ssoUrl()}/recordings/${sessionId}`);
    await expect(page.getByRole("alert").filter({ hasText: "You may not open" })).toHaveText(`You may not open this recording: recordings of ${targetName} open to the reviewers of gov-${run}, or with an approved justification.`);
    expect((await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/window?at=0`)).status()).toBe(403);
    expect(await hitsFor()).toBe(false);

    await page.getByLabel("Why do you need to see it?").fill("Incident INC-42: what ran on the replica");
    await page.getByRole("button", { name: "Ask for access" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Asked" })).toBeVisible();
    const [asked] = await sql`select id, notes from access_requests where kind = 'recording' and session_id = ${sessionId} and status = 'pending'`;
    expect(asked!.notes).toBe("Incident INC-42: what ran on the replica");
    // The approvers of the policy decide, as for access to the target.
    expect((await call(carol, "post", `/api/requests/${asked!.id}/decision`, { decision: "approve" })).status()).toBe(403);
    expect(await (await call(sam, "post", `/api/requests/${asked!.id}/decision`, { decision: "approve", comment: "for INC-42" })).json()).toEqual({ status: "approved" });

    await page.reload();
    await expect(page.getByTestId("player-terminal")).toBeVisible();
    expect((await alice.request.get(`${ssoUrl()}/api/recordings/${sessionId}/window?at=0`)).status()).toBe(200);
    expect(await hitsFor()).toBe(true);
    const [refused] = await sql`select count(*)::int as count from audit_log where action = 'recording.read' and outcome = 'refused' and object_id = ${sessionId}`;
    expect(refused!.count).toBeGreaterThanOrEqual(1);
  });

  test("auditors get the sessions their policy samples, review or flag them, and flagged ones show on Live", async () => {
    const name = `gov-audit-${run}`;
    const credentialId = await createCredential(alice.request, { name, kind: "password", username: sshd.username, secret: sshd.password });
    const auditTarget = await createTarget(alice.request, { name, protocol: "ssh", host: sshd.host, port: sshd.port, credentialId, tags: [name] });
    const created = await call(alice, "post", "/api/admin/policies", { name, targetTags: [name], subjectUsers: ["carol"], access: "standing", auditorUsers: ["bob"], auditSamplePercent: 100 });
    expect(created.status(), await created.text()).toBe(200);
    const auditPolicy = ((await created.json()) as { id: string }).id;
    try {
      const terminal = await TerminalClient.open(carol, auditTarget);
      const { sessionId } = await terminal.waitForMessage("connected");
      terminal.type(`echo audited-${run}\r`);
      await terminal.waitForOutput(`audited-${run}\r\n`);
      await terminal.close();
      const [assigned] = await sql`select status from session_audits where session_id = ${sessionId}`;
      expect(assigned!.status).toBe("pending");

      // Bob holds no role beyond user: being the policy's auditor is what lets him in.
      const page = await bob.newPage();
      await page.goto(`${ssoUrl()}/`);
      await expect(page.getByTestId("audits-badge")).toHaveText("1");
      await page.getByRole("link", { name: /Audits/ }).click();
      const card = page.getByRole("listitem", { name: `Audit of carol on ${name}` });
      await card.getByRole("link", { name: "Open the recording" }).click();
      await expect(page.getByTestId("player-terminal")).toBeVisible();
      await page.goBack();
      await card.getByRole("button", { name: "Start review" }).click();
      await expect(card.getByTestId("audit-status")).toHaveText("In review");
      await card.getByLabel(`Notes on carol on ${name}`).fill("printed the shadow file");
      await card.getByRole("button", { name: `Flag carol on ${name}` }).click();
      await expect(card.getByTestId("audit-status")).toHaveText("Flagged");
      // Only the assigning policy's auditors may mark it.
      expect((await call(sam, "patch", `/api/audits/${sessionId}/${auditPolicy}`, { status: "reviewed" })).status()).toBe(404);

      const live = await sam.newPage();
      await live.goto(`${ssoUrl()}/live`);
      await expect(live.getByRole("list", { name: "Flagged sessions" })).toContainText(`carol on ${name} flagged by bob: printed the shadow file`);
      const steps = await sql`select actor_name, outcome, details->>'status' as status from audit_log where action = 'session.audit' and object_id = ${sessionId} order by seq`;
      expect(steps.map((step) => `${step.actor_name} ${step.status} ${step.outcome}`)).toEqual(["bob in_review success", "bob flagged success", "sam reviewed refused"]);
    } finally {
      await call(alice, "delete", `/api/admin/policies/${auditPolicy}`);
    }
  });

  test("a session under a request is warned before the request ends and extended within the policy's longest duration, the request with it", async () => {
    const created = await requestAccess({ ticket: "INC000007", durationMinutes: 5 });
    const { id: requestId } = (await created.json()) as { id: string };
    expect((await call(sam, "post", `/api/requests/${requestId}/decision`, { decision: "approve" })).status()).toBe(200);
    const terminal = await TerminalClient.open(carol, targetId);
    await terminal.waitForMessage("connected");
    // Five minutes from the approval: the warning comes at once, with room to extend (the target adds 10 minutes).
    const warning = await terminal.waitForMessage("expiry");
    expect(warning.canExtend).toBe(true);
    const [{ window_ends_at: granted }] = (await sql`select window_ends_at from access_requests where id = ${requestId}`) as unknown as [{ window_ends_at: Date }];
    expect(Math.abs(new Date(warning.expiresAt).getTime() - granted.getTime())).toBeLessThan(1000);
    const extensions: { expiresAt: string; canExtend: boolean }[] = [];
    const expiries = () => terminal.messages.filter((message) => message.type === "expiry") as { expiresAt: string; canExtend: boolean }[];
    // 5 + 10 × 5 = 55 minutes fit the policy's 60; a sixth would not.
    for (let step = 1; step <= 5; step++) {
      terminal.control({ type: "extend" });
      await expect.poll(() => expiries().length, { timeout: 5000 }).toBe(step + 1);
      extensions.push(expiries().at(-1)!);
    }
    expect(extensions.map((extension) => Math.round((new Date(extension.expiresAt).getTime() - granted.getTime()) / 60_000))).toEqual([10, 20, 30, 40, 50]);
    expect(extensions.at(-1)!.canExtend).toBe(false);
    const [request] = await sql`select window_ends_at from access_requests where id = ${requestId}`;
    expect(new Date(request!.window_ends_at).toISOString()).toBe(new Date(extensions.at(-1)!.expiresAt).toISOString());
    const extended = await sql`select count(*)::int as count from audit_log where action = 'request.extend' and object_id = ${requestId}`;
    expect(extended[0]!.count).toBe(5);
    // Still connected past the request's first end: the re-check follows the extended window.
    terminal.type("echo extended\r");
    await terminal.waitForOutput("extended\r\n");
    await terminal.close();
    expect((await call(carol, "post", `/api/requests/${requestId}/cancel`, { reason: "done" })).status()).toBe(200);
  });
});
