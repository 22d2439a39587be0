import { apiRoute } from "@/lib/api/route";
import { deleteActivity, updateActivity } from "@/lib/data/governance/policies";
import { runtime } from "@/lib/infra/runtime";

export const PATCH = apiRoute("PATCH /api/admin/activities/{id}", ({ actor, body, params }) => updateActivity(runtime().db, actor, params.id!, body));

export const DELETE = apiRoute("DELETE /api/admin/activities/{id}", ({ actor, params }) => deleteActivity(runtime().db, actor, params.id!));
