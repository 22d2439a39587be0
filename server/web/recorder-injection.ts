// Putting the recorder into an app's HTML pages: a <script> tag at the top of the document, and the app's
// Content-Security-Policy widened just enough for that one script and its events socket — never dropped.
import type { IncomingHttpHeaders } from "node:http";
import { pageEventsPath, recorderScriptPath } from "../../lib/protocol/page-recorder";

/**
 * Whether a response is a page the user opened (a document, not a fragment an app fetches and inserts itself,
 * not a frame inside a page already recorded): only those get the recorder.
 */
export function isRecordablePage(method: string | undefined, requestHeaders: IncomingHttpHeaders, status: number, responseHeaders: IncomingHttpHeaders): boolean {
  if (method !== "GET" || status === 204 || status === 304 || (status >= 300 && status < 400)) return false;
  if (!/^text\/html\b/i.test(String(responseHeaders["content-type"] ?? ""))) return false;
  if (/^\s*attachment/i.test(String(responseHeaders["content-disposition"] ?? ""))) return false;
  const destination = requestHeaders["sec-fetch-dest"];
  return destination === undefined || destination === "document";
}

export interface RecorderAllowance {
  /** The script's hash (`sha384-…`), its URL and the events socket's URL, on the app's host. */
  scriptHash: string;
  scriptUrl: string;
  eventsUrl: string;
}

const isNonceOrHash = (source: string) => /^'(nonce|sha256|sha384|sha512)-/i.test(source);

/**
 * A policy (a Content-Security-Policy header, possibly several policies joined by commas) that also allows the
 * recorder, and the nonce its tag must carry when the policy allows scripts by nonce.
 *
 * Script directives that already allow by nonce or hash (or 'strict-dynamic', where addresses count for
 * nothing) get the script's hash, which the tag's `integrity` matches; others get its address, because adding
 * a hash would switch off an 'unsafe-inline' the app relies on. A directive missing but covered by
 * default-src is added as default-src's sources plus the recorder's, so nothing else is widened.
 */
export function allowRecorder(header: string, allowance: RecorderAllowance): { header: string; nonce: string | null } {
  let nonce: string | null = null;
  const policies = header.split(",").map((policy) => {
    const directives = policy
      .split(";")
      .map((directive) => directive.trim().split(/\s+/))
      .filter((tokens) => tokens[0])
      .map(([name, ...sources]) => ({ name: name!.toLowerCase(), sources }));
    const find = (name: string) => directives.find((directive) => directive.name === name);
    const fallback = find("default-src");
    const widen = (sources: string[], additions: string[]) => [...sources.filter((source) => source.toLowerCase() !== "'none'"), ...additions.filter((addition) => !sources.includes(addition))];

    const scriptDirectives = ["script-src-elem", "script-src"].map(find).filter((directive) => directive !== undefined);
    if (scriptDirectives.length === 0 && fallback) {
      const created = { name: "script-src", sources: [...fallback.sources] };
      directives.push(created);
      scriptDirectives.push(created);
    }
    for (const directive of scriptDirectives) {
      const byNonceOrHash = directive.sources.some(isNonceOrHash) || directive.sources.includes("'strict-dynamic'");
      nonce ??= directive.sources.map((source) => /^'nonce-([^']+)'$/i.exec(source)?.[1]).find((found) => found !== undefined) ?? null;
      directive.sources = widen(directive.sources, byNonceOrHash ? [`'${allowance.scriptHash}'`] : [allowance.scriptUrl]);
    }

    const connect = find("connect-src") ?? (fallback ? { name: "connect-src", sources: [...fallback.sources] } : undefined);
    if (connect) {
      if (!directives.includes(connect)) directives.push(connect);
      connect.sources = widen(connect.sources, [allowance.eventsUrl]);
    }
    return directives.map(({ name, sources }) => [name, ...sources].join(" ")).join("; ");
  });
  return { header: policies.join(", "), nonce };
}

const escapeAttribute = (text: string) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
const unescapeAttribute = (text: string) => text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");

/** The recorder's tag; the page reads its settings from the data attributes. */
function recorderTag(scriptHash: string, options: { nonce: string | null; maskAllInputs: boolean }) {
  const nonce = options.nonce ? ` nonce="${escapeAttribute(options.nonce)}"` : "";
  return `<script defer src="${recorderScriptPath}" integrity="${scriptHash}"${nonce} data-mask-all-inputs="${options.maskAllInputs}"></script>`;
}

/**
 * The page with the tag at the start of its <head> (or of the document), and a policy set in a <meta> tag
 * widened like the header (it would otherwise block the events socket).
 */
export function injectRecorder(html: string, allowance: RecorderAllowance, options: { nonce: string | null; maskAllInputs: boolean }): string {
  let nonce = options.nonce;
  const withMetaPolicy = html.replace(/<meta\b[^>]*http-equiv\s*=\s*["']?content-security-policy["']?[^>]*>/gi, (meta) =>
    meta.replace(/\bcontent\s*=\s*"([^"]*)"/i, (_, policy: string) => {
      const allowed = allowRecorder(unescapeAttribute(policy), allowance);
      nonce ??= allowed.nonce;
      return `content="${escapeAttribute(allowed.header)}"`;
    }),
  );
  const tag = recorderTag(allowance.scriptHash, { nonce, maskAllInputs: options.maskAllInputs });
  const head = /<head(\s[^>]*)?>/i.exec(withMetaPolicy) ?? /<html(\s[^>]*)?>/i.exec(withMetaPolicy);
  if (!head) return tag + withMetaPolicy;
  const at = head.index + head[0].length;
  return withMetaPolicy.slice(0, at) + tag + withMetaPolicy.slice(at);
}

/** Where the recorder's script and socket are on an app's host, for the policy. */
export function recorderAllowance(appOrigin: string, scriptHash: string): RecorderAllowance {
  return { scriptHash, scriptUrl: `${appOrigin}${recorderScriptPath}`, eventsUrl: `${appOrigin.replace(/^http/, "ws")}${pageEventsPath}` };
}
