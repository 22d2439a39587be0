// Password guessing in a burst, against a gateway on its embedded default (as `npm start` runs it): a hundred
// wrong passwords at once from one address. Every attempt is counted before it is hashed, so only the allowed
// number are hashed and evaluated, the rest are refused without hashing; and the real admin, from another
// address, signs in at once afterwards. A username of a megabyte is only a wrong guess. Loopback has a whole /8:
// the attacker, the admin and the long name connect from 127.0.0.7, 127.0.0.8 and 127.0.0.9.
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { loginLimits } from "../../lib/data/login-throttle";
import { startGateway, type RunningGateway } from "../../test/fixtures/gateway";
import { freePort } from "../../test/fixtures/ports";
import { expect, setAdminPassword, test } from "../fixtures/test";

const password = "burst test admin password";

interface Answer {
  status: number;
  location: string;
  cookies: string[];
  body: string;
}

function request(port: number, from: string, method: string, route: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ host: "127.0.0.1", port, localAddress: from, method, path: route, headers: { host: `localhost:${port}`, ...headers } }, (response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => (text += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, location: String(response.headers.location ?? ""), cookies: (response.headers["set-cookie"] ?? []).map((cookie) => cookie.split(";")[0]!), body: text }));
    });
    outgoing.once("error", reject);
    outgoing.end(body);
  });
}

/** Auth.js's password sign-in as a form posts it: the CSRF token and its cookie, then the callback. */
async function signInAttempts(port: number, from: string, guesses: string[], username = "admin") {
  const csrf = await request(port, from, "GET", "/api/auth/csrf");
  const { csrfToken } = JSON.parse(csrf.body) as { csrfToken: string };
  return Promise.all(
    guesses.map((guess) =>
      request(port, from, "POST", "/api/auth/callback/local", { "content-type": "application/x-www-form-urlencoded", cookie: csrf.cookies.join("; "), origin: `http://localhost:${port}` }, new URLSearchParams({ csrfToken, username, password: guess, callbackUrl: "/" }).toString()),
    ),
  );
}

test.describe("a burst of password guesses", { tag: "@security" }, () => {
  let gateway: RunningGateway;
  let dataDir: string;

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(120_000);
    dataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-burst-"));
    gateway = await startGateway({ port: await freePort(), logFile: path.resolve(".test-artifacts/gateway-burst.log"), env: { DATA_DIR: dataDir, NODE_NAME: "e2e-burst" } });
    const page = await browser.newPage();
    await setAdminPassword(page, gateway.setupUrl!, password);
    await page.close();
  });

  test.afterAll(async () => {
    await gateway?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("a hundred at once: only the allowed few are hashed, the rest refused unhashed, and the admin signs in from elsewhere", async () => {
    const port = Number(new URL(gateway.url).port);
    const answers = await signInAttempts(port, "127.0.0.7", Array.from({ length: 100 }, (_, index) => `wrong-${index}`));
    const codes = answers.map((answer) => new URL(answer.location, gateway.url).searchParams.get("code") ?? answer.location);
    const evaluated = codes.filter((code) => code === "credentials").length;
    const refused = codes.filter((code) => code === "rate_limited" || code === "busy").length;
    console.log(`100 wrong passwords at once: ${evaluated} hashed and evaluated, ${refused} refused before hashing`);
    expect(evaluated + refused).toBe(100);
    expect(evaluated).toBeGreaterThan(0);
    expect(evaluated).toBeLessThanOrEqual(loginLimits.perAccountFromAddress);
    // The attacker's address stays refused, even with the right password.
    expect(new URL((await signInAttempts(port, "127.0.0.7", [password]))[0]!.location, gateway.url).searchParams.get("code")).toBe("rate_limited");

    // The real admin, from another address: in at once.
    const [admin] = await signInAttempts(port, "127.0.0.8", [password]);
    expect(admin!.location).toBe(`${gateway.url}/`);
    const session = admin!.cookies.find((cookie) => cookie.startsWith("authjs.session-token="));
    expect(session).toBeDefined();

    // What was tried is in the audit log, with the address it came from.
    const audit = JSON.parse((await request(port, "127.0.0.8", "GET", "/api/admin/audit", { cookie: session! })).body) as { entries: { action: string; outcome: string; sourceIp: string }[] };
    const logins = audit.entries.filter((entry) => entry.action === "login");
    expect(logins.filter((entry) => entry.outcome === "failure" && entry.sourceIp === "127.0.0.7")).toHaveLength(evaluated);
    expect(logins.filter((entry) => entry.outcome === "refused" && entry.sourceIp === "127.0.0.7").length).toBeGreaterThanOrEqual(refused);
    expect(logins.some((entry) => entry.outcome === "success" && entry.sourceIp === "127.0.0.8")).toBe(true);

    // A username of a megabyte, from a third address: a wrong guess like any other, audited under a bounded name.
    const [long] = await signInAttempts(port, "127.0.0.9", [password], `admin${"x".repeat(1024 * 1024)}`);
    expect(new URL(long!.location, gateway.url).searchParams.get("code")).toBe("credentials");
    const after = JSON.parse((await request(port, "127.0.0.8", "GET", "/api/admin/audit?action=login", { cookie: session! })).body) as { entries: { outcome: string; sourceIp: string; actorName: string }[] };
    const guessed = after.entries.filter((entry) => entry.sourceIp === "127.0.0.9");
    expect(guessed.map((entry) => entry.outcome)).toEqual(["failure"]);
    expect(guessed[0]!.actorName.length).toBeLessThanOrEqual(256);
  });
});
