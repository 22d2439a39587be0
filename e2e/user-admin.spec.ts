import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

test("an admin grants a role by hand and maps a group to a role; both take effect", async ({ browser }) => {
  const bob = await browser.newPage();
  await signInWithSso(bob, "bob");
  await expect(bob.getByTestId("signed-in-as")).toHaveText("Bob Builder · user");

  const alice = await browser.newPage();
  await signInWithSso(alice, "alice");
  await alice.goto(`${ssoUrl()}/admin/users`);
  const bobRow = alice.getByRole("row", { name: /Bob Builder/ });
  // The checkbox shows its new state at once; the grant is made when the gateway has answered.
  const granted = alice.waitForResponse((response) => response.url().includes("/api/admin/users/") && response.request().method() === "PATCH");
  await bobRow.getByRole("group", { name: "Roles granted to bob" }).getByLabel("reviewer").check();
  expect((await granted).status()).toBe(200);
  await expect(bobRow.getByRole("group", { name: "Roles granted to bob" }).getByLabel("reviewer")).toBeChecked();

  await bob.reload();
  await expect(bob.getByTestId("signed-in-as")).toHaveText("Bob Builder · reviewer, user");

  await alice.getByLabel("Group").fill("engineers");
  await alice.getByLabel("Role").selectOption("security");
  await alice.getByRole("button", { name: "Add mapping" }).click();
  await expect(alice.getByRole("button", { name: "Remove engineers to security" })).toBeVisible();

  // Roles from groups are recomputed at sign-in.
  await bob.context().clearCookies();
  await signInWithSso(bob, "bob");
  await expect(bob.getByTestId("signed-in-as")).toHaveText("Bob Builder · security, reviewer, user");

  await alice.getByRole("button", { name: "Remove engineers to security" }).click();
  await expect(alice.getByRole("button", { name: "Remove engineers to security" })).toHaveCount(0);
});

test("an admin cannot lock themselves out", async ({ page }) => {
  await signInWithSso(page, "alice");
  const users = await page.request.get(`${ssoUrl()}/api/admin/users`);
  const alice = ((await users.json()) as { id: string; username: string }[]).find((user) => user.username === "alice")!;
  const response = await page.request.patch(`${ssoUrl()}/api/admin/users/${alice.id}`, { headers: { origin: ssoUrl() }, data: { disabled: true } });
  expect(response.status()).toBe(400);
  expect(await response.json()).toEqual({ error: "You cannot disable your own account; ask another admin" });
});

test("tampered ids get 404 or a field error, never a server error", async ({ page }) => {
  await signInWithSso(page, "alice");
  const headers = { origin: ssoUrl() };
  expect((await page.request.delete(`${ssoUrl()}/api/admin/targets/not-a-uuid`, { headers })).status()).toBe(404);
  expect((await page.request.delete(`${ssoUrl()}/api/admin/credentials/00000000-0000-4000-8000-000000000000`, { headers })).status()).toBe(404);
  expect((await page.request.patch(`${ssoUrl()}/api/admin/users/%27%3B--`, { headers, data: { disabled: true } })).status()).toBe(404);
  const badBody = await page.request.post(`${ssoUrl()}/api/admin/targets`, { headers: { ...headers, "content-type": "application/json" }, data: "{not json" });
  expect(badBody.status()).toBe(400);
  const crossSite = await page.request.post(`${ssoUrl()}/api/admin/targets`, {
    headers: { origin: "http://evil.example" },
    data: { name: "x", protocol: "ssh", host: "h", port: 22 },
  });
  expect(crossSite.status()).toBe(403);
  const unknownCredential = await page.request.post(`${ssoUrl()}/api/admin/targets`, {
    headers,
    data: { name: "with-ghost-credential", protocol: "ssh", host: "h", port: 22, credentialId: "00000000-0000-4000-8000-000000000000" },
  });
  expect(unknownCredential.status()).toBe(400);
  expect(await unknownCredential.json()).toMatchObject({ fields: { credentialId: "No such credential" } });
});
