// `gatehouse nodes list`: the fleet, as the Nodes page shows it.
import type { NodeView } from "../lib/protocol/nodes";
import type { GatewayClient } from "./gateway-client";
import { amountOfData } from "../lib/domain/format";
import { moment, table, type OutputFormat } from "./output";

export async function listNodes(client: GatewayClient, format: OutputFormat) {
  const nodes = await client.json<NodeView[]>("GET", "/api/admin/nodes");
  if (format === "json") return process.stdout.write(`${JSON.stringify(nodes, null, 2)}\n`);
  process.stdout.write(
    table(
      ["NODE", "HEALTH", "VERSION", "STARTED (UTC)", "LAST HEARTBEAT", "SESSIONS", "CPU", "MEMORY"],
      nodes.map((node) => [
        node.name,
        node.health,
        `${node.version}${node.versionDrift ? " (drift)" : ""}`,
        moment(node.startedAt),
        moment(node.heartbeatAt),
        String(Object.values(node.stats.sessions).reduce((sum, count) => sum + count, 0)),
        node.stats.cpuPercent === undefined ? "—" : `${node.stats.cpuPercent.toFixed(0)}%`,
        node.stats.rssBytes === undefined ? "—" : amountOfData(node.stats.rssBytes),
      ]),
    ),
  );
}
