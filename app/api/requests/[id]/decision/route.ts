import { apiRoute } from "@/lib/api/route";
import { decideAccessRequest } from "@/lib/data/governance/requests";
import { runtime } from "@/lib/infra/runtime";

/** Approvers are named by policies, not by a role: who may decide is checked per request. */
export const POST = apiRoute("POST /api/requests/{id}/decision", ({ user, actor, body, params }) => decideAccessRequest(runtime().db, actor, user, params.id!, body));
