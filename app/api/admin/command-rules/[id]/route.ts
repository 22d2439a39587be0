import { apiRoute } from "@/lib/api/route";
import { deleteCommandRule, updateCommandRule } from "@/lib/command-policy/rules";
import { commandRuleInputSchema } from "@/lib/protocol/command-rules";
import { runtime } from "@/lib/runtime";

export const PATCH = apiRoute({ role: "admin", body: commandRuleInputSchema }, ({ actor, body, params }) => updateCommandRule(runtime().db, actor, params.id!, body));

export const DELETE = apiRoute({ role: "admin" }, ({ actor, params }) => deleteCommandRule(runtime().db, actor, params.id!));
