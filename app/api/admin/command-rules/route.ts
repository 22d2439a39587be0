import { apiRoute } from "@/lib/api/route";
import { createCommandRule, listCommandRules } from "@/lib/command-policy/rules";
import { commandRuleInputSchema } from "@/lib/protocol/command-rules";
import { runtime } from "@/lib/runtime";

export const GET = apiRoute({ role: ["admin", "security"] }, () => listCommandRules(runtime().db));

export const POST = apiRoute({ role: "admin", body: commandRuleInputSchema }, ({ actor, body }) => createCommandRule(runtime().db, actor, body));
