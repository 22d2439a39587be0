import { apiRoute } from "@/lib/api/route";
import { deletePolicy, updatePolicy } from "@/lib/data/governance/policies";
import { runtime } from "@/lib/infra/runtime";

export const PATCH = apiRoute("PATCH /api/admin/policies/{id}", ({ actor, body, params }) => updatePolicy(runtime().db, actor, params.id!, body));

export const DELETE = apiRoute("DELETE /api/admin/policies/{id}", ({ actor, params }) => deletePolicy(runtime().db, actor, params.id!));
