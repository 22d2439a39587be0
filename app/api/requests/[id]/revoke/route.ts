import { apiRoute } from "@/lib/api/route";
import { revokeAccessRequest } from "@/lib/data/governance/requests";
import { runtime } from "@/lib/infra/runtime";

export const POST = apiRoute("POST /api/requests/{id}/revoke", ({ user, actor, body, params }) => revokeAccessRequest(runtime().db, actor, user, params.id!, body.reason));
