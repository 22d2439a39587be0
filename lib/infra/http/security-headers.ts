// The headers on every response of the gateway's own origin (pages and API): a Content-Security-Policy that
// allows only the gateway's own scripts, by a nonce made for each response (Next.js reads it from the request's
// copy of the policy and puts it on the scripts it renders), no framing, no sniffing, no referrer to other sites.
// Replayed web pages live inside the player's sandboxed frame under this same policy: nothing in them runs, and
// nothing loads from anywhere but the gateway.
import { randomBytes } from "node:crypto";
import type { Config } from "../config";

export function newScriptNonce(): string {
  return randomBytes(16).toString("base64");
}

export function gatewayPolicy(config: Pick<Config, "publicUrl" | "mode" | "oidc">, nonce: string): string {
  const socketOrigin = config.publicUrl.origin.replace(/^http/, "ws");
  const signInTargets = config.oidc ? ` ${new URL(config.oidc.issuer).origin}` : "";
  return [
    "default-src 'self'",
    // 'strict-dynamic': the chunks Next's nonce-carrying scripts load are trusted through them; development
    // mode's hot reload evaluates code.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${config.mode === "development" ? " 'unsafe-eval'" : ""}`,
    // xterm.js, guacamole-common-js and rrweb's player set styles from script.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${socketOrigin}`,
    "media-src 'self' blob:",
    "worker-src 'self' blob:",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    `form-action 'self'${signInTargets}`,
    "frame-ancestors 'none'",
  ].join("; ");
}

export function gatewayHeaders(config: Pick<Config, "publicUrl" | "mode" | "oidc">, nonce: string): Record<string, string> {
  return {
    "content-security-policy": gatewayPolicy(config, nonce),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    ...(config.publicUrl.protocol === "https:" ? { "strict-transport-security": "max-age=31536000" } : {}),
  };
}
