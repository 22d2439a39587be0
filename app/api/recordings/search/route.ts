import { apiRoute } from "@/lib/api/route";
import { runtime } from "@/lib/infra/runtime";
import { auditTranscriptSearch } from "@/lib/data/read-audit";
import { searchReadableTranscripts } from "@/lib/data/governance/recording-access";

/** Commands and output lines matching the words or the text, newest sessions first, of recordings the caller may open. */
export const GET = apiRoute("GET /api/recordings/search", async ({ user, actor, query: { q } }) => {
  await auditTranscriptSearch(runtime().db, actor, q);
  return searchReadableTranscripts(runtime().db, user, q);
});
