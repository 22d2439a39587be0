import { randomBytes } from "node:crypto";
import type { Page } from "@playwright/test";
import { encode } from "next-auth/jwt";
import postgres from "postgres";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const navLink = (page: Page, name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });

test("an IdP admin signs in through SSO and lands on home with the admin role", async ({ page }) => {
  await signInWithSso(page, "alice");
  await expect(page.getByRole("heading", { name: "My targets" })).toBeVisible();
  await expect(page.getByTestId("signed-in-as")).toHaveText("Alice Admin · admin, user");
  await expect(navLink(page, "Targets")).toBeVisible();
});

test("an email address the IdP has not verified reaches nothing: allow lists match usernames and verified emails", { tag: "@security" }, async ({ browser }) => {
  const admin = await browser.newContext();
  await signInWithSso(await admin.newPage(), "alice");
  const name = `by-email-${Date.now().toString(36)}`;
  const created = await admin.request.post(`${ssoUrl()}/api/admin/targets`, { headers: { origin: ssoUrl() }, data: { name, protocol: "ssh", host: "127.0.0.1", port: 22, allowedUsers: ["bob@example.com"] } });
  expect(created.status()).toBe(200);
  const targetId = ((await created.json()) as { id: string }).id;
  await admin.close();
  const mallory = await browser.newContext();
  const page = await mallory.newPage();
  await signInWithSso(page, "mallory");
  await expect(page.getByTestId("signed-in-as")).toContainText("Mallory Mask");
  await expect(page.getByText(name)).toHaveCount(0);
  const ticket = await mallory.request.post(`${ssoUrl()}/api/tickets`, { headers: { origin: ssoUrl() }, data: { purpose: "terminal", targetId } });
  expect(ticket.status()).toBe(403);
  await mallory.close();
  // Bob, whose address the IdP verified, is let in by it.
  const bob = await browser.newContext();
  const bobPage = await bob.newPage();
  await signInWithSso(bobPage, "bob");
  await expect(bobPage.getByText(name)).toBeVisible();
  await bob.close();
});

test("a member of a security group gets the security role and no admin pages", async ({ page }) => {
  await signInWithSso(page, "sam");
  await expect(page.getByTestId("signed-in-as")).toHaveText("Sam Secops · security, user");
  await expect(navLink(page, "Audit log")).toBeVisible();
  await expect(navLink(page, "Targets")).toHaveCount(0);
  const response = await page.goto(`${ssoUrl()}/admin/users`);
  expect(response?.status()).toBe(403);
});

test("a plain user gets 403 on every admin page and API route, and nothing changes", async ({ page }) => {
  await signInWithSso(page, "bob");
  await expect(page.getByTestId("signed-in-as")).toHaveText("Bob Builder · user");
  await expect(navLink(page, "Targets")).toHaveCount(0);

  for (const path of ["/admin/targets", "/admin/credentials", "/admin/users", "/admin/audit", "/admin/nodes"]) {
    const response = await page.goto(`${ssoUrl()}${path}`);
    expect(response?.status(), path).toBe(403);
    await expect(page.getByRole("heading", { name: "You do not have access to this page" })).toBeVisible();
  }

  const api = page.request;
  for (const path of ["/api/admin/targets", "/api/admin/credentials", "/api/admin/users", "/api/admin/role-mappings", "/api/admin/audit", "/api/admin/nodes"]) {
    expect((await api.get(`${ssoUrl()}${path}`)).status(), path).toBe(403);
  }
  const attempt = await api.post(`${ssoUrl()}/api/admin/targets`, {
    headers: { origin: ssoUrl() },
    data: { name: "sneaky", protocol: "ssh", host: "10.0.0.1", port: 22, allowedUsers: "bob" },
  });
  expect(attempt.status()).toBe(403);
  expect(await attempt.json()).toEqual({ error: "This needs the admin role" });
  const grant = await api.post(`${ssoUrl()}/api/admin/role-mappings`, { headers: { origin: ssoUrl() }, data: { group: "engineers", role: "admin" } });
  expect(grant.status()).toBe(403);
});

test("a visitor who is not signed in is sent to sign in, and the API answers 401", async ({ page }) => {
  await page.goto(`${ssoUrl()}/admin/targets`);
  await expect(page).toHaveURL(`${ssoUrl()}/signin`);
  expect((await page.request.get(`${ssoUrl()}/api/targets`)).status()).toBe(401);
});

test("pages and the API know a person by one intact session cookie: a forged, altered or doubled one names nobody", { tag: "@security" }, async ({ browser }) => {
  const context = await browser.newContext();
  await signInWithSso(await context.newPage(), "bob");
  const session = (await context.cookies(ssoUrl())).find(({ name }) => name === "authjs.session-token");
  expect(session, "the session cookie after signing in").toBeDefined();
  const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
  const [bob] = await sql<{ id: string }[]>`select id from users where username = 'bob'`;
  await sql.end();
  const asking = async (cookie: string) => {
    const api = await fetch(`${ssoUrl()}/api/targets`, { headers: { cookie } });
    const page = await fetch(`${ssoUrl()}/`, { headers: { cookie }, redirect: "manual" });
    return { api: api.status, page: page.status === 200 ? "shown" : `${page.status} ${page.headers.get("location")}` };
  };
  const refused = { api: 401, page: "307 /signin" };
  expect(await asking(`authjs.session-token=${session!.value}`)).toEqual({ api: 200, page: "shown" });
  // Sealed with a key that is not the gateway's, for the very same account.
  const forged = await encode({ token: { uid: bob!.id, sub: bob!.id }, secret: randomBytes(33).toString("base64"), salt: "authjs.session-token", maxAge: 3600 });
  expect(await asking(`authjs.session-token=${forged}`)).toEqual(refused);
  const altered = `${session!.value.slice(0, -2)}${session!.value.endsWith("AA") ? "BB" : "AA"}`;
  expect(await asking(`authjs.session-token=${altered}`)).toEqual(refused);
  // Twice, as when another host of the site planted one beside it: neither is taken.
  expect(await asking(`authjs.session-token=${session!.value}; authjs.session-token=${session!.value}`)).toEqual(refused);
  await context.close();
});

test("signing in and out are audited, and signing out ends the session", async ({ page }) => {
  const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    const [before] = await sql<{ count: number }[]>`select count(*)::int as count from audit_log where actor_name = 'sam' and action = 'logout'`;
    await signInWithSso(page, "sam");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(`${ssoUrl()}/signin`);
    expect((await page.request.get(`${ssoUrl()}/api/targets`)).status()).toBe(401);
    const [after] = await sql<{ count: number }[]>`select count(*)::int as count from audit_log where actor_name = 'sam' and action = 'logout'`;
    expect(after!.count).toBe(before!.count + 1);
    const [login] = await sql`select * from audit_log where actor_name = 'sam' and action = 'login' order by seq desc limit 1`;
    expect(login).toMatchObject({ outcome: "success", source_ip: "127.0.0.1" });
    expect(login!.details).toEqual({ method: "oidc" });
  } finally {
    await sql.end();
  }
});

test("a disabled account is signed out on its next request and cannot sign in again", async ({ browser }) => {
  const victim = await browser.newPage();
  await signInWithSso(victim, "carol");
  const admin = await browser.newPage();
  await signInWithSso(admin, "alice");
  const users = (await (await admin.request.get(`${ssoUrl()}/api/admin/users`)).json()) as { id: string; username: string }[];
  const carol = users.find((user) => user.username === "carol")!;
  const headers = { origin: ssoUrl() };
  expect((await admin.request.patch(`${ssoUrl()}/api/admin/users/${carol.id}`, { headers, data: { disabled: true } })).status()).toBe(200);
  expect((await victim.request.get(`${ssoUrl()}/api/targets`)).status()).toBe(401);
  await victim.context().clearCookies();
  await victim.goto(`${ssoUrl()}/signin`);
  await victim.getByRole("button", { name: "Sign in with Test IdP" }).click();
  await victim.locator('input[name="login"]').fill("carol");
  await victim.locator('input[name="password"]').fill("any");
  await victim.getByRole("button", { name: "Sign-in" }).click();
  await victim.getByRole("button", { name: "Continue" }).click().catch(() => {});
  await expect(victim.getByRole("alert").filter({ hasText: "Your account is disabled" })).toBeVisible();
  expect((await admin.request.patch(`${ssoUrl()}/api/admin/users/${carol.id}`, { headers, data: { disabled: false } })).status()).toBe(200);
});
