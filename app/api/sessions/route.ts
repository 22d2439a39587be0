import { apiRoute, fieldErrors } from "@/lib/api/route";
import { hasRole } from "@/lib/auth/current-user";
import { ApiError } from "@/lib/errors";
import { sessionFilterSchema } from "@/lib/protocol/sessions";
import { runtime } from "@/lib/runtime";
import { listSessions } from "@/lib/sessions";

/** Everyone sees their own sessions; reviewers, security and admins see everyone's. */
export const GET = apiRoute({ role: "user" }, async ({ user, request }) => {
  const filter = sessionFilterSchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!filter.success) throw new ApiError(400, "Some filters need attention", fieldErrors(filter.error));
  const seesEveryone = hasRole(user, ["reviewer", "security", "admin"]);
  return listSessions(runtime().db, filter.data, seesEveryone ? {} : { onlyUserId: user.id });
});
