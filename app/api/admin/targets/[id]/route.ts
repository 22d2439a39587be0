import { apiRoute } from "@/lib/api/route";
import { adminTargetView } from "@/lib/api/views";
import { runtime } from "@/lib/infra/runtime";
import { deleteTarget, updateTarget } from "@/lib/data/targets";

export const PATCH = apiRoute("PATCH /api/admin/targets/{id}", async ({ actor, body, params }) =>
  adminTargetView(await updateTarget(runtime().db, actor, params.id!, body)),
);

export const DELETE = apiRoute("DELETE /api/admin/targets/{id}", ({ actor, params }) => deleteTarget(runtime().db, actor, params.id!));
