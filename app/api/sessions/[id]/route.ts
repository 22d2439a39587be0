import { apiRoute } from "@/lib/api/route";
import { hasRole } from "@/lib/auth/current-user";
import { notFound } from "@/lib/domain/errors";
import { isUuid } from "@/lib/domain/ids";
import { setPreventPurge } from "@/lib/data/retention";
import { runtime } from "@/lib/infra/runtime";
import { listSessions } from "@/lib/data/sessions";

/** One session; someone who may not see it learns nothing, not even that it exists. */
export const GET = apiRoute("GET /api/sessions/{id}", async ({ user, params }) => {
  if (!isUuid(params.id)) throw notFound("Session");
  const seesEveryone = hasRole(user, ["reviewer", "security", "admin"]);
  const { rows } = await listSessions(runtime().db, {}, { id: params.id, ...(seesEveryone ? {} : { onlyUserId: user.id }) });
  if (!rows[0]) throw notFound("Session");
  return rows[0];
});

/** A reviewer or admin puts a recording on hold (or releases it): the retention purge then leaves it alone. */
export const PATCH = apiRoute("PATCH /api/sessions/{id}", ({ actor, body, params }) =>
  setPreventPurge(runtime().db, actor, params.id!, body.preventPurge),
);
