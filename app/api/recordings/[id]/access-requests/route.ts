import { apiRoute } from "@/lib/api/route";
import { requestRecordingAccess } from "@/lib/data/governance/recording-access";
import { runtime } from "@/lib/infra/runtime";

/** Asks to open this recording, with a justification the approvers read. */
export const POST = apiRoute("POST /api/recordings/{id}/access-requests", ({ user, actor, params, body }) => requestRecordingAccess(runtime().db, actor, user, params.id!, body));
