import { apiRoute } from "@/lib/api/route";
import { sessionUpdateSchema } from "@/lib/protocol/admin";
import { setPreventPurge } from "@/lib/retention";
import { runtime } from "@/lib/runtime";

/** A reviewer or admin puts a recording on hold (or releases it): the retention purge then leaves it alone. */
export const PATCH = apiRoute("PATCH /api/sessions/{id}", ({ actor, body, params }) =>
  setPreventPurge(runtime().db, actor, params.id!, body.preventPurge),
);
