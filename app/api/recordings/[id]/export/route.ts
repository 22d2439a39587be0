import { recordingRoute } from "@/lib/api/recording-route";
import { audit } from "@/lib/data/audit";
import { notFound } from "@/lib/domain/errors";
import { exportKindOf, recordingExports } from "@/lib/protocol/recordings";
import { exportRecording, findRecording } from "@/lib/data/recordings";
import { runtime } from "@/lib/infra/runtime";
import { findSession } from "@/lib/data/sessions";

/** The whole recording in the format its players read: asciicast v2 for terminals, Guacamole's stream for desktops, rrweb JSON for web apps. */
export const GET = recordingRoute("GET /api/recordings/{id}/export", async ({ actor, params }) => {
  const { db, blobStore } = runtime();
  const [session, chunks] = await Promise.all([findSession(db, params.id), findRecording(db, params.id)]);
  if (!session) throw notFound("Recording");
  const kind = exportKindOf(session.protocol);
  const { contentType, extension } = recordingExports[kind];
  await audit(db, actor, { action: "recording.export", objectType: "session", objectId: session.id, details: { format: extension, chunks: chunks.length } });
  return new Response(exportRecording(db, blobStore, chunks, session.protocol), {
    headers: {
      "content-type": contentType,
      "content-disposition": `attachment; filename="gatehouse-${session.id}.${extension}"`,
      "cache-control": "no-store",
      "x-recording-kind": kind,
    },
  });
});
