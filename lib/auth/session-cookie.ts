// The Auth.js session cookie, read the same way by pages, API routes and the WebSocket gate.
import { decode } from "next-auth/jwt";
import { singleCookie } from "../infra/http/cookies";

/**
 * On https the cookie is `__Host-`: host-only, Secure and for the whole path, so no other host of the site (an
 * app host among them) can set or shadow it. Browsers accept the prefix only over https.
 */
export function sessionCookieName(publicUrl: URL): string {
  return `${publicUrl.protocol === "https:" ? "__Host-" : ""}authjs.session-token`;
}

/**
 * The account id in the request's session cookie if it is valid and unexpired, or null. A header with the cookie
 * twice (one planted by another host of the site) names nobody.
 */
export async function accountIdFromCookies(cookieHeader: string | undefined, publicUrl: URL, secret: string): Promise<string | null> {
  const cookieName = sessionCookieName(publicUrl);
  const cookie = singleCookie(cookieHeader, cookieName);
  if (!cookie) return null;
  try {
    const token = await decode({ token: cookie, secret, salt: cookieName });
    return typeof token?.uid === "string" ? token.uid : null;
  } catch {
    return null;
  }
}
