import { apiRoute } from "@/lib/api/route";
import { userView } from "@/lib/api/views";
import { runtime } from "@/lib/infra/runtime";
import { updateUser } from "@/lib/data/users";

export const PATCH = apiRoute("PATCH /api/admin/users/{id}", async ({ actor, body, params }) =>
  userView(await updateUser(runtime().db, actor, params.id!, body)),
);
