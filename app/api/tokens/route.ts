import { createApiToken, listApiTokens } from "@/lib/data/api-tokens";
import { apiRoute } from "@/lib/api/route";
import { runtime } from "@/lib/infra/runtime";

export const GET = apiRoute("GET /api/tokens", ({ user }) => listApiTokens(runtime().db, user.id));

export const POST = apiRoute("POST /api/tokens", ({ user, actor, body }) => createApiToken(runtime().db, actor, user, body));
