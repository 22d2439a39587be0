// The shape of every route that reads one recording (`[id]` is its session): signed in, then the recording access
// decision (lib/governance/recording-access.ts), then the handler.
import { requireRecordingAccess } from "../governance/recording-access";
import { runtime } from "../runtime";
import { apiRoute, type RouteContext } from "./route";

export function recordingRoute(handler: (context: RouteContext<undefined>) => Promise<unknown>) {
  return apiRoute({ role: "user" }, async (context) => {
    await requireRecordingAccess(runtime().db, context.user, context.actor, context.params.id!);
    return handler(context);
  });
}
