import { revokeApiToken } from "@/lib/data/api-tokens";
import { apiRoute } from "@/lib/api/route";
import { runtime } from "@/lib/infra/runtime";

export const DELETE = apiRoute("DELETE /api/tokens/{id}", ({ user, actor, params }) => revokeApiToken(runtime().db, actor, user, params.id!));
