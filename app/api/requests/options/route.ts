import { apiRoute } from "@/lib/api/route";
import { requestOptions } from "@/lib/data/governance/requests";
import { runtime } from "@/lib/infra/runtime";

/** The activities this person may request, each with the resources it covers for them. */
export const GET = apiRoute("GET /api/requests/options", ({ user }) => requestOptions(runtime().db, user));
