import { recordingRoute } from "@/lib/api/recording-route";
import { audit } from "@/lib/audit";
import { exportCast, findRecording } from "@/lib/recordings";
import { runtime } from "@/lib/runtime";

/** The whole terminal recording as one asciicast v2 file, for `asciinema play` or any cast player. */
export const GET = recordingRoute("GET /api/recordings/{id}/cast", async ({ actor, params }) => {
  const { db, blobStore } = runtime();
  const cast = await exportCast(db, blobStore, await findRecording(db, params.id));
  await audit(db, actor, { action: "recording.export", objectType: "session", objectId: params.id, details: { bytes: cast.length } });
  return new Response(new Uint8Array(cast), {
    headers: { "content-type": "application/x-asciicast", "content-disposition": `attachment; filename="gatehouse-${params.id}.cast"` },
  });
});
