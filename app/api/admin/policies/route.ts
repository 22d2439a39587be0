import { apiRoute } from "@/lib/api/route";
import { createPolicy, listPolicies } from "@/lib/governance/policies";
import { policyInputSchema } from "@/lib/protocol/governance";
import { runtime } from "@/lib/runtime";

export const GET = apiRoute({ role: "admin" }, () => listPolicies(runtime().db));

export const POST = apiRoute({ role: "admin", body: policyInputSchema }, ({ actor, body }) => createPolicy(runtime().db, actor, body));
