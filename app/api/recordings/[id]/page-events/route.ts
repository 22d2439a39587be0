import { recordingRoute } from "@/lib/api/recording-route";
import { readPageEventsWindow } from "@/lib/data/recordings";
import { auditRecordingRead } from "@/lib/data/read-audit";
import { runtime } from "@/lib/infra/runtime";

/** A stretch of a web recording for the player: `?at=<ms>` to seek (from the full snapshot before it), `?seq=<chunk>` to continue. */
export const GET = recordingRoute("GET /api/recordings/{id}/page-events", async ({ actor, params, query }) => {
  const { db, blobStore } = runtime();
  const stretch = await readPageEventsWindow(db, blobStore, params.id, query);
  await auditRecordingRead(db, actor, params.id!, "player");
  return stretch;
});
