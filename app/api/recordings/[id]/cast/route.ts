import { apiRoute } from "@/lib/api/route";
import { audit } from "@/lib/audit";
import { notFound } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { exportCast, listChunks } from "@/lib/recordings";
import { runtime } from "@/lib/runtime";

/** The whole terminal recording as one asciicast v2 file, for `asciinema play` or any cast player. */
export const GET = apiRoute({ role: ["reviewer", "admin"] }, async ({ actor, params }) => {
  const { db, blobStore } = runtime();
  const sessionId = params.id!;
  if (!isUuid(sessionId) || (await listChunks(db, sessionId)).length === 0) throw notFound("Recording");
  const cast = await exportCast(db, blobStore, sessionId);
  await audit(db, actor, { action: "recording.export", objectType: "session", objectId: sessionId, details: { bytes: cast.length } });
  return new Response(new Uint8Array(cast), {
    headers: { "content-type": "application/x-asciicast", "content-disposition": `attachment; filename="gatehouse-${sessionId}.cast"` },
  });
});
