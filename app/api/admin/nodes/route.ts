import { apiRoute } from "@/lib/api/route";
import { listNodeViews } from "@/lib/data/nodes";
import { runtime } from "@/lib/infra/runtime";

/** The fleet: every node up, late or retired, with what it reported at its last heartbeat. Security and admins. */
export const GET = apiRoute("GET /api/admin/nodes", async () => listNodeViews(runtime().db));
