import { embeddedUrl, expect, test } from "./fixtures/test";

const password = "a correct horse battery staple";

// One story on a fresh data dir, in order: the setup link, then sign-in, then the first target.
test.describe.configure({ mode: "serial" });

test("the first-start link sets the admin password once", async ({ page }) => {
  const setupUrl = process.env.E2E_EMBEDDED_SETUP_URL!;
  await page.goto(setupUrl);
  await page.getByLabel("New password").fill("short");
  await page.getByLabel("Repeat the password").fill("short");
  await page.getByRole("button", { name: "Set password" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "at least 12 characters" })).toBeVisible();

  await page.getByLabel("New password").fill(password);
  await page.getByLabel("Repeat the password").fill(password);
  await page.getByRole("button", { name: "Set password" }).click();
  await expect(page.getByText("Password set. Sign in as admin.")).toBeVisible();

  await page.goto(setupUrl);
  await expect(page.getByRole("alert").filter({ hasText: "has been used or has expired" })).toBeVisible();
});

test("the embedded admin signs in, adds a credential and a target, and reaches it", async ({ page }) => {
  await page.goto(`${embeddedUrl()}/`);
  await expect(page).toHaveURL(`${embeddedUrl()}/signin`);
  await page.getByLabel("Password", { exact: true }).fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "The username or password is not right." })).toBeVisible();

  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText("Administrator · admin, user");
  await expect(page.getByText("No targets for you yet")).toBeVisible();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Credentials" }).click();
  await expect(page.getByRole("heading", { name: "Credentials", level: 1 })).toBeVisible();
  await page.getByLabel("Name", { exact: true }).fill("deploy-password");
  await page.getByLabel("Username on the target").fill("deploy");
  await page.getByLabel("Password", { exact: true }).fill("target-secret-9f2b");
  const created = page.waitForResponse((response) => response.url().endsWith("/api/admin/credentials") && response.request().method() === "POST");
  await page.getByRole("button", { name: "Add credential" }).click();
  expect(await (await created).text()).not.toContain("target-secret-9f2b");
  await expect(page.getByRole("cell", { name: "deploy-password", exact: true })).toBeVisible();
  expect(await page.content()).not.toContain("target-secret-9f2b");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Targets", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Targets", level: 1 })).toBeVisible();
  await page.getByLabel("Name", { exact: true }).fill("gateway-itself");
  await page.getByLabel("Host", { exact: true }).fill("127.0.0.1");
  await page.getByLabel("Port").fill("70000");
  await page.getByLabel("Allowed users").fill("admin");
  await page.getByLabel("Credential").selectOption({ label: "deploy-password (deploy)" });
  await page.getByRole("button", { name: "Add target" }).click();
  await expect(page.locator("#port-error")).toHaveText("Port must be 1–65535");
  await expect(page.getByLabel("Port")).toHaveAttribute("aria-invalid", "true");

  await page.getByLabel("Port").fill(new URL(embeddedUrl()).port);
  await page.getByRole("button", { name: "Add target" }).click();
  await expect(page.getByRole("button", { name: "Edit gateway-itself" })).toBeVisible();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My targets" }).click();
  await expect(page.getByRole("heading", { name: "gateway-itself" })).toBeVisible();
  await page.getByRole("button", { name: "Check whether gateway-itself is reachable" }).click();
  await expect(page.getByRole("status")).toHaveText(/^Reachable \(/);
});

test("the audit log shows what happened and verifies its chain", async ({ page }) => {
  await page.goto(`${embeddedUrl()}/signin`);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("heading", { name: "Audit log", level: 1 })).toBeVisible();
  await expect(page.getByRole("status")).toHaveText(/^Chain verified: \d+ entries intact/);
  const actions = await page.locator("tbody tr td:nth-child(4)").allTextContents();
  expect(actions).toEqual(expect.arrayContaining(["user.set_password", "login", "credential.create", "target.create", "connect.ticket", "connect"]));
  const failure = page.locator("tbody tr", { hasText: "login" }).filter({ hasText: "failure" });
  await expect(failure.first()).toBeVisible();
  // Password sign-ins are audited with the address they came from.
  await expect(failure.first().locator("td").nth(6)).toHaveText("127.0.0.1");
});

test("password guessing is slowed: the sixth wrong attempt for an account is refused outright", async ({ page }) => {
  const attempt = async (password: string) => {
    await page.goto(`${embeddedUrl()}/signin`);
    await page.getByLabel("Username").fill("mallory");
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/error=/);
  };
  for (let guess = 1; guess <= 5; guess++) {
    await attempt(`guess-${guess}`);
    await expect(page.getByRole("alert").filter({ hasText: "The username or password is not right." })).toBeVisible();
  }
  await attempt("guess-6");
  await expect(page.getByRole("alert").filter({ hasText: "Too many failed attempts. Wait 15 minutes and try again." })).toBeVisible();
});
