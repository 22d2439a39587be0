import type { Page } from "@playwright/test";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const navLink = (page: Page, name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });

test("an IdP admin signs in through SSO and lands on home with the admin role", async ({ page }) => {
  await signInWithSso(page, "alice");
  await expect(page.getByRole("heading", { name: "My targets" })).toBeVisible();
  await expect(page.getByTestId("signed-in-as")).toHaveText("Alice Admin · admin, user");
  await expect(navLink(page, "Targets")).toBeVisible();
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

  for (const path of ["/admin/targets", "/admin/credentials", "/admin/users", "/admin/audit"]) {
    const response = await page.goto(`${ssoUrl()}${path}`);
    expect(response?.status(), path).toBe(403);
    await expect(page.getByRole("heading", { name: "You do not have access to this page" })).toBeVisible();
  }

  const api = page.request;
  for (const path of ["/api/admin/targets", "/api/admin/credentials", "/api/admin/users", "/api/admin/role-mappings", "/api/admin/audit"]) {
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

test("signing out ends the session", async ({ page }) => {
  await signInWithSso(page, "bob");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(`${ssoUrl()}/signin`);
  expect((await page.request.get(`${ssoUrl()}/api/targets`)).status()).toBe(401);
});
