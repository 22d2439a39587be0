import { apiRoute } from "@/lib/api/route";
import { restoreAccess } from "@/lib/data/revocations";
import { runtime } from "@/lib/infra/runtime";

/** An admin restores a user's access to a target that security cancelled. */
export const DELETE = apiRoute("DELETE /api/admin/targets/{id}/revocations/{userId}", ({ actor, params }) => restoreAccess(runtime().db, actor, params.id!, params.userId!));
