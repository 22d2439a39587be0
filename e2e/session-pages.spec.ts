// The sessions list in pages: a page at a time, cut by its sort keys, with a way on and back; the API's next page
// in its Link header.
import postgres from "postgres";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const run = Date.now().toString(36);

test("the sessions list shows a page at a time, says there are more, and pages on with the same filters", async ({ browser }) => {
  const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
  const page = await browser.newPage();
  await signInWithSso(page, "erin");
  const [erin] = await sql`select id from users where username = 'erin'`;
  // 130 ended sessions of hers (rows as the gateway writes them; connecting 130 times would prove nothing more).
  const target = `paged-${run}`;
  await sql`insert into sessions (user_id, target_name, protocol, node, status, started_at, ended_at, end_reason)
    select ${erin!.id}, ${target}, 'ssh', 'e2e-sso', 'ended', now() - (n || ' minutes')::interval, now() - (n || ' minutes')::interval + interval '30 seconds', 'user_closed'
    from generate_series(1, 130) as n`;

  await page.goto(`${ssoUrl()}/recordings?target=${target}`);
  const rows = page.getByRole("table", { name: "Sessions" }).locator("tbody tr");
  await expect(rows).toHaveCount(100);
  const pages = page.getByRole("navigation", { name: "Pages of sessions" });
  await expect(pages).toContainText("100 sessions on this page, more after it");
  const firstIds = await rows.evaluateAll((found) => found.map((row) => row.getAttribute("data-session-id")));
  await pages.getByRole("link", { name: "Next page" }).click();
  await expect(page).toHaveURL(/target=paged-.*&after=/);
  await expect(rows).toHaveCount(30);
  await expect(pages).toContainText("30 sessions on this page, the last");
  const secondIds = await rows.evaluateAll((found) => found.map((row) => row.getAttribute("data-session-id")));
  expect(new Set([...firstIds, ...secondIds]).size).toBe(130);
  await pages.getByRole("link", { name: "First page" }).click();
  await expect(rows).toHaveCount(100);

  // The API: the same page, and the next in the Link header.
  const first = await page.request.get(`${ssoUrl()}/api/sessions?target=${target}`);
  expect(((await first.json()) as unknown[]).length).toBe(100);
  const next = /^<([^>]+)>; rel="next"$/.exec(first.headers()["link"] ?? "")?.[1];
  expect(next).toMatch(/^\/api\/sessions\?target=paged-.*&after=/);
  const second = await page.request.get(`${ssoUrl()}${next}`);
  expect(((await second.json()) as { id: string }[]).map((row) => row.id).sort()).toEqual([...secondIds].sort());
  expect(second.headers()["link"]).toBeUndefined();
  // A forged cursor is a clear error.
  const forged = await page.request.get(`${ssoUrl()}/api/sessions?after=${Buffer.from('[0,"x","y"]').toString("base64url")}`);
  expect(forged.status()).toBe(400);
  expect((await forged.json()).fields.after).toBe("Not a page of this list: start again from its first page");
  await page.close();
  await sql.end();
});
