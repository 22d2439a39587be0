// The audit log as security and admins read it: a page of entries with the chain's verification, and exports
// of everything a filter matches (CSV for spreadsheets, JSON Lines for a SIEM), streamed in batches.
import { audit, auditEntries, listAuditPage, type Actor } from "./audit";
import { readAuditAnchors } from "./audit-anchors";
import type { AuditFilter } from "../protocol/audit";
import { runtime } from "../infra/runtime";
import { log } from "../infra/log";

export async function readAuditLog(filter: AuditFilter, before: number | undefined, options: { wholeChain?: boolean } = {}) {
  const { db, blobStore, config, auditChecker } = runtime();
  const anchors = await readAuditAnchors({ blobStore, file: config.evidence.anchorFile });
  const [verification, page] = await Promise.all([auditChecker.check(db, anchors, { whole: options.wholeChain }), listAuditPage(db, filter, before)]);
  return { chain: verification.report, checkedFromSeq: verification.checkedFromSeq, wholeWalkedAt: verification.wholeWalkedAt, ...page };
}

const columns = ["seq", "at", "actorName", "actorId", "sourceIp", "action", "outcome", "objectType", "objectId", "details", "hash"] as const;

/** A CSV field: quoted when it must be, and never read by a spreadsheet as a formula. */
export function csvField(value: unknown) {
  let text = value === null || value === undefined ? "" : value instanceof Date ? value.toISOString() : typeof value === "object" ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The export as a stream of lines, pulled as the client reads (a slow reader holds one batch, not the log). */
export function exportAuditLog(actor: Actor, filter: AuditFilter, format: "csv" | "jsonl"): ReadableStream<Uint8Array> {
  const { db } = runtime();
  const encoder = new TextEncoder();
  const entries = auditEntries(db, filter);
  let exported = 0;
  let started = false;
  return new ReadableStream({
    async pull(controller) {
      if (!started) {
        started = true;
        // Audited before the first byte leaves: the export is a copy of the evidence.
        await audit(db, actor, { action: "audit.export", details: { format, filter: { ...filter } } });
        if (format === "csv") controller.enqueue(encoder.encode(`${columns.join(",")}\r\n`));
      }
      const lines: string[] = [];
      for (let next = await entries.next(); ; next = await entries.next()) {
        if (next.done) {
          if (lines.length > 0) controller.enqueue(encoder.encode(lines.join("")));
          return controller.close();
        }
        const entry = next.value;
        exported += 1;
        lines.push(format === "csv" ? `${columns.map((column) => csvField(entry[column])).join(",")}\r\n` : `${JSON.stringify(Object.fromEntries(columns.map((column) => [column, entry[column]])))}\n`);
        if (lines.length >= 500) return controller.enqueue(encoder.encode(lines.join("")));
      }
    },
    async cancel() {
      await entries.return(undefined);
      log.info(`audit export by ${actor.name} stopped by the client after ${exported} entries`);
    },
  });
}
