// The `watch` purpose: security's read-only view of a live session, on whichever node it runs. A session on
// this node is joined directly; one on another node is relayed from there (server/cluster/node-link.ts).
import type { WebSocket } from "ws";
import type { WatchServerMessage } from "../lib/protocol/live";
import { findNode } from "../lib/data/nodes";
import type { Runtime } from "../lib/infra/runtime";
import { findSession } from "../lib/data/sessions";
import { registerViewer } from "./access-sweep";
import type { NodeLink } from "./cluster/node-link";
import type { SocketRoute } from "./gate";
import { sessionRegistry } from "./live/session-registry";
import { log } from "../lib/infra/log";

function finish(socket: WebSocket, message: WatchServerMessage) {
  socket.send(JSON.stringify(message));
  socket.close(1000, message.type);
}

export function createWatchRoute({ db, config }: Runtime, nodeLink: NodeLink): SocketRoute {
  return (socket, { actor, sessionId, user, tokenId }) => {
    registerViewer(socket, user.id, tokenId);
    void (async () => {
      const session = await findSession(db, sessionId ?? undefined);
      if (!session || session.status === "ended") return finish(socket, { type: "ended", reason: session?.endReason ?? "user_closed", message: "this session has ended; its recording is under Sessions" });
      if (session.node === config.nodeName) {
        const live = sessionRegistry.find(session.id);
        if (!live) return finish(socket, { type: "error", message: "this session is not running on this node any more" });
        return live.watch(socket, actor);
      }
      const owner = await findNode(db, session.node);
      if (!owner) return finish(socket, { type: "error", message: `node ${session.node}, which runs this session, is not registered (it may have stopped)` });
      nodeLink.relay(socket, owner, { id: session.id, username: session.username, targetName: session.targetName }, actor);
    })().catch((error) => {
      log.error({ err: error }, "watch failed");
      finish(socket, { type: "error", message: "the gateway could not open this view" });
    });
  };
}
