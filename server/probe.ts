// The `probe` purpose: can this gateway open a TCP connection to the target? Lets a user or admin tell a
// network problem from a credential problem before a session starts.
import { connect } from "node:net";
import type { ProbeResult } from "../lib/protocol/probe";
import type { SocketRoute } from "./gate";

const probeTimeoutMs = 5000;

function probe(host: string, port: number): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const connection = connect({ host, port, timeout: probeTimeoutMs });
    const finish = (result: Omit<ProbeResult, "type">) => {
      connection.destroy();
      resolve({ type: "probe.result", ...result });
    };
    connection.once("connect", () => finish({ reachable: true, milliseconds: Math.round((performance.now() - started) * 10) / 10 }));
    connection.once("timeout", () => finish({ reachable: false, error: `no answer from ${host}:${port} within ${probeTimeoutMs / 1000} s` }));
    connection.once("error", (error: NodeJS.ErrnoException) => {
      const messages: Record<string, string> = {
        ECONNREFUSED: `${host}:${port} refused the connection`,
        ENOTFOUND: `the name ${host} does not resolve`,
        EHOSTUNREACH: `${host} is unreachable from the gateway`,
      };
      finish({ reachable: false, error: messages[error.code ?? ""] ?? error.message });
    });
  });
}

export const probeRoute: SocketRoute = (socket, { target }) => {
  probe(target.host, target.port).then((result) => {
    socket.send(JSON.stringify(result));
    socket.close(1000, "probe done");
  });
};
