import { asc, and, eq } from "drizzle-orm";
import { apiRoute } from "@/lib/api/route";
import { transcriptLines } from "@/lib/db/schema";
import { notFound } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { runtime } from "@/lib/runtime";

/** The commands typed in a session with their time offsets: the player's markers. */
export const GET = apiRoute({ role: ["reviewer", "admin"] }, async ({ params }) => {
  if (!isUuid(params.id)) throw notFound("Recording");
  return runtime()
    .db.select({ atMs: transcriptLines.atMs, text: transcriptLines.text })
    .from(transcriptLines)
    .where(and(eq(transcriptLines.sessionId, params.id), eq(transcriptLines.kind, "command")))
    .orderBy(asc(transcriptLines.id));
});
