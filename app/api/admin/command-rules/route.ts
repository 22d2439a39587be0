import { apiRoute } from "@/lib/api/route";
import { createCommandRule, listCommandRules } from "@/lib/data/command-policy/rules";
import { runtime } from "@/lib/infra/runtime";

export const GET = apiRoute("GET /api/admin/command-rules", () => listCommandRules(runtime().db));

export const POST = apiRoute("POST /api/admin/command-rules", ({ actor, body }) => createCommandRule(runtime().db, actor, body));
