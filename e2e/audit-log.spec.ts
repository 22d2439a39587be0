// The audit log as security reads it: filters, pages older entries by entry number, exports what a filter
// matches as CSV or JSON Lines (audited), and verifies the chain without walking all of it on every load.
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const run = Date.now().toString(36);

test("security filters the audit log, pages back through it, and exports what the filter matches", async ({ browser }) => {
  const started = new Date(Date.now() - 60_000).toISOString().slice(0, 16);
  const alice = await browser.newPage();
  await signInWithSso(alice, "alice");
  // More than a page of searches, each audited.
  for (let batch = 0; batch < 11; batch++) {
    await Promise.all(Array.from({ length: 20 }, (_, index) => alice.request.get(`${ssoUrl()}/api/recordings/search?q=audit-page-${run}-${batch * 20 + index}`).then((response) => expect(response.status()).toBe(200))));
  }

  const sam = await browser.newPage();
  await signInWithSso(sam, "sam");
  await sam.goto(`${ssoUrl()}/admin/audit`);
  await expect(sam.getByRole("status")).toHaveText(/^Chain verified: \d+ entries intact/);
  await sam.getByLabel("Action starts with").fill("recording.search");
  await sam.getByLabel("Actor").fill("alice");
  await sam.getByLabel("Outcome").selectOption("success");
  await sam.getByLabel("From (UTC)").fill(started);
  await sam.getByRole("button", { name: "Filter" }).click();
  await expect(sam).toHaveURL(/action=recording\.search&actor=alice&objectType=&objectId=&outcome=success&from=/);
  const table = sam.getByRole("table", { name: "Audit entries" });
  const numbers = async () => (await table.locator("tbody tr td:nth-child(1)").allTextContents()).map(Number);
  const firstPage = await numbers();
  expect(firstPage).toHaveLength(200);
  expect(await table.locator("tbody tr td:nth-child(4)").allTextContents()).toEqual(firstPage.map(() => "recording.search"));
  expect([...firstPage].sort((a, b) => b - a)).toEqual(firstPage);

  await sam.getByRole("link", { name: "Older entries" }).click();
  await expect(sam).toHaveURL(new RegExp(`before=${firstPage.at(-1)}`));
  await expect(sam).toHaveURL(/action=recording\.search/);
  await expect.poll(async () => (await numbers())[0]).toBeLessThan(firstPage.at(-1)!);
  const secondPage = await numbers();
  expect(secondPage.length).toBeGreaterThanOrEqual(20);
  expect(Math.max(...secondPage)).toBeLessThan(Math.min(...firstPage));
  await sam.getByRole("link", { name: "Newest" }).click();
  await expect(sam).not.toHaveURL(/before=/);
  await expect.poll(numbers).toEqual(firstPage);

  // The exports carry the filter; every entry it matches, oldest first; each export audited.
  const csvHref = await sam.getByRole("link", { name: "Export CSV" }).getAttribute("href");
  expect(csvHref).toContain("action=recording.search");
  const csv = await sam.request.get(`${ssoUrl()}${csvHref}`);
  expect(csv.status()).toBe(200);
  expect(csv.headers()["content-type"]).toContain("text/csv");
  expect(csv.headers()["content-disposition"]).toMatch(/^attachment; filename="gatehouse-audit-\d{8}T\d{6}\.csv"$/);
  const [header, ...lines] = (await csv.text()).trimEnd().split("\r\n");
  expect(header).toBe("seq,at,actorName,actorId,sourceIp,action,outcome,objectType,objectId,details,hash");
  // Other tests may search as alice meanwhile: the export holds at least the pages shown.
  expect(lines.length).toBeGreaterThanOrEqual(firstPage.length + secondPage.length);
  expect(lines.filter((line) => line.includes(`audit-page-${run}-`))).toHaveLength(220);
  const jsonlHref = await sam.getByRole("link", { name: "Export JSON Lines" }).getAttribute("href");
  const jsonl = (await (await sam.request.get(`${ssoUrl()}${jsonlHref}`)).text()).trimEnd().split("\n").map((line) => JSON.parse(line) as { seq: number; action: string });
  const exported = jsonl.map((entry) => entry.seq);
  expect(exported).toEqual([...exported].sort((a, b) => a - b));
  expect(exported).toEqual(expect.arrayContaining([...firstPage, ...secondPage]));
  expect(new Set(jsonl.map((entry) => entry.action))).toEqual(new Set(["recording.search"]));
  await sam.goto(`${ssoUrl()}/admin/audit?action=audit.export&actor=sam`);
  await expect(table.locator("tbody tr")).toHaveCount(2);

  // A filter that makes no sense is a clear error, for the page and the API; a plain user gets no export.
  await sam.goto(`${ssoUrl()}/admin/audit?from=last-tuesday`);
  await expect(sam.getByRole("alert").filter({ hasText: "The filters need attention" })).toHaveText("The filters need attention; showing the whole log.");
  await expect(sam.locator("#audit-from-error")).toContainText("Use a date such as");
  const refused = await sam.request.get(`${ssoUrl()}/api/admin/audit?outcome=maybe`);
  expect(refused.status()).toBe(400);
  expect((await refused.json()).fields).toHaveProperty("outcome");
  const bob = await browser.newPage();
  await signInWithSso(bob, "bob");
  expect((await bob.request.get(`${ssoUrl()}/api/admin/audit/export?format=csv`)).status()).toBe(403);

  // A load goes on from the head the last one verified; the whole chain is walked when asked.
  await sam.goto(`${ssoUrl()}/admin/audit`);
  await expect(sam.getByRole("status")).toContainText(/Entries from #\d+ checked now/);
  await sam.getByRole("link", { name: "Walk the whole chain now" }).click();
  await expect(sam.getByRole("status")).toContainText("The whole chain was checked now");
  await Promise.all([alice.close(), sam.close(), bob.close()]);
});
