import { apiRoute } from "@/lib/api/route";
import { hasRole } from "@/lib/auth/current-user";
import { runtime } from "@/lib/infra/runtime";
import { listSessions } from "@/lib/data/sessions";

/**
 * A page of sessions: everyone sees their own; reviewers, security and admins see everyone's. The next page, if
 * there is one, is in the `Link` header (`rel="next"`), the same filters with `after=<cursor>`.
 */
export const GET = apiRoute("GET /api/sessions", async ({ user, query, request }) => {
  const url = new URL(request.url);
  const seesEveryone = hasRole(user, ["reviewer", "security", "admin"]);
  const { rows, next } = await listSessions(runtime().db, query, seesEveryone ? {} : { onlyUserId: user.id });
  if (!next) return Response.json(rows);
  const nextPage = new URLSearchParams(url.searchParams);
  nextPage.set("after", next);
  return Response.json(rows, { headers: { link: `<${url.pathname}?${nextPage}>; rel="next"` } });
});
