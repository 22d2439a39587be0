import { apiRoute } from "@/lib/api/route";
import { findRecording, verifyRecording } from "@/lib/recordings";
import { runtime } from "@/lib/runtime";

/** Whether the recording is whole and untouched, and if not, the first chunk where it is not. */
export const GET = apiRoute({ role: ["reviewer", "admin"] }, async ({ params }) => {
  const { db, blobStore } = runtime();
  return verifyRecording(blobStore, await findRecording(db, params.id));
});
