// The shape of every route that reads one recording (`[id]` is its session): signed in, then the recording access
// decision (lib/data/governance/recording-access.ts), then the handler.
import { requireRecordingAccess } from "../data/governance/recording-access";
import { runtime } from "../infra/runtime";
import type { OperationKey } from "./operations";
import { apiRoute, type OperationContext } from "./route";

export function recordingRoute<Key extends OperationKey>(key: Key, handler: (context: OperationContext<Key>) => Promise<unknown>) {
  return apiRoute(key, async (context) => {
    await requireRecordingAccess(runtime().db, context.user, context.actor, context.params.id!);
    return handler(context);
  });
}
