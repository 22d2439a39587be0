import { recordingRoute } from "@/lib/api/recording-route";
import { runtime } from "@/lib/infra/runtime";
import { listVideoExports, requestVideoExport } from "@/lib/data/video-exports";

/** The videos made (or being made) of this recording: the caller's own, or everyone's for admins. */
export const GET = recordingRoute("GET /api/recordings/{id}/video-exports", ({ user, params }) => listVideoExports(runtime().db, user, params.id!));

/** Queues a video of a desktop or web recording; the requester is told when it is ready. */
export const POST = recordingRoute("POST /api/recordings/{id}/video-exports", ({ user, actor, params, body }) => requestVideoExport(runtime().db, runtime().jobs, actor, user, params.id!, body.format));
