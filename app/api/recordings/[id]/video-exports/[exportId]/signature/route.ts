import { recordingRoute } from "@/lib/api/recording-route";
import { evidenceKeys } from "@/lib/infra/evidence-keys";
import { signExport } from "@/lib/infra/export-signing";
import { runtime } from "@/lib/infra/runtime";
import { findVideoExport } from "@/lib/data/video-exports";

/** The video's detached signature, over the hash taken when it was rendered. */
export const GET = recordingRoute("GET /api/recordings/{id}/video-exports/{exportId}/signature", async ({ user, params }) => {
  const video = await findVideoExport(runtime().db, user, params.id!, params.exportId);
  const fileName = `gatehouse-${video.sessionId}.${video.format}`;
  const signature = signExport(evidenceKeys(), { sessionId: video.sessionId, fileName, sha256: video.sha256!, bytes: video.bytes! });
  return Response.json(signature, { headers: { "content-disposition": `attachment; filename="${fileName}.sig"`, "cache-control": "no-store" } });
});
