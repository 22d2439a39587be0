// The Auth.js session cookie, read outside Next.js by the WebSocket gate.
import { decode } from "next-auth/jwt";

/**
 * On https the cookie is `__Host-`: host-only, Secure and for the whole path, so no other host of the site (an
 * app host among them) can set or shadow it. Browsers accept the prefix only over https.
 */
export function sessionCookieName(publicUrl: URL): string {
  return `${publicUrl.protocol === "https:" ? "__Host-" : ""}authjs.session-token`;
}

/** The account id in a valid, unexpired session cookie, or null. */
export async function accountIdFromSessionCookie(cookieValue: string, cookieName: string, secret: string): Promise<string | null> {
  try {
    const token = await decode({ token: cookieValue, secret, salt: cookieName });
    return typeof token?.uid === "string" ? token.uid : null;
  } catch {
    return null;
  }
}
