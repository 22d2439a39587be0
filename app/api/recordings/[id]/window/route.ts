import { recordingRoute } from "@/lib/api/recording-route";
import { readRecordingWindow } from "@/lib/data/recordings";
import { auditRecordingRead } from "@/lib/data/read-audit";
import { runtime } from "@/lib/infra/runtime";

/** A stretch of a terminal recording for the player: `?at=<ms>` to seek, `?seq=<chunk>` to continue. */
export const GET = recordingRoute("GET /api/recordings/{id}/window", async ({ actor, params, query }) => {
  const { db, blobStore } = runtime();
  const stretch = await readRecordingWindow(db, blobStore, params.id, query);
  await auditRecordingRead(db, actor, params.id!, "player");
  return stretch;
});
