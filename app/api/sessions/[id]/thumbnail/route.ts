import { apiRoute } from "@/lib/api/route";
import { ApiError } from "@/lib/domain/errors";
import { runtime } from "@/lib/infra/runtime";
import { readThumbnail } from "@/lib/data/sessions";

/** A live desktop's latest thumbnail, for the dashboard of those who may watch it: security and admins. */
export const GET = apiRoute("GET /api/sessions/{id}/thumbnail", async ({ params }) => {
  const thumbnail = await readThumbnail(runtime().db, params.id);
  if (!thumbnail) throw new ApiError(404, "This session has no picture: it is not a live desktop, or its first is still to come");
  return new Response(new Uint8Array(thumbnail.jpeg), {
    headers: {
      "content-type": "image/jpeg",
      "cache-control": "private, no-store",
      "last-modified": thumbnail.takenAt.toUTCString(),
    },
  });
});
