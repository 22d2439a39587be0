// Who is asking, for pages and API routes: the session cookie names the account; the database says whether
// it is still enabled and which roles it holds now.
import { headers } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import type { Actor } from "../data/audit";
import type { Role } from "../protocol/domain";
import { runtime } from "../infra/runtime";
import { effectiveRoles, findUserById, type UserRow } from "../data/users";
import { accountIdFromCookies } from "./session-cookie";

export interface SignedInUser {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  groups: string[];
  roles: Role[];
}

export async function currentUser(): Promise<SignedInUser | null> {
  // Headers first: reading them is what makes a page rendered per request rather than at build time.
  const cookies = (await headers()).get("cookie") ?? undefined;
  const { config, db } = runtime();
  // The cookie read directly: Auth.js's auth() runs its whole session endpoint for the same answer (and issues a
  // renewed cookie that a page or route handler throws away), milliseconds of every request.
  const id = await accountIdFromCookies(cookies, config.publicUrl, config.authSecret);
  if (!id) return null;
  const user = await findUserById(db, id);
  if (!user || user.disabled) return null;
  return signedInUser(user);
}

export function signedInUser(user: UserRow): SignedInUser {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName ?? user.username,
    email: user.email,
    groups: user.groups,
    roles: effectiveRoles(user),
  };
}

/** True when the user holds the role, or any of the roles when given several. */
export const hasRole = (user: SignedInUser, role: Role | readonly Role[]) => (typeof role === "string" ? [role] : role).some((held) => user.roles.includes(held));

/** For pages: anonymous visitors go to sign-in; signed-in users without the role get a 403 page. */
export async function requirePageUser(role: Role | readonly Role[] = "user"): Promise<SignedInUser> {
  const user = await currentUser();
  if (!user) redirect("/signin");
  if (!hasRole(user, role)) forbidden();
  return user;
}

export function actorOf(user: SignedInUser, sourceIp: string | null): Actor {
  return { id: user.id, name: user.username, sourceIp };
}
