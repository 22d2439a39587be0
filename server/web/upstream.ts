// One upstream, always: whatever a browser puts in its request line, a request on an app host reaches only
// that app's internal origin. The request-target must be a plain path (origin-form) that starts with exactly one
// `/`; absolute-form (`GET http://other/x`), authority-form, `*`, `//host`, `/\host`, their percent-encoded
// variants and raw control characters or backslashes are refused before anything is opened, and the origin of
// what is opened is checked against the target's once more. Redirects are the browser's to follow, never ours.
import http, { type OutgoingHttpHeaders } from "node:http";
import https from "node:https";

/** Methods that only serve to reflect a request or to tunnel through the gateway: never forwarded. */
const refusedMethods = new Set(["TRACE", "TRACK", "CONNECT"]);
/** Percent-decoding rounds tried when looking for an encoded `//` or `/\` (`%252F` is `%2F` twice over). */
const decodingRounds = 3;

export interface UpstreamRefusal {
  status: 400 | 405;
  reason: string;
}

function decodeOnce(text: string): string {
  return text.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * The path (with its query) to ask the app for, or why the request may not go upstream. `rawTarget` is the
 * request-target exactly as the browser sent it (Node's `request.url`).
 */
export function upstreamPath(method: string | undefined, rawTarget: string | undefined): { path: string } | { refusal: UpstreamRefusal } {
  const verb = (method ?? "").toUpperCase();
  if (refusedMethods.has(verb)) return { refusal: { status: 405, reason: `the ${verb} method is not forwarded to apps` } };
  const target = rawTarget ?? "";
  if (!target.startsWith("/")) return { refusal: { status: 400, reason: "the request-target must be a path on the app (no absolute or authority form)" } };
  if (/[\x00-\x20\x7f-\uffff]/.test(target)) return { refusal: { status: 400, reason: "the request-target holds control characters, spaces or raw non-ASCII bytes" } };
  const pathPart = target.split("?", 1)[0]!;
  if (pathPart.includes("\\")) return { refusal: { status: 400, reason: "the path holds a backslash" } };
  let decoded = pathPart;
  for (let round = 0; round <= decodingRounds; round++) {
    if (/^\/[/\\]/.test(decoded)) return { refusal: { status: 400, reason: "the path starts with // or /\\ (it would name another host)" } };
    if (/[\x00-\x1f\x7f]/.test(decoded)) return { refusal: { status: 400, reason: "the path holds encoded control characters" } };
    const next = decodeOnce(decoded);
    if (next === decoded) break;
    decoded = next;
  }
  return { path: target };
}

/** Thrown if, despite the checks above, a request would leave the target's origin: a bug, never a redirect. */
export class OriginEscape extends Error {}

/**
 * Opens a request to the app at `internal`'s origin for `path` (from upstreamPath). The connection goes to the
 * internal origin's host and port whatever the path says; the assertion makes that explicit.
 */
export function openUpstream(internal: URL, path: string, options: { method: string; headers: OutgoingHttpHeaders }): http.ClientRequest {
  const destination = new URL(path, internal.origin);
  if (destination.origin !== internal.origin) throw new OriginEscape(`upstream ${destination.origin} is not the target's origin ${internal.origin}`);
  const secure = internal.protocol === "https:";
  return (secure ? https : http).request({
    protocol: internal.protocol,
    hostname: internal.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: internal.port || (secure ? 443 : 80),
    path,
    method: options.method,
    headers: options.headers,
  });
}
