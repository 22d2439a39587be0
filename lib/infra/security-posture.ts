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
  if (!loopback.test(config.internal.host) && !/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|fd|fc)/i.test(config.internal.host)) {
    warnings.push(`INTERNAL_HOST=${config.internal.host}: the node-to-node listener should be on loopback or a private address that only the other nodes can reach.`);
  }
  if (config.trustProxy.kind === "hops") {
    warnings.push(`TRUST_PROXY=${config.trustProxy.hops}: client addresses come from X-Forwarded-For, ${config.trustProxy.hops} proxy hop(s) from the right. Make sure only your proxy can reach Gatehouse, or name the proxies' networks (TRUST_PROXY=10.0.0.0/8) so that direct clients are not believed.`);
  }
  return warnings;
}
