import { apiRoute } from "@/lib/api/route";
import { runtime } from "@/lib/infra/runtime";
import { decideHold } from "@/lib/domain/session-control";

/** Security approves or denies a command or request the command policy holds for them. */
export const POST = apiRoute("POST /api/sessions/{id}/holds/{holdId}", ({ actor, body, params }) => decideHold(runtime(), actor, params.id!, params.holdId!, body));
