import { createHash } from "node:crypto";
import { recordingRoute } from "@/lib/api/recording-route";
import { evidenceKeys } from "@/lib/infra/evidence-keys";
import { notFound } from "@/lib/domain/errors";
import { signExport } from "@/lib/infra/export-signing";
import { exportKindOf, recordingExports } from "@/lib/protocol/recordings";
import { exportRecording, findRecording } from "@/lib/data/recordings";
import { runtime } from "@/lib/infra/runtime";
import { findSession } from "@/lib/data/sessions";

/**
 * The export's detached signature: the gateway reads the export again (it is the same bytes every time), hashes
 * it and signs the hash, so a copy can be checked later against the gateway's public key.
 */
export const GET = recordingRoute("GET /api/recordings/{id}/export/signature", async ({ params }) => {
  const { db, blobStore } = runtime();
  const [session, chunks] = await Promise.all([findSession(db, params.id), findRecording(db, params.id)]);
  if (!session) throw notFound("Recording");
  const fileName = `gatehouse-${session.id}.${recordingExports[exportKindOf(session.protocol)].extension}`;
  const hash = createHash("sha256");
  let bytes = 0;
  const reader = exportRecording(db, blobStore, chunks, session.protocol).getReader();
  for (let piece = await reader.read(); !piece.done; piece = await reader.read()) {
    hash.update(piece.value);
    bytes += piece.value.length;
  }
  const signature = signExport(evidenceKeys(), { sessionId: session.id, fileName, sha256: hash.digest("hex"), bytes });
  return Response.json(signature, { headers: { "content-disposition": `attachment; filename="${fileName}.sig"`, "cache-control": "no-store" } });
});
