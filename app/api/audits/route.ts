import { apiRoute } from "@/lib/api/route";
import { auditQueue } from "@/lib/data/governance/audits";
import { runtime } from "@/lib/infra/runtime";

/** The sessions assigned to the caller for audit. Auditors are named by policies, not by a role. */
export const GET = apiRoute("GET /api/audits", ({ user }) => auditQueue(runtime().db, user));
