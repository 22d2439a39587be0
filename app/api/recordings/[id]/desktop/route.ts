import { recordingRoute } from "@/lib/api/recording-route";
import { readDesktopWindow } from "@/lib/data/recordings";
import { auditRecordingRead } from "@/lib/data/read-audit";
import { runtime } from "@/lib/infra/runtime";

/** A stretch of a desktop recording for the player: `?at=<ms>` to seek (from the full frame before it), `?seq=<chunk>` to continue. */
export const GET = recordingRoute("GET /api/recordings/{id}/desktop", async ({ actor, params, query }) => {
  const { db, blobStore } = runtime();
  const stretch = await readDesktopWindow(db, blobStore, params.id, query);
  await auditRecordingRead(db, actor, params.id!, "player");
  return stretch;
});
