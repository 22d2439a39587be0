import { apiRoute } from "@/lib/api/route";
import { deleteCommandRule, updateCommandRule } from "@/lib/data/command-policy/rules";
import { runtime } from "@/lib/infra/runtime";

export const PATCH = apiRoute("PATCH /api/admin/command-rules/{id}", ({ actor, body, params }) => updateCommandRule(runtime().db, actor, params.id!, body));

export const DELETE = apiRoute("DELETE /api/admin/command-rules/{id}", ({ actor, params }) => deleteCommandRule(runtime().db, actor, params.id!));
