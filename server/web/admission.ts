// Whether a request on an app host may reach the app, decided before anything is sent upstream:
// 1. the request line (./upstream.ts): a plain path and a method that is not TRACE, TRACK or CONNECT;
// 2. the app host stays its own: state-changing requests only from its own pages (Fetch Metadata, else Origin),
//    and from other sites nothing but top-level navigations;
// 3. the cookie of a live web session of this very app, sent once (two values mean another host of the site
//    tossed one in: refused, never guessed between).
// Refusals are answered by the gateway itself (plain HTML, no script) and audited, within a budget per address
// so that a flood of bad requests cannot flood the audit log.
import { createHash } from "node:crypto";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { audit, type Actor } from "../../lib/data/audit";
import type { Config } from "../../lib/infra/config";
import type { Database } from "../../lib/data/client";
import { cookieValues, singleCookie } from "../../lib/infra/http/cookies";
import { clientAddressHeader } from "../../lib/infra/request-context";
import { findWebTarget, type TargetRow } from "../../lib/data/targets";
import { appCookieNames, appOrigin, appPage, newBrowserState, safeReturnPath } from "../../lib/domain/web-app-hosts";
import type { WebSessionRow } from "../../lib/data/web-sessions";
import { upstreamPath } from "./upstream";
import type { AppLogin, VisitCache } from "./visit-cache";
import { log } from "../../lib/infra/log";

/** A web target with somewhere to send its requests. */
export type WebTarget = TargetRow & { internalUrl: string };
const isPublished = (target: TargetRow | undefined): target is WebTarget => Boolean(target?.internalUrl);

/** What an app host answers itself when a request may not reach the app. */
export interface Refusal {
  status: number;
  title: string;
  message: string;
  location?: string;
  setCookies?: string[];
  /** Audited as a refused request (an attack or a broken client), not an ordinary "please sign in". */
  audited?: boolean;
}

/** Admitted: the target, the live session, the target's login and the path to ask for. Refused: why, and whose session it was. */
export type Admission = { target: WebTarget; session: WebSessionRow; login: AppLogin; path: string } | { target?: WebTarget; refusal: Refusal; found?: WebSessionRow };

const unsafeMethods = (method: string | undefined) => !["GET", "HEAD", "OPTIONS"].includes((method ?? "").toUpperCase());

/** Audit rows per client address and minute for refused requests; past it they are counted in the log. */
const auditedRefusalsPerMinute = 20;
const auditBudgetAddresses = 10_000;

/** A policy for the gateway's own answers on app hosts: static HTML, no script, not framed. */
export const appPagePolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function createAdmission({ db, config }: { db: Database; config: Config }, visits: VisitCache) {
  const cookieNames = appCookieNames(config.publicUrl);
  const secure = config.publicUrl.protocol === "https:";
  const cookieAttributes = `Path=/; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
  const auditBudget = new Map<string, { minute: number; count: number }>();

  function launchUrl(name: string, returnPath: string, stateHash?: string) {
    const url = new URL(`/apps/${name}`, config.publicUrl);
    url.searchParams.set("return", safeReturnPath(returnPath));
    if (stateHash) url.searchParams.set("state", stateHash);
    return url.href;
  }

  /** The app's state cookie, when the browser sent exactly one that could be ours. */
  function browserState(request: IncomingMessage): string | null {
    const value = singleCookie(request.headers.cookie, cookieNames.state);
    return value !== null && /^[\w-]{43}$/.test(value) ? value : null;
  }

  /**
   * Off to the gateway to sign in and be authorized, with this browser's state: the one it already holds (another
   * request of the same sign-in must not replace it), or a fresh one in a cookie on this app host. The handoff
   * that comes back is redeemable only by this browser.
   */
  function toGateway(request: IncomingMessage, name: string, returnPath: string, message: string): Refusal {
    const held = browserState(request);
    const { state, stateHash } = held ? { state: held, stateHash: createHash("sha256").update(held).digest("hex") } : newBrowserState();
    return {
      status: 302,
      title: "Sign in",
      message,
      location: launchUrl(name, returnPath, stateHash),
      setCookies: held ? undefined : [`${cookieNames.state}=${state}; ${cookieAttributes}; Max-Age=600`],
    };
  }

  const noSuchApp = (name: string): Refusal => ({ status: 404, title: "No such app", message: `Gatehouse publishes no app called ${name}.` });

  /** Requests from other sites (sibling apps included) may only navigate to the app, never act in it. */
  function crossSiteRefusal(request: IncomingMessage, origin: string): Refusal | null {
    const site = request.headers["sec-fetch-site"];
    const refused = (why: string): Refusal => ({ status: 403, title: "Cross-site request refused", message: `Gatehouse refused this request: ${why}.`, audited: true });
    if (typeof site === "string") {
      if (site === "same-origin" || site === "none") return null;
      if (unsafeMethods(request.method)) return refused(`a ${request.method} from another site (${site}) may not act in this app`);
      const navigation = request.headers["sec-fetch-mode"] === "navigate" && request.headers["sec-fetch-dest"] === "document";
      return navigation ? null : refused(`only this app's own pages may fetch from it (${site} ${String(request.headers["sec-fetch-dest"] ?? "request")})`);
    }
    if (!unsafeMethods(request.method)) return null;
    return request.headers.origin === origin ? null : refused(`a ${request.method} must come from this app's own pages`);
  }

  function actorOf(request: IncomingMessage, found: WebSessionRow | undefined): Actor {
    const sourceIp = (request.headers[clientAddressHeader] as string | undefined) ?? null;
    return found ? { id: found.session.userId, name: found.username, sourceIp } : { id: null, name: "anonymous", sourceIp };
  }

  async function auditRefusal(request: IncomingMessage, name: string, refusal: Refusal, known?: WebSessionRow) {
    const tokens = cookieValues(request.headers.cookie, cookieNames.session);
    const found = known ?? (tokens.length === 1 ? (await visits.find(tokens[0]!))?.visit : undefined);
    const actor = actorOf(request, found);
    const address = actor.sourceIp ?? "unknown";
    const minute = Math.floor(Date.now() / 60_000);
    const spent = auditBudget.get(address);
    if (spent?.minute === minute && spent.count >= auditedRefusalsPerMinute) return void (spent.count += 1);
    if (spent?.minute !== minute) {
      if (spent && spent.count > auditedRefusalsPerMinute) log.warn(`web app ${name}: ${spent.count - auditedRefusalsPerMinute} more refused request(s) from ${address} were not audited`);
      if (auditBudget.size >= auditBudgetAddresses) auditBudget.clear();
      auditBudget.set(address, { minute, count: 1 });
    } else spent.count += 1;
    await audit(db, actor, {
      action: "web.request",
      outcome: "refused",
      objectType: found ? "session" : undefined,
      objectId: found?.session.id,
      details: { app: name, method: String(request.method).slice(0, 16), target: String(request.url).slice(0, 256), status: refusal.status, reason: refusal.message },
    });
  }

  /** Step 1: the path to ask the app for, or the refusal of a request line that could leave the app's origin. */
  function requestLine(request: IncomingMessage): { path: string } | { refusal: Refusal } {
    const upstream = upstreamPath(request.method, request.url);
    if ("path" in upstream) return upstream;
    return { refusal: { status: upstream.refusal.status, title: upstream.refusal.status === 405 ? "Method not allowed" : "Bad request", message: `Gatehouse refused this request: ${upstream.refusal.reason}.`, audited: true } };
  }

  /** Steps 2 and 3, for a request whose line passed step 1: the target and live session, or the refusal. */
  async function admit(request: IncomingMessage, name: string, path: string): Promise<Admission> {
    const crossSite = crossSiteRefusal(request, appOrigin(config, name));
    const tokens = cookieValues(request.headers.cookie, cookieNames.session);
    const kept = tokens.length === 1 ? await visits.find(tokens[0]!) : undefined;
    const found = kept?.visit;
    if (crossSite) return { refusal: crossSite, found };
    if (tokens.length > 1) {
      return { refusal: { status: 400, title: "Conflicting cookies", message: `Your browser sent ${tokens.length} Gatehouse cookies for ${name}; another site may have set one. Open the app again from Gatehouse.`, setCookies: [`${cookieNames.session}=; ${cookieAttributes}; Max-Age=0`], audited: true } };
    }
    if (!found || found.target.name !== name) {
      const target = await findWebTarget(db, name);
      if (!isPublished(target)) return { refusal: noSuchApp(name) };
      // Only a page the person opens goes to sign in; a script's fetch or an image is told, not redirected.
      if (request.headers["sec-fetch-mode"] !== undefined && request.headers["sec-fetch-mode"] !== "navigate") {
        return { target, refusal: { status: 401, title: "Sign in", message: `Sign in to Gatehouse to use ${name}: open the app again from Gatehouse.` } };
      }
      return { target, refusal: toGateway(request, name, request.url ?? "/", "Sign in to Gatehouse to open this app.") };
    }
    const { target } = found;
    if (!isPublished(target)) return { refusal: noSuchApp(name) };
    if (found.session.status === "ended") {
      const why = found.session.endReason === "terminated" ? "It was terminated by security." : "It has ended.";
      return { target, refusal: { status: 403, title: "Session ended", message: `Your session on ${name} is over. ${why} Open the app again from Gatehouse if you still have access.`, setCookies: [`${cookieNames.session}=; ${cookieAttributes}; Max-Age=0`] } };
    }
    if (found.session.status === "locked") return { target, refusal: { status: 423, title: "Session locked", message: "Your session has been locked, please contact your Administrator." } };
    return { target, session: found, login: kept!.login, path };
  }

  return {
    cookieNames,
    cookieAttributes,
    findWebTarget: (name: string) => findWebTarget(db, name),
    noSuchApp,
    requestLine,
    admit,
    toGateway,

    /** The session cookie for a redeemed handoff, and the spent state cookie cleared. */
    sessionCookies(token: string) {
      return [`${cookieNames.session}=${token}; ${cookieAttributes}`, `${cookieNames.state}=; ${cookieAttributes}; Max-Age=0`];
    },

    browserState,

    /** Audits a refused request or WebSocket, where the refusal is an attack or a broken client. */
    audit(request: IncomingMessage, refusal: Refusal, name: string, found?: WebSessionRow) {
      if (refusal.audited) auditRefusal(request, name, refusal, found).catch((error) => log.error({ err: error }, `web app ${name}: auditing a refused request failed`));
    },

    /** Answers a refusal as the gateway's own page (audited where it is one), with its cookies and redirect. */
    refuse(request: IncomingMessage, response: ServerResponse, refusal: Refusal, name: string, found?: WebSessionRow) {
      this.audit(request, refusal, name, found);
      const headers: OutgoingHttpHeaders = { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-security-policy": appPagePolicy, "x-content-type-options": "nosniff" };
      if (refusal.location) headers.location = refusal.location;
      if (refusal.setCookies) headers["set-cookie"] = refusal.setCookies;
      response.writeHead(refusal.status, headers);
      response.end(appPage(refusal.title, refusal.message, launchUrl(name, "/")));
    },
  };
}

export type AppAdmission = ReturnType<typeof createAdmission>;
