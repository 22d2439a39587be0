import { apiRoute } from "@/lib/api/route";
import { notFound } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { listChunks, verifyRecording } from "@/lib/recordings";
import { runtime } from "@/lib/runtime";

/** Whether the recording is whole and untouched, and if not, the first chunk where it is not. */
export const GET = apiRoute({ role: ["reviewer", "admin"] }, async ({ params }) => {
  const { db, blobStore } = runtime();
  if (!isUuid(params.id) || (await listChunks(db, params.id)).length === 0) throw notFound("Recording");
  return verifyRecording(db, blobStore, params.id);
});
