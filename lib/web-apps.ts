// Web apps published through the gateway. Each web target is reached at its own host, `<name>.<gateway host>`,
// with a cookie of its own (host-only, so no app can read another's or the gateway's). A visit starts on the
// gateway's origin, where the user is signed in and the access decision is made; a single-use ticket then hands
// it to the app's host, which exchanges it for the cookie. The cookie stands for one web session: ending the
// session (terminate, sign-out, idle) revokes it.
import { createHash, randomBytes } from "node:crypto";
import { and, eq, ne, sql, type SQL } from "drizzle-orm";
import { audit, systemActor, type Actor } from "./audit";
import type { Database } from "./db/client";
import { sessions, targets, users } from "./db/schema";
import type { EndReason } from "./protocol/terminal";
import type { Runtime } from "./runtime";
import { openSessionRow } from "./sessions";
import type { TargetRow } from "./targets";
import { mintConnectTicket, redeemConnectTicket } from "./tickets";

export const appCookieName = "__gatehouse_app";
export const handoffPath = "/__gatehouse/handoff";

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

export function appOrigin(publicUrl: URL, name: string) {
  return `${publicUrl.protocol}//${name}.${publicUrl.host}`;
}

/** The web target a request's Host names, if it is one of the gateway's app hosts. */
export function appNameOfHost(publicUrl: URL, host: string | undefined): string | null {
  const suffix = `.${publicUrl.host}`.toLowerCase();
  const given = host?.toLowerCase();
  if (!given?.endsWith(suffix)) return null;
  const name = given.slice(0, -suffix.length);
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) ? name : null;
}

/** Only a path on the app itself: never another origin (`//evil`, `http:`), so the handoff is no open redirect. */
export function safeReturnPath(value: string | null | undefined) {
  return value && value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\") ? value : "/";
}

/** After the access decision on the gateway's origin: a web session, and the URL that hands it to the app's host. */
export async function startWebSession({ db, config }: Runtime, userId: string, actor: Actor, target: TargetRow, returnPath: string) {
  const session = await openSessionRow(db, { userId, targetId: target.id, targetName: target.name, protocol: "web", node: config.nodeName, status: "active" });
  await audit(db, actor, { action: "session.start", objectType: "session", objectId: session.id, details: { target: target.name, protocol: "web" } });
  const { ticket } = await mintConnectTicket(db, { userId, targetId: target.id, purpose: "app", sessionId: session.id }, config.connectTicketTtlSeconds);
  const handoff = new URL(handoffPath, appOrigin(config.publicUrl, target.name));
  handoff.search = new URLSearchParams({ ticket, return: safeReturnPath(returnPath) }).toString();
  return { sessionId: session.id, handoffUrl: handoff.href };
}

/** On the app's host: the ticket becomes the session's cookie value, once. Null when the ticket is not good here. */
export async function redeemAppHandoff(db: Database, ticket: string, targetId: string): Promise<{ token: string; sessionId: string } | null> {
  const redeemed = await redeemConnectTicket(db, ticket);
  if (!redeemed.ok || redeemed.binding.purpose !== "app" || redeemed.binding.targetId !== targetId || !redeemed.binding.sessionId) return null;
  const token = randomBytes(32).toString("base64url");
  const [bound] = await db
    .update(sessions)
    .set({ appTokenHash: hashToken(token) })
    .where(and(eq(sessions.id, redeemed.binding.sessionId), ne(sessions.status, "ended")))
    .returning({ id: sessions.id });
  return bound ? { token, sessionId: bound.id } : null;
}

export type WebSessionRow = NonNullable<Awaited<ReturnType<typeof findWebSession>>>;

/** The session an app cookie stands for, with its target, whatever its state (an ended one says why). */
export async function findWebSession(db: Database, token: string) {
  const [row] = await db
    .select({ session: sessions, target: targets, username: users.username })
    .from(sessions)
    .innerJoin(targets, eq(targets.id, sessions.targetId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.appTokenHash, hashToken(token)));
  return row;
}

/**
 * Ends the web sessions `which` selects, each once whichever node gets there first (terminate, sign-out, the
 * idle sweep): their cookies stop working at the next request. Returns the sessions this call ended.
 */
async function endWebSessionRows(db: Database, which: SQL | undefined, reason: EndReason, message: string) {
  const ended = await db
    .update(sessions)
    .set({ status: "ended", endedAt: new Date(), endReason: reason })
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
  return endWebSessionRows(db, eq(sessions.userId, userId), "user_closed", "signed out of Gatehouse");
}

/** Visits whose user did nothing for their target's idle timeout (0: no timeout). */
export function endIdleWebSessions(db: Database) {
  return endWebSessionRows(
    db,
    sql`exists (select 1 from ${targets} where ${targets.id} = ${sessions.targetId} and ${targets.idleTimeoutSeconds} > 0
      and coalesce(${sessions.lastActiveAt}, ${sessions.startedAt}) < now() - ${targets.idleTimeoutSeconds} * interval '1 second')`,
    "expired",
    "idle for longer than the app allows",
  );
}

/** The user did something in the app (clicked, typed, loaded a page). */
export async function markWebSessionActive(db: Database, sessionId: string) {
  await db.update(sessions).set({ lastActiveAt: new Date() }).where(eq(sessions.id, sessionId));
}

/** A page's recorder has reached this node: watchers and controls now find the session here. */
export async function takeOverWebSession(db: Database, sessionId: string, node: string) {
  await db.update(sessions).set({ node }).where(and(eq(sessions.id, sessionId), ne(sessions.status, "ended")));
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/**
 * What the gateway answers itself on an app's behalf (signed out, not allowed, session ended or locked, app
 * unreachable): plain HTML with no script, so it works whatever the app's own assets and policies are.
 */
export function appPage(title: string, message: string, reopenUrl: string) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Gatehouse</title></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;color:#0f172a">
<h1 style="font-size:1.25rem">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>
<p><a href="${escapeHtml(reopenUrl)}">Open the app from Gatehouse</a></p></body></html>`;
}
