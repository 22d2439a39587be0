// Settings that work but weaken the gateway, each reported once at start with what to do about it.
import type { Config } from "./config";

const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|::1)$/;

export function securityWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.publicUrl.protocol === "http:" && !loopback.test(config.publicUrl.hostname)) {
    warnings.push(`PUBLIC_URL is http:// on ${config.publicUrl.hostname}: session cookies and terminal traffic cross the network unencrypted. Serve Gatehouse behind TLS and set PUBLIC_URL to https://.`);
  }
  if (!loopback.test(config.host) && !config.oidc && !config.databaseUrl) {
    warnings.push(`HOST=${config.host} exposes the embedded single-admin setup to the network. For anything beyond a trial, configure OIDC and DATABASE_URL.`);
  }
  if (config.trustProxy) {
    warnings.push("TRUST_PROXY is on: client addresses in the audit log come from X-Forwarded-For. Make sure only your proxy can reach Gatehouse.");
  }
  return warnings;
}
