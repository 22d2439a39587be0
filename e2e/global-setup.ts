// Starts the real components the end-to-end tests talk to: an OpenID Connect provider, a fresh PostgreSQL
// database, a gateway signed in through that provider, and a second gateway on the embedded default with a
// fresh data dir. Addresses reach the tests through environment variables.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { createScratchDatabase } from "../test/fixtures/postgres-database";
import { startSshd } from "../test/fixtures/sshd";
import { startGateway } from "../test/fixtures/gateway";
import { startOidcProvider } from "./fixtures/oidc-provider";
import { freePort } from "../test/fixtures/ports";
import { idpAccounts, oidcClient } from "./fixtures/people";

export default async function globalSetup() {
  const projectRoot = path.resolve(import.meta.dirname, "..");
  const build = spawnSync(process.execPath, ["--import", "tsx", "scripts/ensure-build.ts"], { cwd: projectRoot, stdio: "inherit" });
  if (build.status !== 0) throw new Error("building the web app failed");

  const logDir = path.join(projectRoot, ".test-artifacts");
  mkdirSync(logDir, { recursive: true });
  const [idpPort, ssoPort, embeddedPort] = [await freePort(), await freePort(), await freePort()];

  const idp = await startOidcProvider({
    port: idpPort,
    ...oidcClient,
    redirectUri: `http://localhost:${ssoPort}/api/auth/callback/oidc`,
    accounts: idpAccounts,
  });
  const database = await createScratchDatabase("gatehouse_e2e");
  const sshd = await startSshd();
  const ssoDataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-e2e-sso-"));
  const ssoEnvironment: Record<string, string> = {
      DATABASE_URL: database.url,
      AUTH_SECRET: randomBytes(33).toString("base64"),
      GATEHOUSE_MASTER_KEY: randomBytes(32).toString("hex"),
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: oidcClient.clientId,
      OIDC_CLIENT_SECRET: oidcClient.clientSecret,
      OIDC_DISPLAY_NAME: "Test IdP",
      OIDC_SCOPES: "openid profile email groups",
      OIDC_GROUP_ROLES: "platform-admins=admin,secops=security",
      NODE_NAME: "e2e-sso",
      DATA_DIR: ssoDataDir,
      TARGET_CONNECT_TIMEOUT_SECONDS: "8",
      // Anchors every few seconds, so that the insider tests see truncation caught without waiting minutes.
      AUDIT_ANCHOR_MINUTES: "0.05",
  };
  const ssoGateway = await startGateway({
    port: ssoPort,
    logFile: path.join(logDir, "gateway-sso.log"),
    env: ssoEnvironment,
  });
  const embeddedDataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-e2e-embedded-"));
  const embeddedGateway = await startGateway({
    port: embeddedPort,
    logFile: path.join(logDir, "gateway-embedded.log"),
    env: { DATA_DIR: embeddedDataDir, NODE_NAME: "e2e-embedded" },
  });
  if (!embeddedGateway.setupUrl) throw new Error("the embedded gateway printed no setup link on its first start");

  process.env.E2E_SSO_URL = ssoGateway.url;
  process.env.E2E_SSO_PID = String(ssoGateway.pid);
  /** For tests that start a second node on the same database and secrets. */
  process.env.E2E_SSO_ENV = JSON.stringify(ssoEnvironment);
  process.env.E2E_DATABASE_URL = database.url;
  process.env.E2E_EMBEDDED_URL = embeddedGateway.url;
  process.env.E2E_EMBEDDED_SETUP_URL = embeddedGateway.setupUrl;
  process.env.E2E_SSHD = JSON.stringify({ ...sshd, stop: undefined });

  return async () => {
    await Promise.all([ssoGateway.stop(), embeddedGateway.stop()]);
    await idp.stop();
    await sshd.stop();
    await database.drop();
    rmSync(embeddedDataDir, { recursive: true, force: true });
    rmSync(ssoDataDir, { recursive: true, force: true });
  };
}
