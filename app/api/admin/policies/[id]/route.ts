import { apiRoute } from "@/lib/api/route";
import { deletePolicy, updatePolicy } from "@/lib/governance/policies";
import { policyInputSchema } from "@/lib/protocol/governance";
import { runtime } from "@/lib/runtime";

export const PATCH = apiRoute({ role: "admin", body: policyInputSchema }, ({ actor, body, params }) => updatePolicy(runtime().db, actor, params.id!, body));

export const DELETE = apiRoute({ role: "admin" }, ({ actor, params }) => deletePolicy(runtime().db, actor, params.id!));
