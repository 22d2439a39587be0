import { recordingRoute } from "@/lib/api/recording-route";
import { fieldErrors } from "@/lib/api/route";
import { ApiError } from "@/lib/errors";
import { recordingWindowQuerySchema } from "@/lib/protocol/recordings";
import { readPageEventsWindow } from "@/lib/recordings";
import { auditRecordingRead } from "@/lib/read-audit";
import { runtime } from "@/lib/runtime";

/** A stretch of a web recording for the player: `?at=<ms>` to seek (from the full snapshot before it), `?seq=<chunk>` to continue. */
export const GET = recordingRoute(async ({ actor, params, request }) => {
  const query = recordingWindowQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) throw new ApiError(400, "Ask for ?at=<milliseconds> or ?seq=<chunk number>", fieldErrors(query.error));
  const { db, blobStore } = runtime();
  const stretch = await readPageEventsWindow(db, blobStore, params.id, query.data);
  await auditRecordingRead(db, actor, params.id!, "player");
  return stretch;
});
