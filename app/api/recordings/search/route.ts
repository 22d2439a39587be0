import { z } from "zod";
import { apiRoute } from "@/lib/api/route";
import { ApiError } from "@/lib/errors";
import { runtime } from "@/lib/runtime";
import { auditTranscriptSearch } from "@/lib/read-audit";
import { searchReadableTranscripts } from "@/lib/governance/recording-access";

const querySchema = z.string().trim().min(2, "Search for at least 2 characters").max(200, "Search for at most 200 characters");

/** Commands and output lines matching the words or the text, newest sessions first, of recordings the caller may open. */
export const GET = apiRoute({ role: ["reviewer", "admin"] }, async ({ user, actor, request }) => {
  const query = querySchema.safeParse(new URL(request.url).searchParams.get("q") ?? "");
  if (!query.success) throw new ApiError(400, query.error.issues[0]!.message, { q: query.error.issues[0]!.message });
  await auditTranscriptSearch(runtime().db, actor, query.data);
  return searchReadableTranscripts(runtime().db, user, query.data);
});
