import { apiRoute } from "@/lib/api/route";
import { cancelAccessRequest } from "@/lib/data/governance/requests";
import { runtime } from "@/lib/infra/runtime";

export const POST = apiRoute("POST /api/requests/{id}/cancel", ({ user, actor, body, params }) => cancelAccessRequest(runtime().db, actor, user, params.id!, body.reason));
