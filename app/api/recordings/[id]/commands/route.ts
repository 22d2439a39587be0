import { recordingRoute } from "@/lib/api/recording-route";
import { runtime } from "@/lib/infra/runtime";
import { auditRecordingRead } from "@/lib/data/read-audit";
import { listCommands } from "@/lib/data/transcripts";

/** The commands typed in a session with their time offsets: the player's markers. */
export const GET = recordingRoute("GET /api/recordings/{id}/commands", async ({ actor, params }) => {
  await auditRecordingRead(runtime().db, actor, params.id!, "commands");
  return listCommands(runtime().db, params.id!);
});
