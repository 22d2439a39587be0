import { apiRoute } from "@/lib/api/route";
import { runtime } from "@/lib/infra/runtime";
import { sessionsOverTime } from "@/lib/data/sessions";

/** Sessions started per hour over the last week, by protocol: security's and admins' dashboard chart. */
export const GET = apiRoute("GET /api/sessions/over-time", () => sessionsOverTime(runtime().db));
