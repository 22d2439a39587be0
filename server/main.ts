// The gateway process: one HTTP server. Requests to an app host (`<name>.<gateway host>`) go to the web app
// proxy; pages and API routes go to Next.js; WebSocket upgrades under /ws/ go through our gate to the protocol
// routes; in development Next's own upgrades (hot reload) reach Next.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { ConfigError, internalUrlOf, loadConfig } from "../lib/infra/config";
import { databaseAnswers } from "../lib/data/client";
import { clientAddressOf } from "../lib/infra/http/client-address";
import { gatewayHeaders, newScriptNonce } from "../lib/infra/http/security-headers";
import { clientAddressHeader } from "../lib/infra/request-context";
import { securityWarnings } from "../lib/infra/security-posture";
import { purgeExpiredRecordings } from "../lib/data/retention";
import { deleteStaleConnectTickets } from "../lib/data/tickets";
import { deleteStaleLoginCounts } from "../lib/data/login-throttle";
import { deleteOldReadMarks } from "../lib/data/read-audit";
import { metrics } from "../lib/infra/metrics";
import { heartbeatEveryMs } from "../lib/data/nodes";
import { createNodeLink, nodeLinkPath } from "./cluster/node-link";
import { startNodeHeartbeat } from "./cluster/node-heartbeat";
import { installCrashPolicy } from "./crash-policy";
import { startAccessSweep } from "./access-sweep";
import { startNotificationSender } from "./notification-sender";
import { startEventStream } from "./event-stream/sender";
import { startVideoExportWorker } from "./exports/video-export-worker";
import { startAuditAnchoring } from "../lib/data/audit-anchors";
import { createDesktopRoute, engineLocation } from "./desktop-route";
import { createGate } from "./gate";
import { probeRoute } from "./probe";
import { engineAvailable, engineMissingMessage } from "./protocols/guac/engine-link";
import { createNodeMetrics } from "./node-metrics";
import { Keyframer } from "./recorder/keyframer";
import { sessionRegistry } from "./live/session-registry";
import { guardSocket } from "./socket-guard";
import { startRuntime } from "./start-runtime";
import { createTerminalRoute } from "./terminal-route";
import { createAppProxy } from "./web/app-proxy";
import { createWatchRoute } from "./watch-route";
import { configureLog, log } from "../lib/infra/log";
import { startReturningFreeMemory } from "./free-memory";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function loadConfigOrExit() {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Before there is a configured logger, and for a person reading it: one plain line per problem.
    for (const problem of error.problems) process.stderr.write(`gatehouse: configuration error: ${problem}\n`);
    process.exit(2);
  }
}

const config = loadConfigOrExit();
configureLog(config.log.format, config.log.level, config.nodeName);
installCrashPolicy((message) => sessionRegistry.endAll(message));
for (const warning of securityWarnings(config)) log.warn(`gatehouse: security warning: ${warning}`);
if (!engineAvailable(engineLocation(config))) log.warn(`gatehouse: ${engineMissingMessage}`);
const { runtime, database, setupUrl } = await startRuntime(config);

const nextApp = next({ dev: config.mode === "development", dir: projectRoot, hostname: config.host, port: config.port });
await nextApp.prepare();
const handleRequest = nextApp.getRequestHandler();
const handleNextUpgrade = nextApp.getUpgradeHandler();
const keyframer = new Keyframer(runtime.db, runtime.blobStore);
keyframer.start();
keyframer.catchUp(config.nodeName).then(
  (count) => count > 0 && log.info(`keyframes: completed ${count} recording(s) left unfinished`),
  (error) => log.error({ err: error }, "keyframe catch-up failed"),
);
const { version } = JSON.parse(readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { version: string };
const nodeLink = createNodeLink(runtime);
const gate = createGate(runtime, {
  probe: probeRoute,
  terminal: createTerminalRoute(runtime, keyframer),
  desktop: createDesktopRoute(runtime),
  watch: createWatchRoute(runtime, nodeLink),
});
const appProxy = createAppProxy(runtime, database);
runtime.controlBus.serve(async ({ holdId, action, ...command }) => {
  if (action === "approve_hold" || action === "deny_hold") return runtime.holds.decide(holdId ?? "", action === "approve_hold" ? "approved" : "denied", command.actorName);
  const session = sessionRegistry.find(command.sessionId) ?? (await appProxy.pagelessVisit(command.sessionId));
  return session ? session.applyControl({ ...command, action }) : { ok: false, message: `the session is not running on ${config.nodeName} any more` };
});
const accessSweep = startAccessSweep(runtime, (sessionId, message) => appProxy.endVisit(sessionId, message));
const notificationSender = startNotificationSender(runtime);
const eventStream = await startEventStream(runtime, database, version);
await startVideoExportWorker(runtime);
const anchoring = startAuditAnchoring(runtime.db, { blobStore: runtime.blobStore, file: config.evidence.anchorFile }, config.nodeName, config.evidence.anchorEveryMs);
const freeMemory = startReturningFreeMemory(config.returnFreeMemoryEveryMs);
const nodeMetrics = createNodeMetrics({ nodeName: config.nodeName, version, keyframer, engine: engineLocation(config), blobStore: runtime.blobStore });
// The node-to-node listener: relayed live views arrive here, never on the public port; and Prometheus scrapes
// this node's figures here.
const internalServer = createServer((request, response) => {
  if (request.method !== "GET" || request.url !== "/metrics") return void response.writeHead(404).end();
  response.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" });
  response.end(nodeMetrics.render());
});
internalServer.on("upgrade", (request, socket, head) => {
  guardSocket(socket, "internal upgrade");
  if (request.url?.startsWith(`${nodeLinkPath}?`)) nodeLink.handleUpgrade(request, socket, head);
  else socket.destroy();
});
await new Promise<void>((resolve, reject) => internalServer.once("error", reject).listen(config.internal.port, config.internal.host, () => resolve()));
const internalUrl = internalUrlOf(config, (internalServer.address() as import("node:net").AddressInfo).port);
const heartbeat = startNodeHeartbeat(runtime, database.connectionName, version, internalUrl, () => nodeMetrics.heartbeatStats());
await heartbeat.started;

/** The only source of a request's client address for app code; whatever a client sent in that header is replaced. */
function stampClientAddress(request: import("node:http").IncomingMessage) {
  request.headers[clientAddressHeader] = clientAddressOf(request.socket.remoteAddress, request.headers["x-forwarded-for"], config.trustProxy);
}

/** A request whose handler failed: logged, and answered 500 unless an answer had begun. */
function answerFailure(response: import("node:http").ServerResponse, what: string) {
  return (error: unknown) => {
    log.error({ err: error }, `${what} failed`);
    if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" });
    response.end("Gatehouse could not serve this request.");
  };
}

/**
 * The gateway's own pages and API, under its security headers; the nonce in the request's copy of the policy is
 * the one Next.js puts on the scripts it renders.
 */
function serveGateway(request: import("node:http").IncomingMessage, response: import("node:http").ServerResponse) {
  // Auth.js and Next build absolute URLs from these: the gateway's address is its configuration, never a client's word.
  request.headers["x-forwarded-host"] = config.publicUrl.host;
  request.headers["x-forwarded-proto"] = config.publicUrl.protocol.slice(0, -1);
  const headers = gatewayHeaders(config, newScriptNonce());
  request.headers["content-security-policy"] = headers["content-security-policy"];
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  handleRequest(request, response).catch(answerFailure(response, `${request.method} ${request.url?.slice(0, 200)}`));
}

/**
 * For load balancers and orchestrators, on the gateway's own host: `/healthz` answers while the process serves;
 * `/readyz` only while the node can do its work (its database answers, its heartbeat is recent, it is not
 * stopping), else 503 with the reason.
 */
async function serveHealth(request: import("node:http").IncomingMessage, response: import("node:http").ServerResponse) {
  const answer = (status: number, body: Record<string, unknown>) => {
    response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    response.end(JSON.stringify(body));
  };
  if (request.url === "/healthz") return answer(200, { status: "alive", node: config.nodeName });
  // Anyone can ask, as often as they like: the database is asked at most once a second, whatever the rate.
  if (Date.now() - readiness.at >= 1_000) readiness = { at: Date.now(), problems: readinessProblems() };
  const problems = [...(stopping ? ["the node is stopping"] : []), ...(await readiness.problems)];
  answer(problems.length === 0 ? 200 : 503, problems.length === 0 ? { status: "ready", node: config.nodeName } : { status: "not ready", node: config.nodeName, problems });
}

let readiness: { at: number; problems: Promise<string[]> } = { at: 0, problems: Promise.resolve([]) };
async function readinessProblems(): Promise<string[]> {
  const problems: string[] = [];
  if (Date.now() - heartbeat.lastBeatAt > 3 * heartbeatEveryMs) problems.push("its heartbeat is late: the database may be unreachable");
  const databaseAnswered = await Promise.race([
    databaseAnswers(runtime.db),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
  ]);
  if (!databaseAnswered) problems.push("the database did not answer within 2 s");
  return problems;
}

const server = createServer((request, response) => {
  stampClientAddress(request);
  const app = appProxy.appNameOf(request);
  const startedAt = performance.now();
  response.once("finish", () => metrics.requestSeconds.observe({ kind: app ? "app" : "gateway" }, (performance.now() - startedAt) / 1000));
  if (!app && request.method === "GET" && (request.url === "/healthz" || request.url === "/readyz")) return void serveHealth(request, response).catch(answerFailure(response, "health check"));
  if (!app) return serveGateway(request, response);
  appProxy.handleRequest(request, response, app).catch(answerFailure(response, `web app ${app}: ${request.method}`));
});

// An idle kept-alive connection is kept longer than a proxy in front keeps its own (nginx and most load balancers:
// 60 s). Kept shorter (Node's 5 s), a client or proxy can send its next request on a connection the gateway is closing
// at that very moment, and that request is reset. The headers' deadline must outlast it.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

// CONNECT would make the gateway a tunnel to wherever a client names: never.
server.on("connect", (request, socket) => {
  guardSocket(socket, "CONNECT");
  socket.end("HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
});

server.on("upgrade", (request, socket, head) => {
  guardSocket(socket, `upgrade ${request.url?.slice(0, 100)}`);
  stampClientAddress(request);
  const app = appProxy.appNameOf(request);
  if (app) {
    appProxy.handleUpgrade(request, socket, head, app).catch((error) => {
      log.error({ err: error }, `web app ${app}: WebSocket failed`);
      socket.destroy();
    });
  } else if (request.url?.startsWith("/ws/")) gate.handleUpgrade(request, socket, head);
  else if (config.mode === "development") handleNextUpgrade(request, socket, head);
  else socket.destroy();
});

const ticketSweep = setInterval(() => {
  deleteStaleConnectTickets(runtime.db, new Date(Date.now() - 60_000)).catch((error) => log.error({ err: error }, "ticket sweep failed"));
  deleteStaleLoginCounts(runtime.db).catch((error) => log.error({ err: error }, "login counter sweep failed"));
  deleteOldReadMarks(runtime.db).catch((error) => log.error({ err: error }, "read mark sweep failed"));
}, 60_000).unref();

function purgeRecordings() {
  purgeExpiredRecordings(runtime.db, runtime.blobStore).then(
    (purged) => purged.length > 0 && log.info(`retention: purged the recordings of ${purged.length} session(s)`),
    (error) => log.error({ err: error }, "retention purge failed"),
  );
}
purgeRecordings();
const retentionSweep = setInterval(purgeRecordings, 60 * 60_000).unref();

server.listen(config.port, config.host, () => {
  if (setupUrl) {
    log.info(`First start: set the admin password within 24 hours at ${setupUrl.href} (the link works once; a restart before then prints a new one)`);
  }
  log.info(`Gatehouse ${config.nodeName} listening on http://${config.host}:${config.port} — public URL ${config.publicUrl.origin}, nodes link at ${internalUrl.origin} (database: ${database.kind})`);
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info(`${signal}: ending ${sessionRegistry.size} session(s) and closing connections`);
  clearInterval(ticketSweep);
  clearInterval(retentionSweep);
  accessSweep.stop();
  notificationSender.stop();
  anchoring.stop();
  nodeMetrics.stop();
  freeMemory.stop();
  // Whatever still hangs after this long must not keep a stopping node alive.
  setTimeout(() => {
    log.error("shutdown took longer than 15 s; exiting anyway");
    process.exit(1);
  }, 15_000).unref();
  await sessionRegistry.endAll("the gateway is shutting down; reconnect in a moment");
  gate.closeAll();
  nodeLink.closeAll();
  internalServer.close();
  await appProxy.closeAll();
  await heartbeat.stop().catch((error) => log.error({ err: error }, "leaving the node registry failed"));
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Requests still in flight get a moment to finish, then their connections are cut.
  setTimeout(() => server.closeAllConnections(), 5_000).unref();
  await closed;
  await nextApp.close();
  keyframer.stop();
  await eventStream.stop();
  // A render under way is left to the queue: its job is retried on a node that takes it.
  await runtime.jobs.stop({ graceful: false, wait: true, timeout: 3000 }).catch((error) => log.error({ err: error }, "stopping the job queue failed"));
  await database.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
