import { recordingRoute } from "@/lib/api/recording-route";
import { audit } from "@/lib/data/audit";
import { videoContentTypes } from "@/lib/protocol/video-exports";
import { runtime } from "@/lib/infra/runtime";
import { findVideoExport } from "@/lib/data/video-exports";

export const GET = recordingRoute("GET /api/recordings/{id}/video-exports/{exportId}/file", async ({ user, actor, params }) => {
  const { db, blobStore } = runtime();
  const video = await findVideoExport(db, user, params.id!, params.exportId);
  const file = await blobStore.get(video.blobKey!);
  await audit(db, actor, { action: "recording.export", objectType: "session", objectId: video.sessionId, details: { format: video.format, exportId: video.id, bytes: file.length } });
  return new Response(new Uint8Array(file), {
    headers: {
      "content-type": videoContentTypes[video.format],
      "content-disposition": `attachment; filename="gatehouse-${video.sessionId}.${video.format}"`,
      "cache-control": "no-store",
    },
  });
});
