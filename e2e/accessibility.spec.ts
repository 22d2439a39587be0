// Every page, as an admin sees it (the most on each), checked by axe-core for serious and critical WCAG 2 A/AA
// problems, at a phone's size and a laptop's, light and dark; a full-page screenshot of each is kept with the test's results
// for a person to look at. A page is loaded once and then resized and switched to dark, as a person would turn
// a phone or change the system's theme; in the dark only the colour rules are checked again (nothing else
// changes with the theme).
import AxeBuilder from "@axe-core/playwright";
import type { BrowserContext, Page } from "@playwright/test";
import postgres from "postgres";
import { createCredential, createTarget, sshdUnderTest } from "./fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const run = Date.now().toString(36);
const viewports = [
  { name: "phone", width: 390, height: 844, colorScheme: "light" },
  { name: "laptop", width: 1280, height: 800, colorScheme: "light" },
  // The dark theme follows the system's setting.
  { name: "laptop-dark", width: 1280, height: 800, colorScheme: "dark" },
] as const;
const colourRules = ["color-contrast", "link-in-text-block"];

async function checkPage(page: Page, path: string, label: string) {
  await page.setViewportSize(viewports[0]);
  await page.emulateMedia({ colorScheme: viewports[0].colorScheme });
  const response = await page.goto(`${ssoUrl()}${path}`);
  expect(response?.status(), `${path} answered`).toBeLessThan(400);
  await page.waitForLoadState("networkidle").catch(() => undefined);
  for (const viewport of viewports) {
    await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme: viewport.colorScheme });
    // Colours that fade on a change of theme are measured once they are done.
    if (viewport.colorScheme === "dark") await page.waitForTimeout(300);
    await page.screenshot({ path: test.info().outputPath(`${label}-${viewport.name}.png`), fullPage: true });
    const axe = new AxeBuilder({ page });
    const results = await (viewport.colorScheme === "dark" ? axe.withRules(colourRules) : axe.withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])).analyze();
    const serious = results.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} — ${violation.nodes.map((node) => node.target.join(" ")).slice(0, 3).join(", ")}`);
    expect(serious, `${path} at ${viewport.width}×${viewport.height}`).toEqual([]);
    // Nothing wider than the screen but what scrolls by design (tables, terminals) inside its own box.
    const sticksOut = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      if (document.documentElement.scrollWidth <= width) return [];
      const past = (element: Element) => element.getBoundingClientRect().right > width + 1;
      // Inside a box that scrolls or clips on its own (a wide table, a terminal), width is that box's business.
      const contained = (element: Element) => {
        for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) if (getComputedStyle(box).overflowX !== "visible") return true;
        return false;
      };
      // The outermost elements past the right edge, to say what to fix.
      return [...document.body.querySelectorAll("*")]
        .filter((element) => past(element) && !contained(element) && !(element.parentElement && past(element.parentElement)))
        .slice(0, 5)
        .map((element) => `${element.tagName.toLowerCase()}.${[...element.classList].join(".")} (${Math.round(element.getBoundingClientRect().right)} px)`);
    });
    expect(sticksOut, `${path} scrolls sideways at ${viewport.width} px`).toEqual([]);
  }
}

test.describe("every page is accessible and fits a phone and a laptop", () => {
  let context: BrowserContext;
  let page: Page;
  let sessionId: string;
  let targetId: string;

  test.beforeAll(async ({ browser }) => {
    context = await browser.newContext();
    page = await context.newPage();
    await signInWithSso(page, "alice");
    const sshd = sshdUnderTest();
    const credential = await createCredential(context.request, { name: `a11y-${run}`, kind: "password", username: sshd.username, secret: sshd.password });
    targetId = await createTarget(context.request, { name: `a11y-${run}`, protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["alice"], credentialId: credential, tags: ["a11y"] });
    const sql = postgres(process.env.E2E_DATABASE_URL!, { max: 1, onnotice: () => {} });
    const [alice] = await sql`select id from users where username = 'alice'`;
    [{ id: sessionId }] = (await sql`insert into sessions (user_id, target_id, target_name, protocol, node, status, started_at, ended_at, end_reason, end_message, client_address)
      values (${alice!.id}, ${targetId}, ${`a11y-${run}`}, 'ssh', 'e2e-sso', 'ended', now() - interval '5 minutes', now(), 'user_closed', 'You closed the session.', '127.0.0.1') returning id`) as unknown as [{ id: string }];
    await sql.end();
  });
  test.afterAll(() => context?.close());

  const pages: [string, () => string][] = [
    ["home", () => "/"],
    ["requests", () => "/requests"],
    ["approvals", () => "/approvals"],
    ["audits", () => "/audits"],
    ["sessions", () => "/recordings"],
    ["session", () => `/sessions/${sessionId}`],
    ["session-risk", () => `/sessions/${sessionId}/risk`],
    ["recording", () => `/recordings/${sessionId}`],
    ["live", () => "/live"],
    ["watch", () => `/live/${sessionId}`],
    ["connect", () => `/connect/${targetId}`],
    ["admin-targets", () => "/admin/targets"],
    ["admin-policies", () => "/admin/policies"],
    ["admin-command-rules", () => "/admin/command-rules"],
    ["admin-credentials", () => "/admin/credentials"],
    ["admin-users", () => "/admin/users"],
    ["admin-settings", () => "/admin/settings"],
    ["admin-audit", () => "/admin/audit"],
    ["admin-nodes", () => "/admin/nodes"],
    ["tokens", () => "/tokens"],
    ["api-reference", () => "/api-reference"],
  ];
  for (const [label, path] of pages) {
    test(`${label}`, async () => {
      await checkPage(page, path(), label);
    });
  }

  test("sign-in", async ({ browser }) => {
    const signedOut = await browser.newContext();
    await checkPage(await signedOut.newPage(), "/signin", "sign-in");
    await signedOut.close();
  });
});
