import { apiRoute } from "@/lib/api/route";
import { createActivity, listActivities } from "@/lib/governance/policies";
import { activityInputSchema } from "@/lib/protocol/governance";
import { runtime } from "@/lib/runtime";

export const GET = apiRoute({ role: "admin" }, () => listActivities(runtime().db));

export const POST = apiRoute({ role: "admin", body: activityInputSchema }, ({ actor, body }) => createActivity(runtime().db, actor, body));
