import { Card, DataTable, PageTitle } from "@/app/_ui/primitives";
import { requirePageUser } from "@/lib/auth/current-user";
import { listNodeViews } from "@/lib/data/nodes";
import type { NodeView } from "@/lib/protocol/nodes";
import { runtime } from "@/lib/infra/runtime";

const mebibytes = (bytes: number | undefined) => (bytes === undefined ? "—" : `${Math.round(bytes / 2 ** 20)} MiB`);
const utcTime = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
const secondsAgo = (iso: string, now: number) => Math.max(0, Math.round((now - Date.parse(iso)) / 1000));

function Health({ node, now }: { node: NodeView; now: number }) {
  if (node.health === "retired") return <span className="font-medium text-red-700">Stopped sending heartbeats; retired at {utcTime(node.retiredAt!)}, its sessions marked interrupted</span>;
  if (node.health === "late") return <span className="font-medium text-amber-700">Late: no heartbeat for {secondsAgo(node.heartbeatAt, now)} s</span>;
  return <span className="text-emerald-700">Up</span>;
}

export default async function NodesPage() {
  await requirePageUser(["admin", "security"]);
  const nodes = await listNodeViews(runtime().db);
  const now = Date.now();
  const drifting = nodes.filter((node) => node.versionDrift);
  return (
    <>
      <PageTitle description="Every gateway node on this database, as it reported at its last heartbeat (every 5 s). A node late by 8 s is flagged; another node retires it, ending its sessions as interrupted, after 15 s of silence, or after 2 s once none of its database connections is left (its process is gone).">Nodes</PageTitle>
      {drifting.length > 0 ? (
        <div role="status" className="mb-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
          Version drift: {drifting.map((node) => `${node.name} runs ${node.version}`).join(", ")}, unlike the other nodes.
        </div>
      ) : null}
      <Card>
        <DataTable caption="Gateway nodes" columns={["Node", "Health", "Version", "Started", "Last heartbeat", "Live sessions", "CPU", "Memory", "Event loop p99", "Keyframer backlog", "Blob spool", "Desktop engine"]}>
          {nodes.map((node) => (
            <tr key={node.name} className="border-t border-slate-100 align-top" data-testid={`node-${node.name}`}>
              <td className="py-2 font-medium">{node.name}</td>
              <td>
                <Health node={node} now={now} />
              </td>
              <td>
                {node.version}
                {node.versionDrift ? <span className="ml-1 rounded bg-amber-100 px-1 text-xs text-amber-900">drift</span> : null}
              </td>
              <td>{utcTime(node.startedAt)}</td>
              <td>{node.health === "up" ? `${secondsAgo(node.heartbeatAt, now)} s ago` : utcTime(node.heartbeatAt)}</td>
              <td>{Object.entries(node.stats.sessions).map(([protocol, count]) => `${count} ${protocol.toUpperCase()}`).join(", ") || "none"}</td>
              <td>{node.stats.cpuPercent === undefined ? "—" : `${node.stats.cpuPercent} %`}</td>
              <td>{mebibytes(node.stats.rssBytes)}</td>
              <td>{node.stats.eventLoopDelayMs === undefined ? "—" : `${node.stats.eventLoopDelayMs} ms`}</td>
              <td>{mebibytes(node.stats.keyframerBacklogBytes)}</td>
              <td>{node.stats.spooledBlobs ? <span className="text-amber-700">{node.stats.spooledBlobs} waiting: the blob store is not taking writes</span> : node.stats.spooledBlobs === 0 ? "empty" : "—"}</td>
              <td>{node.stats.desktopEngine === "missing" ? <span className="text-red-700">missing</span> : (node.stats.desktopEngine ?? "—")}</td>
            </tr>
          ))}
        </DataTable>
      </Card>
    </>
  );
}
