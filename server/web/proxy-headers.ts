// What crosses the proxy in each direction besides the body. Towards the app: the browser's end-to-end headers,
// less the gateway's own cookies, with the Host of the app's internal origin (never the client's), the client
// address as the gateway established it, and the target's credential. Towards the browser: redirects and
// cookies that name the internal address, rewritten onto the app host.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from "node:http";
import type { Config } from "../../lib/infra/config";
import { cookieHeaderWithout } from "../../lib/infra/http/cookies";
import { clientAddressHeader } from "../../lib/infra/request-context";
import { appCookieNames } from "../../lib/domain/web-app-hosts";

/** Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1), plus those `Connection` names. */
const hopByHop = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

export function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(String(headers.connection ?? "").toLowerCase().split(",").map((name) => name.trim()));
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !hopByHop.has(name) && !named.has(name)) kept[name] = value;
  return kept;
}

/**
 * An app's Set-Cookie as the browser gets it: host-only on the app host, every Domain attribute gone (browsers
 * obey the last one, and would refuse the internal host's anyway); null for a cookie under one of the gateway's
 * own names, which only the gateway sets on an app host (an app could otherwise swap the user's session cookie).
 */
export function appCookieForBrowser(cookie: string, gatewayCookieNames: readonly string[]): string | null {
  const name = cookie.slice(0, Math.max(0, cookie.indexOf("="))).trim().toLowerCase();
  if (gatewayCookieNames.some((gatewayName) => gatewayName.toLowerCase() === name)) return null;
  return cookie.replace(/;\s*domain\s*=[^;]*/gi, "");
}

/** Redirects and cookies as the browser must see them: on the app host, never the internal address. */
export function rewriteResponseHeaders(headers: IncomingHttpHeaders, internal: URL, publicOrigin: string, gatewayCookieNames: readonly string[]): OutgoingHttpHeaders {
  const rewritten = endToEnd(headers);
  if (typeof headers.location === "string") {
    const location = URL.canParse(headers.location, internal) ? new URL(headers.location, internal) : null;
    if (!location) delete rewritten.location;
    else if (location.origin === internal.origin) rewritten.location = `${publicOrigin}${location.pathname}${location.search}${location.hash}`;
  }
  if (headers["set-cookie"]) {
    const kept = headers["set-cookie"].map((cookie) => appCookieForBrowser(cookie, gatewayCookieNames)).filter((cookie) => cookie !== null);
    if (kept.length > 0) rewritten["set-cookie"] = kept;
    else delete rewritten["set-cookie"];
  }
  return rewritten;
}

/** The credential a target injects: HTTP basic auth, or the secret in a header the admin named. */
export interface InjectedCredential {
  header: string | null;
  username: string;
  secret: string;
}

/** What the app is sent: the request's own headers, less the gateway's cookies, plus the target's credential. */
export function upstreamHeaders(request: IncomingMessage, config: Pick<Config, "publicUrl">, internal: URL, credential: InjectedCredential | null): OutgoingHttpHeaders {
  const headers = endToEnd(request.headers);
  const names = appCookieNames(config.publicUrl);
  const cookie = cookieHeaderWithout(request.headers.cookie, [names.session, names.state]);
  if (cookie) headers.cookie = cookie;
  else delete headers.cookie;
  headers.host = internal.host;
  // The client's address as the gateway established it (server/main.ts), in the header apps expect.
  headers["x-forwarded-for"] = String(request.headers[clientAddressHeader] ?? "");
  delete headers[clientAddressHeader];
  delete headers.forwarded;
  headers["x-forwarded-host"] = request.headers.host ?? "";
  headers["x-forwarded-proto"] = config.publicUrl.protocol.slice(0, -1);
  if (credential) {
    if (credential.header) headers[credential.header.toLowerCase()] = credential.secret;
    else headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.secret}`).toString("base64")}`;
  }
  return headers;
}
