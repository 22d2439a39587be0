import { z } from "zod";
import { apiRoute, fieldErrors } from "@/lib/api/route";
import { ApiError } from "@/lib/errors";
import { readRecordingWindow } from "@/lib/recordings";
import { runtime } from "@/lib/runtime";

const count = z.coerce.number({ message: "Must be a number" }).int("Must be whole").min(0, "Cannot be negative").max(2 ** 31 - 1, "Too large");
const querySchema = z.union([z.object({ at: count }).transform(({ at }) => ({ atMs: at })), z.object({ seq: count })]);

/** A stretch of a recording for the player: `?at=<ms>` to seek, `?seq=<chunk>` to continue. */
export const GET = apiRoute({ role: ["reviewer", "admin"] }, async ({ params, request }) => {
  const query = querySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) throw new ApiError(400, "Ask for ?at=<milliseconds> or ?seq=<chunk number>", fieldErrors(query.error));
  const { db, blobStore } = runtime();
  return readRecordingWindow(db, blobStore, params.id, query.data);
});
