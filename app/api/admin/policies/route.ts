import { apiRoute } from "@/lib/api/route";
import { createPolicy, listPolicies } from "@/lib/data/governance/policies";
import { runtime } from "@/lib/infra/runtime";

export const GET = apiRoute("GET /api/admin/policies", () => listPolicies(runtime().db));

export const POST = apiRoute("POST /api/admin/policies", ({ actor, body }) => createPolicy(runtime().db, actor, body));
