// API tokens on a running gateway: issued on the Tokens page, they call the API as their owner within their
// scopes; revoking, expiring or disabling the owner stops the very next request; a token cannot mint tokens or open
// sessions; every use is in the audit log. The OpenAPI document is checked by an independent validator against the
// route files themselves.
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { request as playwrightRequest, type APIRequestContext } from "@playwright/test";
import { Validator } from "@seriousme/openapi-schema-validator";
import postgres from "postgres";
import { issueToken } from "./fixtures/api-tokens";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const run = Date.now().toString(36);

/** A client with no cookie at all: only the token speaks for it. */
async function tokenClient(secret: string): Promise<APIRequestContext> {
  return playwrightRequest.newContext({ baseURL: ssoUrl(), extraHTTPHeaders: { authorization: `Bearer ${secret}` } });
}

test("a token calls the API as its owner within its scopes, is audited, and stops at once when revoked or expired", async ({ browser }) => {
  const sam = await browser.newPage();
  await signInWithSso(sam, "sam");
  const name = `cli-${run}`;
  const secret = await issueToken(sam, name, ["sessions:read", "audit:read"]);
  const client = await tokenClient(secret);

  const me = await client.get("/api/me");
  expect(me.status()).toBe(200);
  expect(await me.json()).toMatchObject({ username: "sam", roles: expect.arrayContaining(["security"]), token: { name, scopes: ["sessions:read", "audit:read"] } });
  const sessions = await client.get("/api/sessions?status=ended");
  expect(sessions.status()).toBe(200);
  expect(Array.isArray(await sessions.json())).toBe(true);

  // Outside its scopes, or its owner's roles: refused, and the answer says which scope was missing.
  const search = await client.get("/api/audits");
  expect(search.status()).toBe(403);
  expect(search.headers()["www-authenticate"]).toContain('error="insufficient_scope", scope="recordings:read"');
  expect((await client.get("/api/admin/targets")).status()).toBe(403);
  // A token cannot mint tokens, check out passwords or open sessions: those are a signed-in person's acts.
  const minted = await client.post("/api/tokens", { data: { name: "more", scopes: ["sessions:read"], expiresInDays: 366 } });
  expect(minted.status()).toBe(403);
  expect(await minted.json()).toEqual({ error: "This route is for signed-in people only: an API token cannot call it" });
  const terminal = await client.post("/api/tickets", { data: { purpose: "terminal", targetId: "00000000-0000-4000-8000-000000000000" } });
  expect(terminal.status()).toBe(403);
  expect(await terminal.json()).toEqual({ error: "An API token may only ask for watch tickets; open sessions in the browser" });

  // A mistyped token, or a cookie-less call without one, gets 401, never someone else's view.
  const forged = await tokenClient(secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A"));
  const refused = await forged.get("/api/sessions");
  expect(refused.status()).toBe(401);
  expect(refused.headers()["www-authenticate"]).toContain('error="invalid_token"');
  await forged.dispose();

  // Every use is in the audit log, refusals too, under the owner and the token's name.
  const audit = await client.get("/api/admin/audit?action=api.request&actor=sam");
  expect(audit.status()).toBe(200);
  const entries = ((await audit.json()) as { entries: { action: string; outcome: string; details: { token: string; path: string; status: number } }[] }).entries.filter(
    (entry) => entry.details.token === name,
  );
  expect(entries).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ outcome: "success", details: expect.objectContaining({ path: "/api/sessions", status: 200 }) }),
      expect.objectContaining({ outcome: "refused", details: expect.objectContaining({ path: "/api/audits", status: 403 }) }),
      expect.objectContaining({ outcome: "refused", details: expect.objectContaining({ path: "/api/tokens", status: 403 }) }),
    ]),
  );

  // The page shows when it was last used, and from where; revoking it there stops the very next request.
  await sam.reload();
  const row = sam.getByTestId(`token-${name}`);
  await expect(row).toContainText("active");
  await expect(row.getByRole("cell").nth(5)).not.toHaveText("never");
  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(row).toContainText("revoked");
  expect((await client.get("/api/sessions")).status()).toBe(401);
  await client.dispose();

  // A token past its expiry is refused like a revoked one.
  const expiring = await issueToken(sam, `expiring-${run}`, ["sessions:read"]);
  const expiringClient = await tokenClient(expiring);
  expect((await expiringClient.get("/api/sessions")).status()).toBe(200);
  const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    await sql`update api_tokens set expires_at = now() - interval '1 second' where name = ${`expiring-${run}`}`;
  } finally {
    await sql.end();
  }
  expect((await expiringClient.get("/api/sessions")).status()).toBe(401);
  await expiringClient.dispose();

  // Scopes beyond the owner's roles are refused when the token is made: Bob is only a user.
  const bob = await browser.newPage();
  await signInWithSso(bob, "bob");
  const beyond = await bob.request.post(`${ssoUrl()}/api/tokens`, { data: { name: "too-much", scopes: ["admin", "sessions:read"], expiresInDays: 30 } });
  expect(beyond.status()).toBe(400);
  expect((await beyond.json()).fields.scopes).toBe("Not for these roles: admin");
  // Bob sees only his own tokens, and cannot revoke Sam's.
  const bobsTokens = (await (await bob.request.get(`${ssoUrl()}/api/tokens`)).json()) as { owner: { username: string } }[];
  expect(bobsTokens.every((token) => token.owner.username === "bob")).toBe(true);
  const samsTokens = (await (await sam.request.get(`${ssoUrl()}/api/tokens`)).json()) as { id: string; name: string }[];
  const samsToken = samsTokens.find((token) => token.name === name)!;
  expect((await bob.request.delete(`${ssoUrl()}/api/tokens/${samsToken.id}`)).status()).toBe(404);
});

test("an admin's service account acts only through its tokens, which stop when the account is disabled", async ({ browser }) => {
  const alice = await browser.newPage();
  await signInWithSso(alice, "alice");
  await alice.goto(`${ssoUrl()}/tokens`);
  const account = `siem-${run}`;
  const accountForm = alice.getByRole("form", { name: "New service account" });
  await accountForm.getByLabel("Account name").fill(account);
  await accountForm.getByRole("checkbox", { name: "security" }).check();
  await accountForm.getByRole("button", { name: "Create service account" }).click();
  await expect(alice.getByText(`${account} · security`)).toBeVisible();

  const secret = await issueToken(alice, `pull-${run}`, ["sessions:read"], `service account ${account}`);
  const client = await tokenClient(secret);
  const me = (await (await client.get("/api/me")).json()) as { id: string; username: string; roles: string[] };
  expect(me).toMatchObject({ username: account, roles: ["security", "user"] });
  const nodes = await client.get("/api/admin/nodes");
  expect(nodes.status()).toBe(200);
  expect(((await nodes.json()) as unknown[]).length).toBeGreaterThan(0);
  // Admins see every token, the service account's among them.
  await alice.reload();
  await expect(alice.getByTestId(`token-pull-${run}`)).toContainText(`${account}(service account)`);

  // It never signs in: disabling it on the Users page stops its tokens at once.
  expect((await alice.request.patch(`${ssoUrl()}/api/admin/users/${me.id}`, { data: { disabled: true } })).status()).toBe(200);
  expect((await client.get("/api/admin/nodes")).status()).toBe(401);
  await client.dispose();
});

/** `app/api/sessions/[id]/control/route.ts` exporting POST → `POST /api/sessions/{id}/control`. */
function routesInFiles(): string[] {
  const routes: string[] = [];
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const file = path.join(directory, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name === "route.ts" && !file.includes("[...nextauth]")) {
        const apiPath = "/" + path.relative("app", path.dirname(file)).split(path.sep).join("/").replace(/\[(\w+)\]/g, "{$1}");
        for (const [, method] of readFileSync(file, "utf8").matchAll(/^export const (GET|POST|PUT|PATCH|DELETE) =/gm)) routes.push(`${method} ${apiPath}`);
      }
    }
  };
  walk("app/api");
  return routes.sort();
}

test("the OpenAPI document is valid OpenAPI 3.1 and lists every route the gateway serves", async ({ browser }) => {
  const anonymous = await playwrightRequest.newContext({ baseURL: ssoUrl() });
  const served = await anonymous.get("/api/openapi.json");
  expect(served.status()).toBe(200);
  const document = (await served.json()) as {
    openapi: string;
    paths: Record<string, Record<string, { security: unknown[]; "x-gatehouse-scope": string | null; parameters: { in: string }[] }>>;
  };
  await anonymous.dispose();

  const validator = new Validator();
  expect(await validator.validate(structuredClone(document) as never)).toEqual({ valid: true });
  expect(document.openapi).toBe("3.1.0");
  // The validator is not a rubber stamp: a broken copy fails.
  const broken = structuredClone(document);
  broken.paths["/api/sessions"]!.get!.parameters[0]!.in = "body";
  expect((await new Validator().validate(broken as never)).valid).toBe(false);

  const documented = Object.entries(document.paths)
    .flatMap(([apiPath, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${apiPath}`))
    .sort();
  expect(documented).toEqual(routesInFiles());
  expect(document.paths["/api/sessions/{id}/control"]!.post!.security).toEqual([{ sessionCookie: [] }, { apiToken: ["sessions:control"] }]);
  expect(document.paths["/api/tokens"]!.post!["x-gatehouse-scope"]).toBeNull();

  // The reference page shows the same operations to people.
  const bob = await browser.newPage();
  await signInWithSso(bob, "bob");
  await bob.goto(`${ssoUrl()}/api-reference`);
  await expect(bob.getByRole("heading", { name: "API reference" })).toBeVisible();
  await expect(bob.getByRole("listitem").filter({ hasText: /GET \/api\/sessionsA page of sessions/ })).toContainText("user; token scope sessions:read");
  await expect(bob.getByRole("listitem").filter({ hasText: "/api/sessions/{id}/control" })).toContainText("security or admin; token scope sessions:control");
});

/** A request from another loopback address, so that what it counts against its address is its own. */
function requestFrom(localAddress: string, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, ssoUrl());
    http
      .get({ host: "127.0.0.1", port: url.port, path: url.pathname + url.search, localAddress, headers: { host: url.host, authorization: `Bearer ${token}` } }, (answer) => {
        answer.resume();
        resolve(answer.statusCode!);
      })
      .once("error", reject);
  });
}

test("a flood of tokens that are not valid is cut off per address, audited up to the limit, and never blocks a valid token", async ({ browser }) => {
  const address = "127.0.0.7";
  const bogus = `gatehouse_${"B".repeat(43)}`;
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 23; attempt++) statuses.push(await requestFrom(address, "/api/sessions", bogus));
  expect(statuses).toEqual([...Array(20).fill(401), 429, 429, 429]);

  const sam = await browser.newPage();
  await signInWithSso(sam, "sam");
  const secret = await issueToken(sam, `flooded-${run}`, ["sessions:read", "audit:read"]);
  expect(await requestFrom(address, "/api/sessions", secret)).toBe(200);

  const client = await tokenClient(secret);
  const entries = ((await (await client.get("/api/admin/audit?action=login&outcome=")).json()) as { entries: { sourceIp: string; outcome: string; details: { method: string } }[] }).entries.filter(
    (entry) => entry.sourceIp === address && entry.details.method === "api_token",
  );
  expect(entries.filter((entry) => entry.outcome === "failure")).toHaveLength(20);
  expect(entries.filter((entry) => entry.outcome === "refused")).toHaveLength(1);
  await client.dispose();
});
