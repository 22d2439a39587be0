// The app hosts: a request to `<name>.<apps domain>` belongs to that web target. Admission (./admission.ts)
// decides whether it may reach the app; then it is forwarded to the app's internal origin and nowhere else
// (./upstream.ts) with the target's credential (./proxy-headers.ts), goes on the session's timeline, and an HTML
// page comes back with the recorder in it (./page-recording.ts), whose events return over a WebSocket on the
// same host (./web-session.ts). The app's own WebSockets are tunnelled (./tunnels.ts).
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import { finished } from "node:stream";
import { gzipSync } from "node:zlib";
import { WebSocketServer } from "ws";
import type { DatabaseHandle } from "../../lib/data/client";
import { metrics } from "../../lib/infra/metrics";
import { pageEventsPath, recorderScriptPath } from "../../lib/protocol/page-recorder";
import type { Runtime } from "../../lib/infra/runtime";
import { SessionEventBatcher } from "../../lib/data/session-events";
import { appNameOfHost, appOrigin, handoffPath, safeReturnPath, startPath } from "../../lib/domain/web-app-hosts";
import { endWebSession, liveWebSessionOnNode, markWebSessionActive, redeemAppHandoff, takeOverWebSession, type WebSessionRow } from "../../lib/data/web-sessions";
import { LiveSessionCore } from "../live/live-session-core";
import { sessionRegistry } from "../live/session-registry";
import { databaseSessionStore } from "../live/session-store";
import { createRequestPolicy } from "./request-policy";
import { createAdmission, type WebTarget } from "./admission";
import { sendRecordedPage } from "./page-recording";
import { recorderScript } from "./recorder-script/bundle";
import { isRecordablePage } from "./recorder-injection";
import { rewriteResponseHeaders, upstreamHeaders } from "./proxy-headers";
import { startWebSessionSweep } from "./session-sweep";
import { createTunnels, refuseUpgrade } from "./tunnels";
import { openUpstream } from "./upstream";
import { createVisitCache, type AppLogin } from "./visit-cache";
import { LiveWebSession } from "./web-session";
import { log } from "../../lib/infra/log";

/** The user's activity is written to the session row at most this often (and at least four times per idle timeout). */
const activityWriteMs = 30_000;
/** A page's events arrive in frames of at most this size (a full snapshot of a large page fits). */
const pageEventFrameLimit = 16 * 1024 * 1024;

export function createAppProxy(runtime: Runtime, database: DatabaseHandle) {
  const { db, config, vault } = runtime;
  const visits = createVisitCache(database, vault);
  const admission = createAdmission(runtime, visits);
  const timeline = new SessionEventBatcher(db);
  const requestPolicy = createRequestPolicy(runtime);
  const policyRefusal = (reason: string) => ({ status: 403, title: "Blocked by policy", message: `Gatehouse refused this request: ${reason}.` });
  const gatewayCookieNames = Object.values(admission.cookieNames);
  const tunnels = createTunnels(gatewayCookieNames);
  const pageEvents = new WebSocketServer({ noServer: true, maxPayload: pageEventFrameLimit });
  const activityWritten = new Map<string, number>();

  let activityPrunedAt = 0;

  /** The user did something in the app: written to the row (throttled), where the idle sweep of any node reads it. */
  function noteActivity({ session, target }: WebSessionRow) {
    const now = Date.now();
    // A mark older than the longest throttle holds nothing back: dropped, so ended visits do not pile up here.
    if (now - activityPrunedAt >= activityWriteMs) {
      activityPrunedAt = now;
      for (const [id, at] of activityWritten) if (now - at >= activityWriteMs) activityWritten.delete(id);
    }
    if (now - (activityWritten.get(session.id) ?? 0) < Math.min(activityWriteMs, (target.idleTimeoutSeconds * 1000) / 4)) return;
    activityWritten.set(session.id, now);
    markWebSessionActive(db, session.id).catch((error) => log.error({ err: error, sessionId: session.id }, `noting activity in session ${session.id} failed`));
  }

  /** A control changed the visit's row: this node's next request must not wait for the database's notice of it. */
  const controlled = (sessionId: string) => visits.forget(sessionId);
  function ended(sessionId: string) {
    tunnels.close(sessionId);
    runtime.holds.releaseSession(sessionId);
    visits.forget(sessionId);
  }
  const liveHooks = { active: noteActivity, controlled, ended, timeline };

  /**
   * A visit of this node whose pages record elsewhere, or not yet: security's controls act on its row, which
   * every node's next request reads, and on its app WebSockets here.
   */
  async function pagelessVisit(sessionId: string) {
    const visit = await liveWebSessionOnNode(db, sessionId, config.nodeName);
    if (!visit) return undefined;
    const { session, username, recorded } = visit;
    const core = new LiveSessionCore(
      { username, targetName: session.targetName, protocol: "web", node: config.nodeName, recorded },
      databaseSessionStore(db),
      {
        catchUp: async () => [],
        controlled: () => controlled(session.id),
        watchersChanged: () => {},
        stop: () => {},
        finish: async (reason, message) => {
          await endWebSession(db, session.id, reason, message);
          ended(session.id);
        },
      },
      session.status === "locked" ? { state: "locked" } : { state: "active" },
    );
    core.opened(session.id, session.startedAt.getTime());
    return core;
  }

  const sweep = startWebSessionSweep(
    db,
    config.webSessionMaxMs,
    () => [...new Set([...tunnels.sessionIds(), ...[...sessionRegistry.all()].filter((session) => session instanceof LiveWebSession).map((session) => session.sessionId)])],
    async (sessionId, reason, message) => {
      tunnels.close(sessionId);
      await sessionRegistry.find(sessionId)?.end(reason, message);
    },
  );

  /** The gateway's own robots.txt on every app host too: the app's would invite crawlers to a private app. */
  const robots = readFileSync(new URL("../../public/robots.txt", import.meta.url));
  function serveRobots(response: ServerResponse) {
    response.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "public, max-age=86400", "x-content-type-options": "nosniff" });
    response.end(robots);
  }

  let compressedScript: Buffer | null = null;
  async function serveRecorderScript(request: IncomingMessage, response: ServerResponse) {
    const script = await recorderScript();
    const gzipped = /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""));
    compressedScript ??= gzipSync(script.body);
    response.writeHead(200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=3600",
      vary: "accept-encoding",
      "x-content-type-options": "nosniff",
      ...(gzipped ? { "content-encoding": "gzip" } : {}),
    });
    response.end(gzipped ? compressedScript : script.body);
  }

  /** A visit that begins on the gateway (its Open link): this browser gets its state here, then goes to be authorized. */
  function startVisit(request: IncomingMessage, response: ServerResponse, name: string, url: URL) {
    admission.refuse(request, response, admission.toGateway(request, name, safeReturnPath(url.searchParams.get("return")), "Continue to Gatehouse to open this app."), name);
  }

  /** Back from the gateway with a ticket: this browser, holding the state the ticket was minted for, gets the cookie. */
  async function redeemHandoff(request: IncomingMessage, response: ServerResponse, name: string, url: URL) {
    const target = await admission.findWebTarget(name);
    if (!target?.internalUrl) return admission.refuse(request, response, admission.noSuchApp(name), name);
    const handed = await redeemAppHandoff(db, url.searchParams.get("ticket") ?? "", target.id, admission.browserState(request));
    if (!handed) {
      const refusal = { status: 400, title: "Link expired", message: "This sign-in link has expired, was already used or was made for another browser. Open the app again from Gatehouse.", audited: true };
      return admission.refuse(request, response, refusal, name);
    }
    response.writeHead(302, { location: safeReturnPath(url.searchParams.get("return")), "set-cookie": admission.sessionCookies(handed.token), "cache-control": "no-store" });
    response.end();
  }

  function forward(request: IncomingMessage, response: ServerResponse, name: string, { target, session, login, path }: { target: WebTarget; session: WebSessionRow; login: AppLogin; path: string }) {
    const internal = new URL(target.internalUrl);
    const origin = appOrigin(config, name);
    const startedAt = performance.now();
    const method = request.method ?? "GET";
    const upstream = openUpstream(internal, path, { method, headers: upstreamHeaders(request, config, internal, login) });
    const recordRequest = (status: number, bytes: number) => {
      metrics.relayedBytes.add({ protocol: "web", direction: "to_user" }, bytes);
      timeline.add({ sessionId: session.session.id, kind: "web.request", actorName: session.username, details: { method, path: path.slice(0, 2048), status, bytes, ms: Math.round(performance.now() - startedAt) } });
    };
    upstream.on("response", (answer) => {
      answer.on("error", (error) => log.warn(`web app ${name}: the app's answer broke off: ${error.message}`));
      const status = answer.statusCode ?? 502;
      void requestPolicy.answered(session, method, path, status);
      const headers: OutgoingHttpHeaders = rewriteResponseHeaders(answer.headers, internal, origin, gatewayCookieNames);
      if (isRecordablePage(method, request.headers, status, answer.headers)) {
        sendRecordedPage(answer, response, headers, { origin, maskAllInputs: target.maskAllInputs }).then(
          ({ bytes, unrecorded }) => {
            recordRequest(status, bytes);
            if (!unrecorded) return;
            log.warn(`web app ${name}: a page went out without the recorder (${unrecorded}): ${path.slice(0, 200)}`);
            timeline.add({ sessionId: session.session.id, kind: "web.page_unrecorded", actorName: "gatehouse", details: { path: path.slice(0, 2048), reason: unrecorded } });
          },
          (error) => {
            log.warn(`web app ${name}: sending a page failed: ${error instanceof Error ? error.message : String(error)}`);
            response.destroy();
          },
        );
        return;
      }
      response.writeHead(status, headers);
      let bytes = 0;
      answer.on("data", (chunk: Buffer) => (bytes += chunk.length));
      // pipe and finished rather than pipeline: pipeline makes an AbortController and throws an AbortError into
      // it at every end, a cost on every request; these two break off both sides the same way.
      answer.on("error", () => response.destroy());
      answer.pipe(response);
      finished(response, (error) => {
        if (error) answer.destroy();
        recordRequest(status, bytes);
      });
    });
    upstream.on("error", (error) => {
      log.warn(`web app ${name} (${internal.origin}) failed: ${error.message}`);
      if (!response.headersSent) admission.refuse(request, response, { status: 502, title: "App unreachable", message: `Gatehouse could not reach ${name}: ${error.message}` }, name);
      else response.destroy();
    });
    request.pipe(upstream);
  }

  return {
    /** The web target a request is for, when it came to an app host. */
    appNameOf(request: IncomingMessage) {
      return appNameOfHost(config, request.headers.host);
    },

    async handleRequest(request: IncomingMessage, response: ServerResponse, name: string) {
      request.on("error", () => response.destroy());
      response.on("error", () => request.destroy());
      const line = admission.requestLine(request);
      if ("refusal" in line) return admission.refuse(request, response, line.refusal, name);
      const url = new URL(line.path, appOrigin(config, name));
      if (request.method === "GET" && url.pathname === startPath) return startVisit(request, response, name, url);
      if (request.method === "GET" && url.pathname === handoffPath) return redeemHandoff(request, response, name, url);
      if (url.pathname === recorderScriptPath) return serveRecorderScript(request, response);
      if (url.pathname === "/robots.txt") return serveRobots(response);
      const admitted = await admission.admit(request, name, line.path);
      if ("refusal" in admitted) return admission.refuse(request, response, admitted.refusal, name, admitted.found);
      if (request.headers["sec-fetch-mode"] === "navigate") noteActivity(admitted.session);
      const verdict = await requestPolicy.check(admitted.session, request.method ?? "GET", admitted.path);
      if (!verdict.allowed) return admission.refuse(request, response, policyRefusal(verdict.reason), name, admitted.session);
      forward(request, response, name, admitted);
    },

    /** WebSockets to the app: the same admission, plus the app's own origin (no cross-site socket rides the cookie). */
    async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, name: string) {
      const line = admission.requestLine(request);
      if ("refusal" in line) {
        admission.audit(request, line.refusal, name);
        return refuseUpgrade(socket, line.refusal.status, line.refusal.title);
      }
      if (request.headers.origin !== appOrigin(config, name)) {
        admission.audit(request, { status: 403, title: "Forbidden", message: `a WebSocket from ${String(request.headers.origin).slice(0, 200)} may not open this app's sockets`, audited: true }, name);
        return refuseUpgrade(socket, 403, "Forbidden");
      }
      const admitted = await admission.admit(request, name, line.path);
      if ("refusal" in admitted) {
        admission.audit(request, admitted.refusal, name, admitted.found);
        return refuseUpgrade(socket, admitted.target ? 403 : 404, admitted.target ? "Forbidden" : "Not Found");
      }
      const { session, target, login, path } = admitted;
      const verdict = await requestPolicy.check(session, "GET", path);
      if (!verdict.allowed) return refuseUpgrade(socket, 403, "Forbidden");
      if (new URL(path, "http://app").pathname === pageEventsPath) {
        const live = await LiveWebSession.open(runtime, session, liveHooks);
        if (session.session.node !== config.nodeName) await takeOverWebSession(db, live.sessionId, config.nodeName);
        return pageEvents.handleUpgrade(request, socket, head, (page) => live.attachPage(page));
      }
      const internal = new URL(target.internalUrl);
      tunnels.open(request, socket, head, { internal, path, headers: upstreamHeaders(request, config, internal, login), sessionId: session.session.id, label: `web app ${name}` });
    },

    pagelessVisit,

    /** Ends a visit this node carries (its access was revoked): the row, its WebSockets, its pages and watchers. */
    async endVisit(sessionId: string, message: string) {
      await (sessionRegistry.find(sessionId) ?? (await pagelessVisit(sessionId)))?.end("terminated", message);
    },

    async closeAll() {
      sweep.stop();
      for (const client of pageEvents.clients) client.close(1001, "gateway shutting down");
      pageEvents.close();
      tunnels.closeAll();
      await timeline.flush();
    },
  };
}

export type AppProxy = ReturnType<typeof createAppProxy>;
