import { apiRoute } from "@/lib/api/route";
import { adminTargetView } from "@/lib/api/views";
import { targetInputSchema } from "@/lib/protocol/admin";
import { runtime } from "@/lib/runtime";
import { deleteTarget, updateTarget } from "@/lib/targets";

export const PATCH = apiRoute({ role: "admin", body: targetInputSchema }, async ({ actor, body, params }) =>
  adminTargetView(await updateTarget(runtime().db, actor, params.id!, body)),
);

export const DELETE = apiRoute({ role: "admin" }, ({ actor, params }) => deleteTarget(runtime().db, actor, params.id!));
