// Web apps published through the gateway. Each web target is reached at its own host, `<name>.<apps domain>`
// (the gateway's own host unless APPS_DOMAIN names another), with a cookie of its own (host-only, `__Host-` on
// https, so no app can read, set or shadow another's or the gateway's). A visit starts on the app's host, which
// gives the browser a state cookie; the gateway's origin, where the user is signed in, makes the access decision
// and mints a single-use ticket bound to that state; back on the app's host the ticket is exchanged for the
// session cookie only by the browser holding the state, as OAuth binds its redirects. The cookie stands for one
// web session: ending the session (terminate, sign-out, idle) revokes it.
import { createHash, randomBytes } from "node:crypto";
import type { Config } from "../infra/config";

/** Where app hosts live: the gateway's host, or APPS_DOMAIN; app hosts use the gateway's scheme. */
type AppsConfig = Pick<Config, "publicUrl" | "appsDomain">;

/** The app host's cookies: the session's, and the state that binds a handoff to the browser that asked for it. */
export function appCookieNames(publicUrl: URL) {
  const prefix = publicUrl.protocol === "https:" ? "__Host-" : "__";
  return { session: `${prefix}gatehouse_app`, state: `${prefix}gatehouse_state` };
}
/** On an app host: where the ticket is exchanged for the cookie, and where a visit begun on the gateway starts. */
export const handoffPath = "/__gatehouse/handoff";
export const startPath = "/__gatehouse/start";

/** How the gateway keeps a browser state or an app cookie: its SHA-256, never the value. */
export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export function appOrigin({ publicUrl, appsDomain }: AppsConfig, name: string) {
  return `${publicUrl.protocol}//${name}.${appsDomain}`;
}

/** The web target a request's Host names, if it is one of the gateway's app hosts (never the gateway's own). */
export function appNameOfHost({ publicUrl, appsDomain }: AppsConfig, host: string | undefined): string | null {
  const suffix = `.${appsDomain}`.toLowerCase();
  const given = host?.toLowerCase();
  if (!given?.endsWith(suffix) || given === publicUrl.host) return null;
  const name = given.slice(0, -suffix.length);
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) ? name : null;
}

const sameOriginBase = "http://gatehouse.invalid";

/**
 * A path to return to on the same origin, re-serialized by the URL parser; anything that could leave it
 * (`//evil`, `/\evil`, `https:`, control characters, which parsers drop) becomes `/`.
 */
export function safeReturnPath(value: string | null | undefined): string {
  if (!value || !value.startsWith("/") || /[\x00-\x1f\x7f\\]/.test(value)) return "/";
  let url: URL;
  try {
    url = new URL(value, sameOriginBase);
  } catch {
    return "/";
  }
  if (url.origin !== sameOriginBase) return "/";
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path.startsWith("//") ? "/" : path;
}

/** A fresh state for the app host's state cookie, and what the gateway is told of it (its hash). */
export function newBrowserState() {
  const state = randomBytes(32).toString("base64url");
  return { state, stateHash: sha256(state) };
}

export const browserStateHashPattern = /^[0-9a-f]{64}$/;

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
