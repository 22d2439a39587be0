// The app hosts: a request to `<name>.<gateway host>` belongs to that web target. It reaches the app only with
// the cookie of a live web session of that target (else the browser goes to the gateway's origin to sign in
// and be authorized), is forwarded to the app's internal URL with the target's credential injected, and goes on
// the session's timeline. Redirects and cookies that name the internal address are rewritten to the app host.
// Pages get the recorder (./recorder-injection.ts), whose events come back over a WebSocket on the same host.
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import { gzipSync } from "node:zlib";
import { and, eq, inArray } from "drizzle-orm";
import { WebSocketServer } from "ws";
import { openCredential } from "../../lib/credentials";
import { clientAddressHeader } from "../../lib/request-context";
import { sessions, sessionEvents, targets } from "../../lib/db/schema";
import type { ControlCommand } from "../../lib/protocol/live";
import { pageEventsPath, recorderScriptPath } from "../../lib/protocol/page-recorder";
import type { Runtime } from "../../lib/runtime";
import { addSessionEvent } from "../../lib/session-events";
import { setSessionStatus } from "../../lib/sessions";
import type { TargetRow } from "../../lib/targets";
import {
  appCookieName,
  appNameOfHost,
  appOrigin,
  appPage,
  endIdleWebSessions,
  endWebSession,
  findWebSession,
  handoffPath,
  markWebSessionActive,
  redeemAppHandoff,
  safeReturnPath,
  takeOverWebSession,
  type WebSessionRow,
} from "../../lib/web-apps";
import { sessionRegistry } from "../session-registry";
import { recorderScript } from "./recorder-script/bundle";
import { allowRecorder, decodeBody, injectRecorder, isRecordablePage, recorderAllowance } from "./recorder-injection";
import { LiveWebSession } from "./web-session";

/** Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1), plus those `Connection` names. */
const hopByHop = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);
/**
 * How often this node's web sessions (open WebSockets, recorded pages) are checked against their rows, so one
 * ended elsewhere ends here too; the same sweep ends idle sessions.
 */
const sessionSweepMs = 2000;
/** Pages larger than this are passed through without the recorder rather than held in memory. */
const recordablePageLimit = 16 * 1024 * 1024;
/** The user's activity is written to the session row at most this often (and at least four times per idle timeout). */
const activityWriteMs = 30_000;
/** Request log entries are written in batches, at most this often. */
const requestLogFlushMs = 1000;

export function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(String(headers.connection ?? "").toLowerCase().split(",").map((name) => name.trim()));
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !hopByHop.has(name) && !named.has(name)) kept[name] = value;
  return kept;
}

/** Redirects and cookies as the browser must see them: on the app host, never the internal address. */
export function rewriteResponseHeaders(headers: IncomingHttpHeaders, internal: URL, publicOrigin: string): OutgoingHttpHeaders {
  const rewritten = endToEnd(headers);
  if (typeof headers.location === "string") {
    const location = new URL(headers.location, internal);
    rewritten.location = location.origin === internal.origin ? `${publicOrigin}${location.pathname}${location.search}${location.hash}` : headers.location;
  }
  if (headers["set-cookie"]) rewritten["set-cookie"] = headers["set-cookie"].map((cookie) => cookie.replace(/;\s*domain=[^;]*/i, ""));
  return rewritten;
}

function readCookie(header: string | undefined, name: string) {
  for (const pair of (header ?? "").split(";")) {
    const [key, ...value] = pair.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

/** The app's own cookies, without the gateway's: the app never sees the token that stands for the session. */
export function withoutAppCookie(header: string | undefined) {
  const kept = (header ?? "").split(";").map((pair) => pair.trim()).filter((pair) => pair && !pair.startsWith(`${appCookieName}=`));
  return kept.length > 0 ? kept.join("; ") : undefined;
}

/** A web target with somewhere to send its requests. */
type WebTarget = TargetRow & { internalUrl: string };
const isPublished = (target: TargetRow | undefined): target is WebTarget => Boolean(target?.internalUrl);

/** What an app host answers itself when a request may not reach the app. */
interface Refusal {
  status: number;
  title: string;
  message: string;
  location?: string;
  clearCookie?: boolean;
}

const noSuchApp = (name: string): Refusal => ({ status: 404, title: "No such app", message: `Gatehouse publishes no app called ${name}.` });

export function createAppProxy(runtime: Runtime) {
  const { db, config, vault } = runtime;
  const tunnels = new Map<string, Set<Duplex>>();
  let loggedRequests: (typeof sessionEvents.$inferInsert)[] = [];
  const pageEvents = new WebSocketServer({ noServer: true, maxPayload: 32 * 1024 * 1024 });
  const activityWritten = new Map<string, number>();

  const cookieAttributes = `Path=/; HttpOnly; SameSite=Lax${config.publicUrl.protocol === "https:" ? "; Secure" : ""}`;

  async function findWebTarget(name: string): Promise<TargetRow | undefined> {
    const [target] = await db.select().from(targets).where(and(eq(targets.name, name), eq(targets.protocol, "web")));
    return target;
  }

  function launchUrl(name: string, returnPath: string) {
    const url = new URL(`/apps/${name}`, config.publicUrl);
    url.searchParams.set("return", returnPath);
    return url.href;
  }

  /**
   * The app a request is for and the live session its cookie stands for, or the response that says why there is
   * none. With a session, its row brings the target: one query per request.
   */
  async function admit(request: IncomingMessage, name: string): Promise<{ target: WebTarget; session: WebSessionRow } | { target?: WebTarget; refusal: Refusal }> {
    const token = readCookie(request.headers.cookie, appCookieName);
    const found = token ? await findWebSession(db, token) : undefined;
    if (!found || found.target.name !== name) {
      const target = await findWebTarget(name);
      if (!isPublished(target)) return { refusal: noSuchApp(name) };
      return { target, refusal: { status: 302, title: "Sign in", message: "Sign in to Gatehouse to open this app.", location: launchUrl(name, safeReturnPath(request.url)) } };
    }
    const { target } = found;
    if (!isPublished(target)) return { refusal: noSuchApp(name) };
    if (found.session.status === "ended") {
      const why = found.session.endReason === "terminated" ? "It was terminated by security." : "It has ended.";
      return { target, refusal: { status: 403, title: "Session ended", message: `Your session on ${name} is over. ${why} Open the app again from Gatehouse if you still have access.`, clearCookie: true } };
    }
    if (found.session.status === "locked") return { target, refusal: { status: 423, title: "Session locked", message: "Your session has been locked, please contact your Administrator." } };
    return { target, session: found };
  }

  function refuse(response: ServerResponse, refusal: Refusal, name: string) {
    const headers: OutgoingHttpHeaders = { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" };
    if (refusal.location) headers.location = refusal.location;
    if (refusal.clearCookie) headers["set-cookie"] = `${appCookieName}=; ${cookieAttributes}; Max-Age=0`;
    response.writeHead(refusal.status, headers);
    response.end(appPage(refusal.title, refusal.message, launchUrl(name, "/")));
  }

  /** What the app is sent: the request's own headers, less the gateway's cookie, plus the target's credential. */
  async function upstreamHeaders(request: IncomingMessage, target: TargetRow, internal: URL): Promise<OutgoingHttpHeaders> {
    const headers = endToEnd(request.headers);
    const cookie = withoutAppCookie(request.headers.cookie);
    if (cookie) headers.cookie = cookie;
    else delete headers.cookie;
    headers.host = internal.host;
    // The client's address as the gateway established it (server/main.ts), in the header apps expect.
    headers["x-forwarded-for"] = String(request.headers[clientAddressHeader] ?? "");
    delete headers[clientAddressHeader];
    headers["x-forwarded-host"] = request.headers.host ?? "";
    headers["x-forwarded-proto"] = config.publicUrl.protocol.slice(0, -1);
    const login = target.credentialId ? await openCredential(db, vault, target.credentialId) : undefined;
    if (login) {
      if (target.webAuthHeader) headers[target.webAuthHeader.toLowerCase()] = login.secret;
      else headers.authorization = `Basic ${Buffer.from(`${login.username}:${login.secret}`).toString("base64")}`;
    }
    return headers;
  }

  function logRequest(session: WebSessionRow, entry: { method: string; path: string; status: number; bytes: number; ms: number }) {
    if (loggedRequests.length === 0) setTimeout(flushRequestLog, requestLogFlushMs).unref();
    loggedRequests.push({ sessionId: session.session.id, kind: "web.request", actorName: session.username, details: entry });
  }

  function flushRequestLog() {
    const batch = loggedRequests;
    loggedRequests = [];
    if (batch.length > 0) db.insert(sessionEvents).values(batch).catch((error) => console.error("writing the web request log failed:", error));
  }

  function openUpstream(internal: URL, options: http.RequestOptions) {
    return (internal.protocol === "https:" ? https : http).request(internal, options);
  }

  /** The user did something in the app: written to the row (throttled), where the idle sweep of any node reads it. */
  function noteActivity({ session, target }: WebSessionRow) {
    const now = Date.now();
    if (now - (activityWritten.get(session.id) ?? 0) < Math.min(activityWriteMs, (target.idleTimeoutSeconds * 1000) / 4)) return;
    activityWritten.set(session.id, now);
    markWebSessionActive(db, session.id).catch((error) => console.error(`noting activity in session ${session.id} failed:`, error));
  }

  /** Lock, unlock and terminate act on the session's row: the next request on any node sees them. */
  async function applyToRow(command: ControlCommand) {
    const [session] = await db.select().from(sessions).where(and(eq(sessions.id, command.sessionId), eq(sessions.protocol, "web"), eq(sessions.node, config.nodeName)));
    if (!session || session.status === "ended") return { ok: false, message: `the session is not running on ${config.nodeName} any more` };
    const { action, reason, actorName } = command;
    if (action === "pause" || action === "resume") return { ok: false, message: "a web session cannot be paused; lock it instead" };
    if (action === "lock" || action === "unlock") {
      if ((action === "lock") !== (session.status === "active")) return { ok: false, message: `the session is ${session.status}` };
      await setSessionStatus(db, session.id, action === "lock" ? "locked" : "active");
    } else {
      await endWebSession(db, session.id, "terminated", `terminated by ${actorName} from security: ${reason}`);
      closeTunnels(session.id);
    }
    await addSessionEvent(db, { sessionId: session.id, kind: action, actorName, details: { reason } });
    return { ok: true, message: action === "lock" || action === "unlock" ? `the session was ${action}ed` : "the session was terminated" };
  }

  const liveHooks = { active: noteActivity, applyToRow };

  /** This node's web sessions, against their rows: what ended anywhere (terminated, signed out, idle) ends here. */
  async function sweepSessions() {
    await endIdleWebSessions(db);
    const open = new Set(tunnels.keys());
    for (const session of sessionRegistry.all()) if (session instanceof LiveWebSession) open.add(session.sessionId);
    if (open.size === 0) return;
    const ended = await db.select({ id: sessions.id, endReason: sessions.endReason }).from(sessions).where(and(inArray(sessions.id, [...open]), eq(sessions.status, "ended")));
    for (const { id, endReason } of ended) {
      closeTunnels(id);
      activityWritten.delete(id);
      await sessionRegistry.find(id)?.end(endReason ?? "expired", endReason === "user_closed" ? "the user signed out" : endReason === "expired" ? "it was idle for too long" : "it was ended");
    }
  }
  const sessionSweep = setInterval(() => sweepSessions().catch((error) => console.error("checking web sessions failed:", error)), sessionSweepMs).unref();

  let compressedScript: Buffer | null = null;
  async function serveRecorderScript(request: IncomingMessage, response: ServerResponse) {
    const script = await recorderScript();
    const gzipped = /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""));
    compressedScript ??= gzipSync(script.body);
    response.writeHead(200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=3600",
      vary: "accept-encoding",
      ...(gzipped ? { "content-encoding": "gzip" } : {}),
    });
    response.end(gzipped ? compressedScript : script.body);
  }

  /**
   * An HTML page from the app, given the recorder: read whole (up to a limit), decoded, the tag added, the
   * policy widened for it. A page too large or in an encoding the gateway cannot read passes through as it is.
   */
  async function sendRecordedPage(answer: IncomingMessage, response: ServerResponse, headers: OutgoingHttpHeaders, target: WebTarget, origin: string): Promise<number> {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const part of answer as AsyncIterable<Buffer>) {
      parts.push(part);
      size += part.length;
      if (size > recordablePageLimit) {
        console.warn(`web app ${target.name}: a page over ${recordablePageLimit} bytes was passed on without the recorder`);
        response.writeHead(answer.statusCode ?? 502, headers);
        for (const held of parts) response.write(held);
        answer.pipe(response);
        await new Promise((resolve) => answer.once("end", resolve));
        return size;
      }
    }
    const raw = Buffer.concat(parts);
    const html = await decodeBody(raw, answer.headers["content-encoding"]);
    if (!html) {
      console.warn(`web app ${target.name}: a page in ${answer.headers["content-encoding"]} encoding was passed on without the recorder`);
      response.writeHead(answer.statusCode ?? 502, headers);
      response.end(raw);
      return raw.length;
    }
    const allowance = recorderAllowance(origin, (await recorderScript()).hash);
    let nonce: string | null = null;
    const policy = headers["content-security-policy"];
    if (policy !== undefined) {
      const allowed = allowRecorder([policy].flat().join(", "), allowance);
      headers["content-security-policy"] = allowed.header;
      nonce = allowed.nonce;
    }
    const page = Buffer.from(injectRecorder(html.toString("utf8"), allowance, { nonce, maskAllInputs: target.maskAllInputs }), "utf8");
    for (const stale of ["content-encoding", "content-length", "etag", "content-md5"]) delete headers[stale];
    headers["content-length"] = page.length;
    response.writeHead(answer.statusCode ?? 502, headers);
    response.end(page);
    return raw.length;
  }

  function closeTunnels(sessionId: string) {
    for (const socket of tunnels.get(sessionId) ?? []) socket.destroy();
    tunnels.delete(sessionId);
  }

  return {
    /** The web target a request is for, when it came to an app host. */
    appNameOf(request: IncomingMessage) {
      return appNameOfHost(config.publicUrl, request.headers.host);
    },

    async handleRequest(request: IncomingMessage, response: ServerResponse, name: string) {
      const url = new URL(request.url ?? "/", appOrigin(config.publicUrl, name));
      if (url.pathname === handoffPath) {
        const target = await findWebTarget(name);
        if (!isPublished(target)) return refuse(response, noSuchApp(name), name);
        const handed = await redeemAppHandoff(db, url.searchParams.get("ticket") ?? "", target.id);
        if (!handed) return refuse(response, { status: 400, title: "Link expired", message: "This sign-in link has expired or was already used. Open the app again from Gatehouse." }, name);
        response.writeHead(302, { location: safeReturnPath(url.searchParams.get("return")), "set-cookie": `${appCookieName}=${handed.token}; ${cookieAttributes}`, "cache-control": "no-store" });
        return response.end();
      }
      if (url.pathname === recorderScriptPath) return serveRecorderScript(request, response);
      const admitted = await admit(request, name);
      if ("refusal" in admitted) return refuse(response, admitted.refusal, name);
      const { target } = admitted;
      if (request.headers["sec-fetch-mode"] === "navigate") noteActivity(admitted.session);

      const internal = new URL(target.internalUrl);
      const origin = appOrigin(config.publicUrl, name);
      const startedAt = performance.now();
      const upstream = openUpstream(new URL(request.url ?? "/", internal), { method: request.method, headers: await upstreamHeaders(request, target, internal) });
      upstream.on("response", (answer) => {
        const status = answer.statusCode ?? 502;
        const headers = rewriteResponseHeaders(answer.headers, internal, origin);
        const logged = (bytes: number) => logRequest(admitted.session, { method: request.method ?? "GET", path: url.pathname + url.search, status, bytes, ms: Math.round(performance.now() - startedAt) });
        if (isRecordablePage(request.method, request.headers, status, answer.headers)) {
          sendRecordedPage(answer, response, headers, target, origin).then(logged, (error) => {
            console.error(`web app ${name}: recording a page failed:`, error);
            response.destroy();
          });
          return;
        }
        response.writeHead(status, headers);
        let bytes = 0;
        answer.on("data", (chunk: Buffer) => (bytes += chunk.length));
        answer.pipe(response);
        answer.on("end", () => logged(bytes));
      });
      upstream.on("error", (error) => {
        console.error(`web app ${name} (${internal.origin}) failed:`, error.message);
        if (!response.headersSent) refuse(response, { status: 502, title: "App unreachable", message: `Gatehouse could not reach ${name}: ${error.message}` }, name);
        else response.destroy();
      });
      request.pipe(upstream);
    },

    /** WebSockets to the app: the same admission, plus the app's own origin (no cross-site socket rides the cookie). */
    async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, name: string) {
      const refuseUpgrade = (status: number, reason: string) => socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      const admitted = await admit(request, name);
      if (!admitted.target) return refuseUpgrade(404, "Not Found");
      if (request.headers.origin !== appOrigin(config.publicUrl, name) || "refusal" in admitted) return refuseUpgrade(403, "Forbidden");
      if (new URL(request.url ?? "/", "http://app").pathname === pageEventsPath) {
        const live = await LiveWebSession.open(runtime, admitted.session, liveHooks);
        if (admitted.session.session.node !== config.nodeName) await takeOverWebSession(db, live.sessionId, config.nodeName);
        return pageEvents.handleUpgrade(request, socket, head, (page) => live.attachPage(page));
      }
      const { target } = admitted;
      const internal = new URL(target.internalUrl);
      const headers = await upstreamHeaders(request, target, internal);
      headers.connection = "Upgrade";
      headers.upgrade = request.headers.upgrade ?? "websocket";
      headers.origin = internal.origin;
      const upstream = openUpstream(new URL(request.url ?? "/", internal), { method: request.method, headers });
      upstream.on("upgrade", (answer, appSocket, appHead) => {
        const lines = [`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage}`];
        for (let index = 0; index < answer.rawHeaders.length; index += 2) lines.push(`${answer.rawHeaders[index]}: ${answer.rawHeaders[index + 1]}`);
        socket.write(`${lines.join("\r\n")}\r\n\r\n`);
        if (appHead.length > 0) socket.write(appHead);
        if (head.length > 0) appSocket.write(head);
        appSocket.pipe(socket).pipe(appSocket);
        const sessionId = admitted.session.session.id;
        const open = tunnels.get(sessionId) ?? new Set();
        tunnels.set(sessionId, open.add(socket));
        const close = () => {
          open.delete(socket);
          appSocket.destroy();
          socket.destroy();
        };
        socket.on("close", close).on("error", close);
        appSocket.on("close", close).on("error", close);
      });
      upstream.on("response", (answer) => {
        refuseUpgrade(answer.statusCode ?? 502, answer.statusMessage ?? "Bad Gateway");
        answer.resume();
      });
      upstream.on("error", () => refuseUpgrade(502, "Bad Gateway"));
      upstream.end();
    },

    /** A control from security for a web session of this node whose pages do not record here (those apply their own). */
    applyControl: applyToRow,

    closeAll() {
      clearInterval(sessionSweep);
      pageEvents.close();
      flushRequestLog();
      for (const sessionId of [...tunnels.keys()]) closeTunnels(sessionId);
    },
  };
}

export type AppProxy = ReturnType<typeof createAppProxy>;
