import { apiRoute } from "@/lib/api/route";
import { runtime } from "@/lib/infra/runtime";
import { controlSession } from "@/lib/domain/session-control";

/** Security locks, unlocks, pauses, resumes or terminates a live session on whichever node runs it. */
export const POST = apiRoute("POST /api/sessions/{id}/control", ({ actor, body, params }) => controlSession(runtime(), actor, params.id!, body));
