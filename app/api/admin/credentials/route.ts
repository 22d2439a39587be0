import { apiRoute } from "@/lib/api/route";
import { createCredential, listCredentials } from "@/lib/data/credentials";
import { runtime } from "@/lib/infra/runtime";

export const GET = apiRoute("GET /api/admin/credentials", () => listCredentials(runtime().db));

export const POST = apiRoute("POST /api/admin/credentials", ({ actor, body }) => createCredential(runtime().db, runtime().vault, actor, body));
