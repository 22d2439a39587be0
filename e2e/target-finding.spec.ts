// The target form that fits the protocol chosen, and finding targets by words and tags on the home page and
// the admin's Targets page.
import postgres from "postgres";
import { createTarget } from "./fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const run = Date.now().toString(36);

test("the target form shows the chosen protocol's settings in sections, and a save keeps the others' values", async ({ browser }) => {
  const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
  const page = await browser.newPage();
  await signInWithSso(page, "alice");
  await page.goto(`${ssoUrl()}/admin/targets`);
  const form = page.locator("form").filter({ has: page.getByRole("button", { name: "Add target" }) });
  for (const section of ["Target", "Connection", "Sessions", "Recording", "Who may connect"]) await expect(form.getByRole("group", { name: section })).toBeVisible();

  const shown = async (labels: string[], hidden: string[]) => {
    for (const label of labels) await expect(form.getByLabel(label, { exact: true }), `${label} shown`).toBeVisible();
    for (const label of hidden) await expect(form.getByLabel(label, { exact: true }), `${label} hidden`).toBeHidden();
  };
  // SSH, the default.
  await shown(["Host", "Port", "Pinned host key", "Allow legacy SSH algorithms (SHA-1, CBC) for old devices"], ["RDP security", "Keyboard layout", "Internal URL", "Auth header", "Idle timeout (min)", "The user may paste text onto the desktop"]);
  await form.getByLabel("Protocol").selectOption("rdp");
  await expect(form.getByLabel("Port")).toHaveValue("3389");
  await shown(["Host", "RDP security", "Keyboard layout", "Pinned certificate", "The user may paste text onto the desktop"], ["Allow legacy SSH algorithms (SHA-1, CBC) for old devices", "Internal URL", "Idle timeout (min)"]);
  await form.getByLabel("Protocol").selectOption("vnc");
  await shown(["Host", "Text copied on the desktop reaches the user"], ["RDP security", "Pinned certificate", "Pinned host key", "Internal URL"]);
  await form.getByLabel("Protocol").selectOption("web");
  await shown(["Internal URL", "Auth header", "Idle timeout (min)", "Mask every form field in web recordings (password fields are always masked)"], ["Host", "Port", "RDP security", "Pinned host key"]);

  // An RDP target whose desktop settings differ from the defaults, renamed through the form: they stay.
  const id = await createTarget(page.request, { name: `form-rdp-${run}`, protocol: "rdp", host: "127.0.0.1", port: 3389, keyboardLayout: "de-de-qwertz", clipboardPaste: false, rdpSecurity: "tls", allowedUsers: ["alice"] });
  // Found by words, as an admin with many targets would.
  await page.goto(`${ssoUrl()}/admin/targets?q=${encodeURIComponent(`form-rdp ${run}`)}`);
  await page.getByRole("button", { name: `Edit form-rdp-${run}` }).click();
  const editor = page.locator("form").filter({ has: page.getByRole("button", { name: "Save changes" }) });
  await expect(editor.getByLabel("Keyboard layout")).toHaveValue("de-de-qwertz");
  await editor.getByLabel("Name", { exact: true }).fill(`form-rdp-renamed-${run}`);
  await editor.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("button", { name: `Edit form-rdp-renamed-${run}` })).toBeVisible();
  const [saved] = await sql`select name, keyboard_layout, clipboard_paste, clipboard_copy, rdp_security from targets where id = ${id}`;
  expect(saved).toEqual({ name: `form-rdp-renamed-${run}`, keyboard_layout: "de-de-qwertz", clipboard_paste: false, clipboard_copy: true, rdp_security: "tls" });
  await page.close();
  await sql.end();
});

test("people find targets by words and by tag, on the home page and the Targets page, and are told how many match", async ({ browser }) => {
  const admin = await browser.newPage();
  await signInWithSso(admin, "alice");
  const names = { db: `find-db-${run}`, cache: `find-cache-${run}`, wiki: `find-wiki-${run}` };
  await createTarget(admin.request, { name: names.db, protocol: "ssh", host: "10.20.0.5", port: 22, tags: [`prod-${run}`, "postgres"], allowedUsers: ["erin"] });
  await createTarget(admin.request, { name: names.cache, protocol: "ssh", host: "10.20.0.6", port: 22, tags: [`prod-${run}`], allowedUsers: ["erin"] });
  await createTarget(admin.request, { name: names.wiki, protocol: "vnc", host: "10.30.0.7", port: 5900, tags: [`staging-${run}`], allowedUsers: ["erin"] });

  const page = await browser.newPage();
  await signInWithSso(page, "erin");
  const cards = page.getByRole("list", { name: "Targets" }).getByRole("heading");
  await expect(cards).toHaveText([names.cache, names.db, names.wiki].sort());
  const search = page.getByRole("search", { name: "Find targets" });
  await search.getByLabel("Search").fill("10.20 postgres");
  await search.getByRole("button", { name: "Find" }).click();
  await expect(cards).toHaveText([names.db]);
  await expect(search.getByRole("status")).toHaveText(/^1 of 3 targets/);

  await search.getByRole("link", { name: "show all" }).click();
  await expect(cards).toHaveCount(3);
  // A tag on a card filters by it.
  await page.getByRole("listitem").filter({ hasText: names.db }).getByRole("link", { name: `Targets tagged prod-${run}` }).click();
  await expect(cards).toHaveText([names.cache, names.db].sort());
  await expect(search.getByLabel("Tag")).toHaveValue(`prod-${run}`);
  await search.getByLabel("Search").fill("nothing-like-this");
  await search.getByRole("button", { name: "Find" }).click();
  await expect(page.getByRole("heading", { name: "No target matches" })).toBeVisible();
  // Oversized or repeated values in the URL are dropped, not an error page.
  expect((await page.goto(`${ssoUrl()}/?q=${"x".repeat(300)}&tag=a&tag=b`))?.status()).toBe(200);
  await expect(cards).toHaveCount(3);

  await admin.goto(`${ssoUrl()}/admin/targets?tag=${encodeURIComponent(`staging-${run}`)}`);
  await expect(admin.getByRole("button", { name: /^Edit / })).toHaveCount(1);
  await expect(admin.getByRole("button", { name: `Edit ${names.wiki}` })).toBeVisible();
  await Promise.all([page.close(), admin.close()]);
});

test("the admin's Targets list comes a hundred at a time, by name, with the next page a link away and the count of all that match", async ({ browser }) => {
  const admin = await browser.newPage();
  await signInWithSso(admin, "alice");
  const names = Array.from({ length: 103 }, (_, index) => `page-${run}-${String(index).padStart(3, "0")}`);
  for (let start = 0; start < names.length; start += 10) {
    await Promise.all(names.slice(start, start + 10).map((name) => createTarget(admin.request, { name, protocol: "ssh", host: "10.40.0.1", port: 22, tags: [`paged-${run}`] })));
  }
  await admin.goto(`${ssoUrl()}/admin/targets?q=${encodeURIComponent(`page-${run}`)}`);
  const edits = admin.getByRole("button", { name: /^Edit / });
  await expect(edits).toHaveCount(100);
  await expect(edits.first()).toHaveAccessibleName(`Edit ${names[0]}`);
  await expect(edits.last()).toHaveAccessibleName(`Edit ${names[99]}`);
  await expect(admin.getByRole("search", { name: "Find targets" }).getByRole("status")).toHaveText(/^103 of \d+ targets/);
  const pages = admin.getByRole("navigation", { name: "Pages of targets" });
  await expect(pages.getByRole("link", { name: "First page" })).toHaveCount(0);
  await pages.getByRole("link", { name: "Next 100 targets" }).click();
  await expect(edits).toHaveCount(3);
  for (const [index, name] of names.slice(100).entries()) await expect(edits.nth(index)).toHaveAccessibleName(`Edit ${name}`);
  await pages.getByRole("link", { name: "First page" }).click();
  await expect(edits).toHaveCount(100);

  // The API pages the same way: a Link header to the next page, and the count of all that match.
  const first = await admin.request.get(`${ssoUrl()}/api/admin/targets?tag=${encodeURIComponent(`paged-${run}`)}`);
  expect(first.headers()["x-total-count"]).toBe("103");
  expect(((await first.json()) as { name: string }[]).map((target) => target.name)).toEqual(names.slice(0, 100));
  const next = /^<([^>]+)>; rel="next"$/.exec(first.headers().link ?? "")?.[1];
  expect(next).toBeDefined();
  const second = await admin.request.get(`${ssoUrl()}${next}`);
  expect(((await second.json()) as { name: string }[]).map((target) => target.name)).toEqual(names.slice(100));
  expect(second.headers().link).toBeUndefined();
  await admin.close();
});
