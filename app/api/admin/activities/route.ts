import { apiRoute } from "@/lib/api/route";
import { createActivity, listActivities } from "@/lib/data/governance/policies";
import { runtime } from "@/lib/infra/runtime";

export const GET = apiRoute("GET /api/admin/activities", () => listActivities(runtime().db));

export const POST = apiRoute("POST /api/admin/activities", ({ actor, body }) => createActivity(runtime().db, actor, body));
