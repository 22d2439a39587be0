import { apiRoute } from "@/lib/api/route";
import { approvalQueue } from "@/lib/data/governance/requests";
import { runtime } from "@/lib/infra/runtime";

/** Requests this person may decide or oversee. */
export const GET = apiRoute("GET /api/approvals", ({ user }) => approvalQueue(runtime().db, user));
