// The access rule: a user reaches a target when the target names them (username or email) or one of
// their IdP groups. Roles do not grant reach: an admin, too, must be listed.
import type { TargetRow } from "../data/targets";

type AccessSubject = { username: string; email: string | null; groups: string[] };
type AccessRule = Pick<TargetRow, "allowedUsers" | "allowedGroups">;

export function canReach(user: AccessSubject, target: AccessRule): boolean {
  const names = new Set([user.username, user.email].filter((name): name is string => Boolean(name)).map((name) => name.toLowerCase()));
  return target.allowedUsers.some((allowed) => names.has(allowed.toLowerCase())) || target.allowedGroups.some((group) => user.groups.includes(group));
}
