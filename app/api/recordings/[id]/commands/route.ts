import { apiRoute } from "@/lib/api/route";
import { notFound } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { runtime } from "@/lib/runtime";
import { auditRecordingRead } from "@/lib/read-audit";
import { listCommands } from "@/lib/transcripts";

/** The commands typed in a session with their time offsets: the player's markers. */
export const GET = apiRoute({ role: ["reviewer", "admin"] }, async ({ actor, params }) => {
  if (!isUuid(params.id)) throw notFound("Recording");
  await auditRecordingRead(runtime().db, actor, params.id, "commands");
  return listCommands(runtime().db, params.id);
});
