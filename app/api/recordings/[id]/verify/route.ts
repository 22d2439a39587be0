import { recordingRoute } from "@/lib/api/recording-route";
import { findRecording, verifyRecording } from "@/lib/data/recordings";
import { auditRecordingRead } from "@/lib/data/read-audit";
import { runtime } from "@/lib/infra/runtime";

/** Whether the recording is whole and untouched, and if not, the first chunk where it is not. */
export const GET = recordingRoute("GET /api/recordings/{id}/verify", async ({ actor, params }) => {
  const { db, blobStore } = runtime();
  const recording = await findRecording(db, params.id);
  await auditRecordingRead(db, actor, params.id!, "verify");
  return verifyRecording(db, blobStore, recording);
});
