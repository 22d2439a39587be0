// This node's place in the registry: a heartbeat every few seconds with how the node fares (../node-metrics.ts),
// and the survivor's duty of retiring nodes that are gone (their sessions become `interrupted`). Also
// refreshes the dashboard's previews of this node's sessions (their text every 2 s, their desktops' thumbnails when each session says one is due).
import { forgetRetiredNodes, heartbeatEveryMs, peerCheckEveryMs, recordHeartbeat, removeNode, retireSilentNodes } from "../../lib/data/nodes";
import type { NodeStats } from "../../lib/protocol/nodes";
import type { Runtime } from "../../lib/infra/runtime";
import { savePreview, saveThumbnail } from "../../lib/data/sessions";
import { sessionRegistry } from "../live/session-registry";
import { log } from "../../lib/infra/log";

const previewEveryMs = 2_000;
const previewsPerRound = 50;
/** How often sessions are asked whether a thumbnail is due (a new desktop gets its first within this). */
const thumbnailCheckEveryMs = 5_000;

export function startNodeHeartbeat({ db, config }: Runtime, connectionName: string | null, version: string, internalUrl: URL, stats: () => NodeStats) {
  const node = { name: config.nodeName, version, internalUrl: internalUrl.origin, startedAt: new Date(), connectionName };
  let lastBeatAt = 0;
  const beat = async () => {
    const { retiredWhileRunning } = await recordHeartbeat(db, node, stats());
    lastBeatAt = Date.now();
    if (retiredWhileRunning) {
      // Another node took this one for gone (stalled, or cut off from the database) and marked its sessions
      // interrupted: they end here too, so that no session runs unrecorded and beyond security's reach.
      log.error(`this node was retired by another while it ran: ending its ${sessionRegistry.size} session(s)`);
      await sessionRegistry.endAll("this gateway node lost touch with the cluster; connect again");
    }
    await forgetRetiredNodes(db);
  };
  let checking = false;
  const checkPeers = async () => {
    if (checking) return;
    checking = true;
    try {
      for (const { node: retired, interruptedSessions, disconnected } of await retireSilentNodes(db, node)) {
        const why = disconnected ? "lost every database connection" : "stopped sending heartbeats";
        log.warn(`node ${retired} ${why}: retired it and marked its ${interruptedSessions} live session(s) interrupted`);
      }
    } finally {
      checking = false;
    }
  };
  // A preview is a terminal emulated afresh and a row written: a round makes at most `previewsPerRound`, going
  // round the sessions, and a round does not start while the last one runs. Under load previews are older; the
  // node is no busier (a round over 1,000 typing sessions held the event loop for seconds).
  let previewCursor = 0;
  let previewRound: Promise<void> | null = null;
  const previewRoundOnce = async () => {
    const live = [...sessionRegistry.all()];
    let taken = 0;
    let looked = 0;
    while (looked < live.length && taken < previewsPerRound) {
      const session = live[(previewCursor + looked++) % live.length]!;
      const preview = await session.takePreview();
      if (preview === null) continue;
      taken++;
      await savePreview(db, session.sessionId, preview);
    }
    previewCursor = live.length > 0 ? (previewCursor + looked) % live.length : 0;
  };
  const previews = async () => {
    if (previewRound) return;
    previewRound = previewRoundOnce().finally(() => (previewRound = null));
    await previewRound;
  };
  // Asked all at once: an engine that is slow to answer holds up only its own session's picture.
  const thumbnails = () =>
    Promise.all(
      [...sessionRegistry.all()].map(async (session) => {
        const jpeg = await session.takeThumbnail();
        if (jpeg) await saveThumbnail(db, session.sessionId, jpeg);
      }),
    );
  const heartbeat = setInterval(() => beat().catch((error) => log.error({ err: error }, "heartbeat failed")), heartbeatEveryMs);
  const peerTimer = setInterval(() => checkPeers().catch((error) => log.error({ err: error }, "looking for nodes that are gone failed")), peerCheckEveryMs);
  const previewTimer = setInterval(() => previews().catch((error) => log.error({ err: error }, "saving previews failed")), previewEveryMs);
  const thumbnailTimer = setInterval(() => thumbnails().catch((error) => log.error({ err: error }, "saving thumbnails failed")), thumbnailCheckEveryMs);
  const first = beat();
  return {
    started: first,
    /** When this node last wrote its heartbeat: a node that cannot is not ready to serve. */
    get lastBeatAt() {
      return lastBeatAt;
    },
    async stop() {
      clearInterval(heartbeat);
      clearInterval(peerTimer);
      clearInterval(previewTimer);
      clearInterval(thumbnailTimer);
      await removeNode(db, node.name);
    },
  };
}
