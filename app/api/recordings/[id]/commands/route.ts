import { apiRoute } from "@/lib/api/route";
import { notFound } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { runtime } from "@/lib/runtime";
import { listCommands } from "@/lib/transcripts";

/** The commands typed in a session with their time offsets: the player's markers. */
export const GET = apiRoute({ role: ["reviewer", "admin"] }, async ({ params }) => {
  if (!isUuid(params.id)) throw notFound("Recording");
  return listCommands(runtime().db, params.id);
});
