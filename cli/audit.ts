// `gatehouse audit tail`: the newest entries of the audit log, and with --follow every new one as it is written
// (the requests this command itself makes to follow are left out).
import { setTimeout as sleep } from "node:timers/promises";
import type { Caller } from "../lib/protocol/api-tokens";
import type { GatewayClient } from "./gateway-client";
import { moment, type OutputFormat } from "./output";

interface AuditEntry {
  seq: number;
  at: string;
  actorName: string;
  sourceIp: string | null;
  action: string;
  outcome: string;
  objectType: string | null;
  objectId: string | null;
  details: Record<string, unknown> | null;
}

interface AuditPage {
  entries: AuditEntry[];
  olderBefore: number | null;
}

const followEveryMs = 2000;

function print(entry: AuditEntry, format: OutputFormat) {
  if (format === "json") return process.stdout.write(`${JSON.stringify(entry)}\n`);
  const object = entry.objectType ? ` ${entry.objectType}:${entry.objectId ?? ""}` : "";
  const details = entry.details && Object.keys(entry.details).length > 0 ? ` ${JSON.stringify(entry.details)}` : "";
  process.stdout.write(`${String(entry.seq).padStart(7)}  ${moment(entry.at)}  ${entry.actorName.padEnd(12)}  ${entry.action} ${entry.outcome}${object}${details}\n`);
}

/** Entries newer than `afterSeq`, oldest first, paging back as far as needed. */
async function entriesAfter(client: GatewayClient, filter: URLSearchParams, afterSeq: number): Promise<AuditEntry[]> {
  const found: AuditEntry[] = [];
  let before: number | null = null;
  for (;;) {
    const query = new URLSearchParams(filter);
    if (before !== null) query.set("before", String(before));
    const page = await client.json<AuditPage>("GET", `/api/admin/audit?${query}`);
    const newer = page.entries.filter((entry) => entry.seq > afterSeq);
    found.push(...newer);
    if (newer.length < page.entries.length || page.olderBefore === null || afterSeq === 0) break;
    before = page.olderBefore;
  }
  return found.reverse();
}

export async function tailAudit(client: GatewayClient, options: { lines: number; follow: boolean; action?: string; actor?: string; format: OutputFormat }) {
  const filter = new URLSearchParams();
  if (options.action) filter.set("action", options.action);
  if (options.actor) filter.set("actor", options.actor);
  const me = options.follow ? await client.json<Caller>("GET", "/api/me") : null;
  const ownPolling = (entry: AuditEntry) => entry.action === "api.request" && me?.token !== null && entry.objectId === me?.token?.id && entry.details?.path === "/api/admin/audit";
  const newest = await entriesAfter(client, filter, 0);
  const shown = newest.filter((entry) => !ownPolling(entry)).slice(-options.lines);
  for (const entry of shown) print(entry, options.format);
  if (!options.follow) return;
  let lastSeq = newest.at(-1)?.seq ?? 0;
  let stopped = false;
  process.once("SIGINT", () => (stopped = true));
  while (!stopped) {
    await sleep(followEveryMs);
    if (stopped) break;
    const fresh = await entriesAfter(client, filter, lastSeq);
    for (const entry of fresh) if (!ownPolling(entry)) print(entry, options.format);
    lastSeq = fresh.at(-1)?.seq ?? lastSeq;
  }
}
