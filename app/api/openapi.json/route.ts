import { openApiDocument } from "@/lib/api/openapi";
import { apiRoute } from "@/lib/api/route";
import { runtime } from "@/lib/infra/runtime";

/** The API as OpenAPI 3.1, made from the operations table: open to anyone, it holds nothing secret. */
export const GET = apiRoute("GET /api/openapi.json", async () => openApiDocument(runtime().config.publicUrl.origin));
