// The Auth.js session cookie, read outside Next.js by the WebSocket gate.
import { decode } from "next-auth/jwt";

/** Browsers accept a `__Secure-` cookie only over https, so the name follows PUBLIC_URL's scheme. */
export function sessionCookieName(publicUrl: URL): string {
  return `${publicUrl.protocol === "https:" ? "__Secure-" : ""}authjs.session-token`;
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
