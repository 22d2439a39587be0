import { apiRoute } from "@/lib/api/route";
import { updateAudit } from "@/lib/data/governance/audits";
import { runtime } from "@/lib/infra/runtime";

export const PATCH = apiRoute("PATCH /api/audits/{sessionId}/{policyId}", ({ user, actor, params, body }) => updateAudit(runtime().db, actor, user, params.sessionId!, params.policyId!, body));
