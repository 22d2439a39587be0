// This node's place in the registry: a heartbeat every few seconds, and the survivor's duty of retiring nodes
// whose heartbeat stopped (their sessions become `interrupted`). Also refreshes the dashboard's previews of
// this node's sessions, on the same beat.
import { heartbeatEveryMs, recordHeartbeat, removeNode, retireSilentNodes } from "../../lib/nodes";
import type { Runtime } from "../../lib/runtime";
import { savePreview } from "../../lib/sessions";
import { sessionRegistry } from "../session-registry";

const previewEveryMs = 2_000;

export function startNodeHeartbeat({ db, config }: Runtime, version: string, internalUrl: URL) {
  const node = { name: config.nodeName, version, internalUrl: internalUrl.origin, startedAt: new Date() };
  const beat = async () => {
    await recordHeartbeat(db, node);
    for (const { node: retired, interruptedSessions } of await retireSilentNodes(db, node.name)) {
      console.warn(`node ${retired} stopped sending heartbeats: retired it and marked its ${interruptedSessions} live session(s) interrupted`);
    }
  };
  const previews = async () => {
    for (const session of sessionRegistry.all()) {
      const preview = session.takePreview();
      if (preview !== null) await savePreview(db, session.sessionId, preview);
    }
  };
  const heartbeat = setInterval(() => beat().catch((error) => console.error("heartbeat failed:", error)), heartbeatEveryMs);
  const previewTimer = setInterval(() => previews().catch((error) => console.error("saving previews failed:", error)), previewEveryMs);
  const first = beat();
  return {
    started: first,
    async stop() {
      clearInterval(heartbeat);
      clearInterval(previewTimer);
      await removeNode(db, node.name);
    },
  };
}
