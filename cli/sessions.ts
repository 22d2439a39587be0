// `gatehouse sessions …`: the Sessions page's list with its filters, a live session in the terminal (read-only),
// and security's controls.
import WebSocket from "ws";
import { watchServerMessageSchema } from "../lib/protocol/live";
import type { TicketResponse } from "../lib/protocol/tickets";
import { CliError, type GatewayClient } from "./gateway-client";
import { duration, moment, table, type OutputFormat } from "./output";

interface SessionRow {
  id: string;
  username: string;
  targetName: string;
  protocol: string;
  node: string;
  status: string;
  startedAt: string;
  endedAt: string | null;
  endReason: string | null;
  riskScore: number;
  recorded: boolean;
}

export interface SessionFilters {
  user?: string;
  target?: string;
  node?: string;
  protocol?: string;
  status?: string;
  from?: string;
  to?: string;
  risky?: boolean;
  sort?: string;
}

/** Pages through the list (the gateway's `Link: rel="next"`) until `limit` rows. */
export async function listSessions(client: GatewayClient, filters: SessionFilters, limit: number, format: OutputFormat) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value !== undefined && name !== "risky") query.set(name, String(value));
  if (filters.risky) query.set("risk", "risky");
  const rows: SessionRow[] = [];
  let next: string | null = `/api/sessions?${query}`;
  while (next && rows.length < limit) {
    const response = await client.request("GET", next);
    rows.push(...((await response.json()) as SessionRow[]));
    next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get("link") ?? "")?.[1] ?? null;
  }
  const shown = rows.slice(0, limit);
  if (format === "json") return process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  process.stdout.write(
    table(
      ["ID", "USER", "TARGET", "PROTOCOL", "STATUS", "STARTED (UTC)", "LENGTH", "NODE", "RISK"],
      shown.map((row) => [
        row.id,
        row.username,
        row.targetName,
        row.protocol,
        row.status === "ended" ? (row.endReason === "interrupted" ? "interrupted" : "ended") : row.status,
        moment(row.startedAt),
        duration(row.startedAt, row.endedAt),
        row.node,
        String(row.riskScore),
      ]),
    ),
  );
  if (next) process.stderr.write(`(more sessions match: raise --limit to see them)\n`);
}

/** Security's controls, as on the Live page; the reason goes to the audit log and to the person. */
export async function controlSession(client: GatewayClient, id: string, action: "lock" | "unlock" | "terminate", reason: string) {
  await client.json("POST", `/api/sessions/${encodeURIComponent(id)}/control`, { action, reason });
  process.stderr.write(`${action === "lock" ? "Locked" : action === "unlock" ? "Unlocked" : "Terminated"} session ${id}.\n`);
}

/**
 * A live terminal session in this terminal, read-only, as security's watch page shows it: the screen as it is
 * now, then everything the user sees. Ctrl-C stops watching; the session goes on.
 */
export async function watchSession(client: GatewayClient, id: string): Promise<number> {
  const ticket = await client.json<TicketResponse>("POST", "/api/tickets", { purpose: "watch", sessionId: id });
  const address = new URL(ticket.url, client.url);
  address.protocol = address.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(address, { headers: { authorization: client.authorization }, maxPayload: 8 * 1024 * 1024 });
  return new Promise<number>((resolve) => {
    let outcome: { code: number; note: string } | null = null;
    let state: string | null = null;
    const stop = () => socket.close(1000, "watcher left");
    process.once("SIGINT", stop);
    socket.on("message", (data, isBinary) => {
      if (isBinary) return void process.stdout.write(data as Buffer);
      const parsed = watchServerMessageSchema.safeParse(jsonOrNull(String(data)));
      if (!parsed.success) return;
      const message = parsed.data;
      if (message.type === "joined") process.stderr.write(`Watching ${message.session.username} on ${message.session.targetName} (${message.session.protocol}, node ${message.session.node}), read-only. Ctrl-C stops watching.\n`);
      else if (message.type === "page" || message.type === "desktop") {
        outcome = { code: 2, note: `only terminal sessions can be watched here: open ${new URL(`/live/${id}`, client.url)} in a browser` };
        socket.close(1000, "not a terminal");
      } else if (message.type === "state") {
        // The state on joining is not news; a change is, said as security's controls name it.
        if (state !== null && message.state !== state) {
          const change = message.state === "active" ? (state === "locked" ? "unlocked" : "resumed") : message.state;
          process.stderr.write(`\r\n[session ${change}${message.by ? ` by ${message.by}` : ""}${message.reason ? `: ${message.reason}` : ""}]\r\n`);
        }
        state = message.state;
      } else if (message.type === "ended") outcome = { code: 0, note: `The session ended: ${message.message}` };
      else if (message.type === "error") outcome = { code: 1, note: message.message };
    });
    socket.on("error", (error) => {
      outcome ??= { code: 1, note: `the watch connection failed: ${error.message}` };
    });
    socket.on("close", (code, reason) => {
      process.off("SIGINT", stop);
      if (!outcome && code >= 4000) outcome = { code: 1, note: `refused: ${reason.toString()}` };
      if (outcome?.note) process.stderr.write(`\r\n${outcome.note}\n`);
      resolve(outcome?.code ?? 0);
    });
  });
}

function jsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export async function findSession(client: GatewayClient, id: string) {
  return client.json<SessionRow>("GET", `/api/sessions/${encodeURIComponent(id)}`);
}

export function requireId(id: string | undefined, usage: string): string {
  if (!id) throw new CliError(`a session id is needed: ${usage}`, 2);
  return id;
}
