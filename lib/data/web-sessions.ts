// Web sessions' rows: the visit opened after the access decision, the single-use handoff that gives the app host
// its cookie (kept as a hash), and the session's end, extension and node (lib/domain/web-app-hosts.ts has the
// hosts, cookies and handoff paths).
import { randomBytes } from "node:crypto";
import { and, eq, ne, sql, type SQL } from "drizzle-orm";
import { audit, systemActor, type Actor } from "./audit";
import type { Database } from "./client";
import { accessRequests, sessions, targets, users } from "./schema";
import type { EndReason } from "../protocol/session-socket";
import type { Runtime } from "../infra/runtime";
import { assignAuditors } from "./governance/audits";
import type { AccessDecision } from "../domain/governance/decide";
import { extendRequestWindow } from "./governance/requests";
import { openSessionRow, sessionDeadline } from "./sessions";
import type { TargetRow } from "./targets";
import { mintConnectTicket, redeemConnectTicket } from "./tickets";
import { appOrigin, handoffPath, safeReturnPath, sha256 } from "../domain/web-app-hosts";

/**
 * After the access decision on the gateway's origin: a web session, and the URL that hands it to the app's host,
 * redeemable only by the browser whose state cookie hashes to `stateHash`.
 */
export async function startWebSession(
  { db, config }: Runtime,
  userId: string,
  actor: Actor,
  target: TargetRow,
  access: Extract<AccessDecision, { allowed: true }>,
  returnPath: string,
  stateHash: string,
) {
  const deadline = sessionDeadline(Date.now(), target.sessionTtlSeconds, access.endsAt);
  const session = await openSessionRow(db, {
    userId,
    targetId: target.id,
    targetName: target.name,
    protocol: "web",
    node: config.nodeName,
    status: "active",
    expiresAt: deadline === null ? null : new Date(deadline),
    requestId: access.requestId,
    clientAddress: actor.sourceIp,
  });
  await assignAuditors(db, session.id, target);
  await audit(db, actor, { action: "session.start", objectType: "session", objectId: session.id, details: { target: target.name, protocol: "web", requestId: access.requestId ?? undefined } });
  const { ticket } = await mintConnectTicket(db, { userId, targetId: target.id, purpose: "app", sessionId: session.id, browserBinding: stateHash }, config.connectTicketTtlSeconds);
  const handoff = new URL(handoffPath, appOrigin(config, target.name));
  handoff.search = new URLSearchParams({ ticket, return: safeReturnPath(returnPath) }).toString();
  return { sessionId: session.id, handoffUrl: handoff.href };
}

/**
 * On the app's host: the ticket becomes the session's cookie value, once, for the browser that holds the state
 * the ticket was minted for. Null when the ticket is not good here; another browser's attempt does not spend it.
 */
export async function redeemAppHandoff(db: Database, ticket: string, targetId: string, state: string | null): Promise<{ token: string; sessionId: string } | null> {
  if (state === null) return null;
  const redeemed = await redeemConnectTicket(db, ticket, sha256(state));
  if (!redeemed.ok || redeemed.binding.purpose !== "app" || redeemed.binding.targetId !== targetId || !redeemed.binding.sessionId) return null;
  const token = randomBytes(32).toString("base64url");
  const [bound] = await db
    .update(sessions)
    .set({ appTokenHash: sha256(token) })
    .where(and(eq(sessions.id, redeemed.binding.sessionId), ne(sessions.status, "ended")))
    .returning({ id: sessions.id });
  return bound ? { token, sessionId: bound.id } : null;
}

export type WebSessionRow = NonNullable<Awaited<ReturnType<typeof findWebSession>>>;

/** The session an app cookie stands for, with its target, whatever its state (an ended one says why). */
export async function findWebSession(db: Database, token: string) {
  const [row] = await db
    .select({ session: sessions, target: targets, username: users.username, email: users.email, groups: users.groups })
    .from(sessions)
    .innerJoin(targets, eq(targets.id, sessions.targetId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.appTokenHash, sha256(token)));
  return row;
}

/**
 * Ends the web sessions `which` selects, each once whichever node gets there first (terminate, sign-out, the
 * idle sweep): their cookies stop working at the next request. Returns the sessions this call ended.
 */
async function endWebSessionRows(db: Database, which: SQL | undefined, reason: EndReason, message: string) {
  const ended = await db
    .update(sessions)
    .set({ status: "ended", endedAt: new Date(), endReason: reason, endMessage: message })
    .where(and(eq(sessions.protocol, "web"), ne(sessions.status, "ended"), which))
    .returning({ id: sessions.id, targetName: sessions.targetName });
  for (const session of ended) {
    await audit(db, systemActor, { action: "session.end", objectType: "session", objectId: session.id, details: { reason, message, target: session.targetName } });
  }
  return ended;
}

export function endWebSession(db: Database, sessionId: string, reason: EndReason, message: string) {
  return endWebSessionRows(db, eq(sessions.id, sessionId), reason, message);
}

/** Signing out of the gateway ends every visit to an app that the sign-in opened. */
export function endWebSessionsOfUser(db: Database, userId: string) {
  return endWebSessionRows(db, eq(sessions.userId, userId), "user_closed", "you signed out of Gatehouse");
}

/**
 * Visits past their end: idle for their target's idle timeout (0: none), past their time limit (not extended in
 * time), or older than the longest any visit may last.
 */
export async function endLapsedWebSessions(db: Database, longestMs: number) {
  await endWebSessionRows(
    db,
    sql`exists (select 1 from ${targets} where ${targets.id} = ${sessions.targetId} and ${targets.idleTimeoutSeconds} > 0
      and coalesce(${sessions.lastActiveAt}, ${sessions.startedAt}) < now() - ${targets.idleTimeoutSeconds} * interval '1 second')`,
    "expired",
    "it was idle for too long",
  );
  await endWebSessionRows(db, sql`${sessions.expiresAt} <= now()`, "expired", "it reached its time limit");
  await endWebSessionRows(db, sql`${sessions.startedAt} <= now() - ${longestMs} * interval '1 millisecond'`, "expired", "it reached the longest a web session may last");
}

/**
 * Extends a time-limited visit by its target's extension, within its longest duration; the new end, or null
 * when it cannot be extended (no time limit, no extension, or past the longest duration).
 */
export async function extendWebSession(db: Database, actor: Actor, sessionId: string, target: Pick<TargetRow, "extensionSeconds" | "maxSessionSeconds">): Promise<Date | null> {
  if (target.extensionSeconds <= 0) return null;
  const extended = sql`${sessions.expiresAt} + ${target.extensionSeconds} * interval '1 second'`;
  const [row] = await db
    .update(sessions)
    .set({ expiresAt: extended })
    .where(
      and(
        eq(sessions.id, sessionId),
        ne(sessions.status, "ended"),
        sql`${sessions.expiresAt} is not null`,
        target.maxSessionSeconds > 0 ? sql`${extended} <= ${sessions.startedAt} + ${target.maxSessionSeconds} * interval '1 second'` : undefined,
        // Under a request, no further than its policies let the request go.
        sql`not exists (select 1 from ${accessRequests} where ${accessRequests.id} = ${sessions.requestId} and ${accessRequests.extendableUntil} < ${extended})`,
      ),
    )
    .returning({ expiresAt: sessions.expiresAt, requestId: sessions.requestId });
  if (row?.requestId && row.expiresAt) await extendRequestWindow(db, actor, row.requestId, row.expiresAt);
  return row?.expiresAt ?? null;
}

/** A web session that this node carries and that has not ended. */
export async function liveWebSessionOnNode(db: Database, sessionId: string, node: string) {
  const [visit] = await db
    .select({ session: sessions, username: users.username, recorded: sql<boolean>`coalesce(${targets.recordSessions}, false)` })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    // A visit whose target was deleted meanwhile is still controlled (and ended) like any other.
    .leftJoin(targets, eq(targets.id, sessions.targetId))
    .where(and(eq(sessions.id, sessionId), eq(sessions.protocol, "web"), eq(sessions.node, node), ne(sessions.status, "ended")));
  return visit;
}

/** The user did something in the app (clicked, typed, loaded a page). */
export async function markWebSessionActive(db: Database, sessionId: string) {
  await db.update(sessions).set({ lastActiveAt: new Date() }).where(eq(sessions.id, sessionId));
}

/** A page's recorder has reached this node: watchers and controls now find the session here. */
export async function takeOverWebSession(db: Database, sessionId: string, node: string) {
  await db.update(sessions).set({ node }).where(and(eq(sessions.id, sessionId), ne(sessions.status, "ended")));
}
