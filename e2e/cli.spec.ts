// The `gatehouse` command line driving a running gateway with API tokens issued on the Tokens page: login, the
// sessions list, watching a live terminal (and being cut off when the token is revoked), lock/unlock/terminate,
// exports with a progress bar, verification, playback as text, the audit log followed live, the nodes.
import { spawn } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BrowserContext } from "@playwright/test";
import { signedText, type ExportSignature } from "../lib/protocol/export-signature";
import { issueToken } from "./fixtures/api-tokens";
import { createCredential, createTarget, sshdUnderTest, TerminalClient } from "./fixtures/terminal-client";
import { expect, signInWithSso, ssoUrl, test } from "./fixtures/test";

const sshd = sshdUnderTest();
const run = Date.now().toString(36);
const target = `cli-${run}`;

/** A running `gatehouse` process: what it printed so far, and how it ended. */
class Cli {
  stdout = "";
  stderr = "";
  readonly exited: Promise<number>;
  private readonly child;

  /**
   * `npx` runs it as the package's `bin`; otherwise node runs that file directly, so that a signal reaches the
   * command itself (npx does not pass it on; at a terminal, Ctrl-C reaches both). `script` gives the command a
   * terminal, as a person's shell would: progress bars draw only there.
   */
  constructor(args: string[], env: Record<string, string>, input?: string, how: "node" | "npx" | "script" = "node") {
    const bin = path.resolve("cli/gatehouse.mjs");
    const [command, commandArgs] =
      how === "npx" ? ["npx", ["gatehouse", ...args]] : how === "script" ? ["script", ["-qec", [bin, ...args].join(" "), "/dev/null"]] : [process.execPath, [bin, ...args]];
    this.child = spawn(command, commandArgs, { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.on("data", (data: Buffer) => (this.stdout += data.toString()));
    this.child.stderr.on("data", (data: Buffer) => (this.stderr += data.toString()));
    this.child.stdin.end(input ?? "");
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code ?? 128)));
  }

  interrupt() {
    this.child.kill("SIGINT");
  }
}

test.describe("the gatehouse command line", () => {
  test.describe.configure({ mode: "serial" });
  let alice: BrowserContext;
  let bob: BrowserContext;
  let secret: string;
  let home: string;
  let sessionId: string;
  const env = () => ({ XDG_CONFIG_HOME: home });
  async function gatehouse(args: string[], input?: string, how: "node" | "npx" = "node") {
    const cli = new Cli(args, env(), input, how);
    const code = await cli.exited;
    return { code, stdout: cli.stdout, stderr: cli.stderr };
  }

  test.beforeAll(async ({ browser }) => {
    home = mkdtempSync(path.join(tmpdir(), "gatehouse-cli-"));
    [alice, bob] = [await browser.newContext(), await browser.newContext()];
    const alicePage = await alice.newPage();
    await signInWithSso(alicePage, "alice");
    await signInWithSso(await bob.newPage(), "bob");
    const credential = await createCredential(alice.request, { name: target, kind: "password", username: sshd.username, secret: sshd.password });
    await createTarget(alice.request, { name: target, protocol: "ssh", host: sshd.host, port: sshd.port, allowedUsers: ["bob"], credentialId: credential });
    secret = await issueToken(alicePage, `cli-${run}`, ["sessions:read", "sessions:control", "recordings:read", "audit:read", "admin"]);
  });

  test.afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    rmSync(home, { recursive: true, force: true });
  });

  test("login checks the token and keeps it readable by its owner only", async () => {
    const refused = await gatehouse(["login", "--url", ssoUrl()], `gatehouse_${"x".repeat(43)}\n`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("The API token is not valid");
    expect((await gatehouse(["login", "--url", ssoUrl()], "not-a-token\n")).stderr).toContain("that is not a Gatehouse API token");

    const login = await gatehouse(["login", "--url", ssoUrl()], `${secret}\n`, "npx");
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain(`Logged in to ${new URL(ssoUrl()).origin} as alice`);
    const saved = path.join(home, "gatehouse", "login.json");
    expect(statSync(saved).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(saved, "utf8"))).toEqual({ url: new URL(ssoUrl()).origin, token: secret });
  });

  test("security lists, watches, locks, unlocks and terminates a live session from the terminal", async ({ browser }) => {
    const terminal = await TerminalClient.open(bob, (await (await alice.request.get(`${ssoUrl()}/api/admin/targets?q=${target}`)).json())[0].id);
    ({ sessionId } = await terminal.waitForMessage("connected"));
    terminal.type("echo cli-$((6*7))\r");
    await terminal.waitForOutput("cli-42\r\n");

    const listed = await gatehouse(["sessions", "list", "--status", "live", "--target", target, "--output", "json"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { id: string; username: string }[]).map(({ id, username }) => ({ id, username }))).toEqual([{ id: sessionId, username: "bob" }]);
    const table = await gatehouse(["sessions", "list", "--target", target]);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID +USER +TARGET +PROTOCOL +STATUS +STARTED \(UTC\) +LENGTH +NODE +RISK$/);
    expect(table.stdout).toMatch(new RegExp(`${sessionId} +bob +${target} +ssh +active`));
    expect((await gatehouse(["sessions", "list", "--status", "sleeping"])).stderr).toContain("status");

    // The watcher gets the screen as it is, then what Bob sees as he sees it.
    const watch = new Cli(["sessions", "watch", sessionId], env());
    await expect.poll(() => watch.stderr, { message: "the watch began" }).toContain(`Watching bob on ${target} (ssh`);
    await expect.poll(() => watch.stdout, { message: "the screen so far" }).toContain("cli-42");
    terminal.type("echo watched-$((1+1))\r");
    await expect.poll(() => watch.stdout, { message: "live output" }).toContain("watched-2");

    // A second watcher, with its own token: revoking that token ends its view within a sweep.
    const alicePage = await alice.newPage();
    const doomed = await issueToken(alicePage, `doomed-${run}`, ["sessions:read"]);
    const doomedWatch = new Cli(["sessions", "watch", sessionId], { ...env(), GATEHOUSE_URL: ssoUrl(), GATEHOUSE_TOKEN: doomed });
    await expect.poll(() => doomedWatch.stderr).toContain("Watching bob");
    await alicePage.reload();
    await alicePage.getByRole("button", { name: `Revoke doomed-${run}` }).click();
    await expect(alicePage.getByTestId(`token-doomed-${run}`)).toContainText("revoked");
    expect(await doomedWatch.exited).toBe(0);
    expect(doomedWatch.stderr).toContain("you may no longer watch sessions");

    expect((await gatehouse(["sessions", "lock", sessionId])).stderr).toContain("say why with --reason");
    const locked = await gatehouse(["sessions", "lock", sessionId, "--reason", "checking a change"]);
    expect(locked.code, locked.stderr).toBe(0);
    await expect.poll(() => watch.stderr).toContain("[session locked by alice: checking a change]");
    expect((await gatehouse(["sessions", "unlock", sessionId, "--reason", "done checking"])).code).toBe(0);
    await expect.poll(() => watch.stderr).toContain("[session unlocked]");
    expect((await gatehouse(["sessions", "terminate", sessionId, "--reason", "end of the change window"])).code).toBe(0);
    expect(await watch.exited).toBe(0);
    expect(watch.stderr).toContain("The session ended");
    await terminal.closed;

    // Someone without the role is refused with the gateway's reason; so is a desktop-only command for a terminal.
    const bobPage = await (await browser.newContext()).newPage();
    await signInWithSso(bobPage, "bob");
    const bobToken = await issueToken(bobPage, `bob-${run}`, ["sessions:read"]);
    const bobWatch = new Cli(["sessions", "watch", sessionId], { ...env(), GATEHOUSE_URL: ssoUrl(), GATEHOUSE_TOKEN: bobToken });
    expect(await bobWatch.exited).toBe(1);
    expect(bobWatch.stderr).toContain("Watching sessions needs the security or admin role [HTTP 403]");
  });

  test("recordings export with a progress bar, verify, and play as text", async () => {
    await expect.poll(async () => (await gatehouse(["recordings", "verify", sessionId])).stdout, { message: "the recording is sealed" }).toMatch(/^intact: \d+ chunks, sealed at the session's end\n$/);

    const file = path.join(home, "session.cast");
    const exported = new Cli(["recordings", "export", sessionId, "--file", file], env(), undefined, "script");
    expect(await exported.exited).toBe(0);
    expect(exported.stdout).toMatch(/Exporting [0-9a-f]{8} \[#{30}\] 100% /);
    expect(exported.stdout).toContain(`to ${file} (cast)`);
    const [header, ...events] = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(JSON.parse(header!)).toMatchObject({ version: 2 });
    expect(events.some((line) => line.includes("cli-42"))).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // The export comes with its detached signature; a copy is checked against it and the gateway's keys.
    const verified = await gatehouse(["recordings", "verify", "--file", file]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`^verified: ${file} is the export of session ${sessionId} as http://localhost:\\d+ signed it at `));
    const original = readFileSync(file);
    writeFileSync(file, Buffer.concat([original, Buffer.from("[9999, \"o\", \"forged\"]\n")]));
    const altered = await gatehouse(["recordings", "verify", "--file", file]);
    expect(altered.code).toBe(1);
    expect(altered.stdout).toContain(`NOT VERIFIED: ${file} is not the file that was signed`);
    writeFileSync(file, original);
    const signature = JSON.parse(readFileSync(`${file}.sig`, "utf8")) as ExportSignature;
    writeFileSync(`${file}.sig`, JSON.stringify({ ...signature, signedAt: "2020-01-01T00:00:00.000Z" }));
    expect((await gatehouse(["recordings", "verify", "--file", file])).stdout).toContain("does not hold: it was altered, or made by someone else");
    // A signature made with someone else's key holds, but the key is not the gateway's.
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const forged = { ...signature, keyId: "forger", publicKey: publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("base64") };
    const forgedSignature = sign(null, Buffer.from(signedText(forged)), privateKey).toString("base64");
    writeFileSync(`${file}.sig`, JSON.stringify({ ...forged, signature: forgedSignature }));
    expect((await gatehouse(["recordings", "verify", "--file", file])).stdout).toContain("signed with key forger, which is not one of");
    writeFileSync(`${file}.sig`, JSON.stringify(signature));

    const text = await gatehouse(["recordings", "play", sessionId, "--format", "text"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split("\n")).toEqual(expect.arrayContaining(["cli-42", "watched-2"]));
    expect(text.stdout).not.toContain("\x1b");
    const played = await gatehouse(["recordings", "play", sessionId, "--speed", "50", "--max-idle", "0.1"]);
    expect(played.stdout).toContain("cli-42");
    // Played, it is the terminal's own stream (line ends and all), not the text.
    expect(played.stdout).toContain("cli-42\r\n");
    expect(text.stdout).not.toContain("\r");

    const missing = await gatehouse(["recordings", "export", "00000000-0000-4000-8000-000000000000"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Session not found [HTTP 404]");
  });

  test("the audit log followed live, without the follower's own requests; the nodes", async () => {
    const follow = new Cli(["audit", "tail", "--follow", "--lines", "3"], env());
    await expect.poll(() => follow.stdout.split("\n").length, { message: "the newest entries" }).toBeGreaterThanOrEqual(3);
    expect((await gatehouse(["recordings", "export", sessionId, "--file", path.join(home, "again.cast")])).code).toBe(0);
    await expect.poll(() => follow.stdout, { timeout: 10_000, message: "the export, as it happened" }).toMatch(new RegExp(`alice +recording\\.export success session:${sessionId}`));
    follow.interrupt();
    expect(await follow.exited).toBe(0);
    expect(follow.stdout).not.toContain('"path":"/api/admin/audit"');

    const json = await gatehouse(["audit", "tail", "--lines", "2", "--action", "recording.export", "--output", "json"]);
    const entries = json.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { action: string; objectId: string });
    expect(entries).toHaveLength(2);
    expect(entries.every((entry) => entry.action === "recording.export" && entry.objectId === sessionId)).toBe(true);

    const nodes = await gatehouse(["nodes", "list"]);
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(nodes.stdout).toMatch(/^NODE +HEALTH +VERSION/);
    expect(nodes.stdout).toMatch(/\ne2e-sso +up +\d+\.\d+\.\d+/);
  });
});
