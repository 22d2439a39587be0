// npm run bench:cluster — a cluster losing a node: three nodes on one PostgreSQL database, 300 SSH sessions spread
// over them (each printing a timestamped marker twice a second), each watched from another node; then one node
// is killed with SIGKILL. Measures how soon its sessions are marked interrupted, how much of their last seconds
// their recordings hold, whether the other 200 sessions and their watchers saw any gap in their output, and how
// soon a node started again under the same name is back in the cluster serving sessions. Starts its own sshd,
// PostgreSQL database and gateways; every phase has a deadline; prints a JSON line with the figures last, also
// when it stops early.
import postgres from "postgres";
import { atEnd, benchNodeName, benchSshd, gatewayPty, percentile, phase, runBenchmark, sleep, startBenchGateway, watchSession, type GatewayPty, type Pty } from "./support";

const sessionsPerNode = Number(process.env.BENCH_CLUSTER_SESSIONS_PER_NODE ?? 100);
const openInParallel = 20;
/** A marker twice a second, from bash's own clock and `read -t` (no process started per line). */
const markerLoop = "while :; do echo MARK-$EPOCHREALTIME; read -t 0.5; done\r";
const markerIntervalMs = 500;
/** A stream is unaffected when no two markers arrive further apart than this. */
const gapMs = 2_000;
const steadyMs = 10_000;
/** How long the survivors are watched after the killed node's sessions are all marked interrupted. */
const afterMs = 10_000;
const nodeNames = [benchNodeName, "bench-2", "bench-3"] as const;
const killed = 2;

/** When each marker arrived on one stream; the widest silence between two within a window is the gap. */
class MarkerArrivals {
  readonly at: number[] = [];
  private tail = "";

  constructor(stream: Pty) {
    stream.onData((data) => {
      // The last four characters of the chunk before are kept: a marker cut in two is counted once, when whole.
      const text = this.tail + data.toString("latin1");
      const count = text.split("MARK-").length - 1;
      for (let index = 0; index < count; index++) this.at.push(performance.now());
      this.tail = text.slice(-4);
    });
  }

  widestGap(from: number, until: number) {
    const inWindow = [from, ...this.at.filter((time) => time > from && time < until), until];
    let widest = 0;
    for (let index = 1; index < inWindow.length; index++) widest = Math.max(widest, inWindow[index]! - inWindow[index - 1]!);
    return widest;
  }
}

interface Watched {
  node: number;
  user: GatewayPty;
  userMarkers: MarkerArrivals;
  watcherMarkers: MarkerArrivals;
  lost: string[];
}

await runBenchmark("cluster", async (figures) => {
  Object.assign(figures, { sessions: sessionsPerNode * nodeNames.length, nodes: nodeNames.length });
  const sshd = await benchSshd();
  const bench = await phase("starting the first node", 180_000, () => startBenchGateway({ name: "cluster", sshd, roles: ["security"], targets: { "bench-cluster": {} } }));
  const targetId = bench.targetIds["bench-cluster"]!;
  const others = await phase("starting two more nodes", 240_000, async () => [await bench.addNode(nodeNames[1]), await bench.addNode(nodeNames[2])]);
  const nodes = [bench.gateway, ...others];
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  atEnd(() => sql.end());

  const sessions: Watched[] = [];
  atEnd(() => sessions.forEach((session) => session.user.close()));
  await phase(`opening ${sessionsPerNode} sessions on each node, each watched from another`, 900_000, async () => {
    for (const [node, gateway] of nodes.entries()) {
      // Watchers sit on a node that survives: the killed node's watchers are on the first, the others' on each other.
      const watcherNode = nodes[node === 0 ? 1 : 0]!;
      for (let opened = 0; opened < sessionsPerNode; opened += openInParallel) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(openInParallel, sessionsPerNode - opened) }, async () => {
            const user = await gatewayPty(gateway.url, bench.cookie, targetId);
            const lost: string[] = [];
            user.onLost((reason) => lost.push(`user: ${reason}`));
            user.write(markerLoop);
            const watcher = await watchSession(watcherNode.url, bench.cookie, user.sessionId);
            watcher.onLost((reason) => lost.push(`watcher: ${reason}`));
            atEnd(() => watcher.close());
            return { node, user, userMarkers: new MarkerArrivals(user), watcherMarkers: new MarkerArrivals(watcher), lost };
          }),
        );
        sessions.push(...batch);
      }
      console.log(`  ${sessionsPerNode} sessions on ${nodeNames[node]}, watched from ${watcherNode === nodes[0] ? nodeNames[0] : nodeNames[1]}`);
    }
  });
  await sleep(steadyMs);

  const victims = sessions.filter((session) => session.node === killed);
  const survivors = sessions.filter((session) => session.node !== killed);
  const victimIds = victims.map((session) => session.user.sessionId);
  const killedAt = performance.now();
  const killedAtWall = new Date();
  process.kill(nodes[killed]!.pid, "SIGKILL");
  console.log(`  killed ${nodeNames[killed]} (pid ${nodes[killed]!.pid})`);

  const interruptedAfterMs = await phase(`${nodeNames[killed]}'s sessions marked interrupted`, 120_000, async () => {
    for (;;) {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from sessions where id = any(${victimIds}::uuid[]) and status = 'ended' and end_reason = 'interrupted'`;
      if (row!.n === victimIds.length) return performance.now() - killedAt;
      await sleep(250);
    }
  });
  figures.interruptedAfterMs = interruptedAfterMs;
  console.log(`  all ${victimIds.length} marked interrupted ${(interruptedAfterMs / 1000).toFixed(1)} s after the kill`);

  // How much of each killed session's last moments its recording holds: the kill's moment against its last chunk.
  const recorded = await sql<{ id: string; started_at: Date; last_ms: number | null }[]>`
    select s.id, s.started_at, max(c.end_ms)::float8 as last_ms from sessions s left join recording_chunks c on c.session_id = s.id
    where s.id = any(${victimIds}::uuid[]) group by s.id, s.started_at`;
  const missingMs = recorded.map((row) => killedAtWall.getTime() - row.started_at.getTime() - (row.last_ms ?? 0));
  figures.recordingsMissingMs = { p50: percentile(missingMs, 50), max: Math.max(...missingMs), sessions: recorded.length };
  console.log(`  the killed sessions' recordings end before the kill by p50 ${percentile(missingMs, 50).toFixed(0)} ms, at most ${Math.max(...missingMs).toFixed(0)} ms`);

  await sleep(afterMs);
  const until = performance.now();
  const from = killedAt - steadyMs / 2;
  const userGaps = survivors.map((session) => session.userMarkers.widestGap(from, until));
  const watcherGaps = survivors.map((session) => session.watcherMarkers.widestGap(from, until));
  const survivorsLost = survivors.filter((session) => session.lost.length > 0);
  figures.survivors = {
    sessions: survivors.length,
    usersWithGap: userGaps.filter((gap) => gap > gapMs).length,
    watchersWithGap: watcherGaps.filter((gap) => gap > gapMs).length,
    widestUserGapMs: Math.max(...userGaps),
    widestWatcherGapMs: Math.max(...watcherGaps),
    lost: survivorsLost.length,
    lostReasons: [...new Set(survivorsLost.flatMap((session) => session.lost))].slice(0, 5),
    markerIntervalMs,
  };
  console.log(`  the ${survivors.length} other sessions, from ${((steadyMs / 2) / 1000).toFixed(0)} s before the kill: ${JSON.stringify(figures.survivors)}`);

  const rejoin = await phase(`${nodeNames[killed]} started again`, 240_000, async () => {
    const started = performance.now();
    const node = await bench.addNode(nodeNames[killed]);
    const listeningMs = performance.now() - started;
    for (;;) {
      const [row] = await sql<{ fresh: boolean }[]>`select heartbeat_at > ${killedAtWall} and retired_at is null as fresh from nodes where name = ${nodeNames[killed]}`;
      if (row?.fresh) break;
      await sleep(250);
    }
    const user = await gatewayPty(node.url, bench.cookie, targetId);
    atEnd(() => user.close());
    const markers = new MarkerArrivals(user);
    user.write(markerLoop);
    while (markers.at.length === 0) await sleep(50);
    return { listeningMs, servingMs: performance.now() - started };
  });
  figures.rejoin = rejoin;
  console.log(`  ${nodeNames[killed]} listening ${(rejoin.listeningMs / 1000).toFixed(1)} s after its start, in the cluster and serving a new session after ${(rejoin.servingMs / 1000).toFixed(1)} s`);
});
