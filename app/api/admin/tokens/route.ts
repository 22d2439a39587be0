import { listApiTokens } from "@/lib/data/api-tokens";
import { apiRoute } from "@/lib/api/route";
import { runtime } from "@/lib/infra/runtime";

export const GET = apiRoute("GET /api/admin/tokens", () => listApiTokens(runtime().db));
