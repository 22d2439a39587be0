import { apiRoute, fieldErrors } from "@/lib/api/route";
import { hasRole } from "@/lib/auth/current-user";
import { ApiError } from "@/lib/errors";
import { sessionFilterSchema } from "@/lib/protocol/sessions";
import { runtime } from "@/lib/runtime";
import { listSessions } from "@/lib/sessions";

/**
 * A page of sessions: everyone sees their own; reviewers, security and admins see everyone's. The next page, if
 * there is one, is in the `Link` header (`rel="next"`), the same filters with `after=<cursor>`.
 */
export const GET = apiRoute({ role: "user" }, async ({ user, request }) => {
  const url = new URL(request.url);
  const filter = sessionFilterSchema.safeParse(Object.fromEntries(url.searchParams));
  if (!filter.success) throw new ApiError(400, "Some filters need attention", fieldErrors(filter.error));
  const seesEveryone = hasRole(user, ["reviewer", "security", "admin"]);
  const { rows, next } = await listSessions(runtime().db, filter.data, seesEveryone ? {} : { onlyUserId: user.id });
  if (!next) return Response.json(rows);
  const nextPage = new URLSearchParams(url.searchParams);
  nextPage.set("after", next);
  return Response.json(rows, { headers: { link: `<${url.pathname}?${nextPage}>; rel="next"` } });
});
