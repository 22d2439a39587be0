// Anchoring the audit chain outside the database. The chain's HMACs stop a database writer from editing or
// inserting rows, but not from cutting off the newest ones (the chain still links up to its new end). So every
// few minutes each node writes the chain's head (last row, its hash, its time) to sinks outside the database:
// the blob store (one object per anchor, never overwritten; S3 Object Lock makes it write-once) and a local
// append-only file (ANCHOR_FILE; `chattr +a` or a WORM mount makes it so). Verification then knows how far the
// chain reached and what it said there.
import { appendFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { desc, sql } from "drizzle-orm";
import { z } from "zod";
import { chainLockKey, type AuditAnchor } from "./audit";
import type { BlobStore } from "../infra/blob-store";
import type { Database } from "./client";
import { auditLog } from "./schema";
import { log } from "../infra/log";

const anchorPrefix = "anchors/audit/";
/** The anchors verification reads: the newest ones (truncation is what anchors exist to catch). */
const anchorsRead = 100;

const anchorSchema = z.object({ seq: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/), at: z.string().max(40), node: z.string().max(64) });

export interface AnchorSinks {
  blobStore: BlobStore;
  file: string;
}

/** Writes the chain's head to every sink, unless it is the head this node anchored last; returns what it wrote. */
export async function anchorAuditHead(db: Database, sinks: AnchorSinks, node: string, lastAnchoredSeq: number): Promise<AuditAnchor | null> {
  // Read under the chain's append lock, like an append: whoever holds it (an append, or a test that stands in for
  // an insider rewriting rows and putting them back) is never caught half-way.
  const [head] = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${chainLockKey})`);
    return tx.select({ seq: auditLog.seq, hash: auditLog.hash, at: auditLog.at }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  });
  if (!head || head.seq === lastAnchoredSeq) return null;
  const anchor = { seq: head.seq, hash: head.hash, at: head.at.toISOString(), node };
  const line = JSON.stringify(anchor);
  await sinks.blobStore.put(`${anchorPrefix}${String(head.seq).padStart(14, "0")}-${node.replace(/[^a-z0-9._-]/gi, "_")}-${Date.now()}.json`, Buffer.from(line));
  await mkdir(path.dirname(sinks.file), { recursive: true });
  await appendFile(sinks.file, `${line}\n`, { mode: 0o600 });
  return anchor;
}

/** The newest anchors from every sink (what an insider removed from one sink may still be in the other). */
export async function readAuditAnchors(sinks: AnchorSinks): Promise<AuditAnchor[]> {
  const found: AuditAnchor[] = [];
  const keep = (text: string) => {
    try {
      const parsed = anchorSchema.safeParse(JSON.parse(text));
      if (parsed.success) found.push(parsed.data);
    } catch {
      // A line that is not an anchor is not evidence of anything: skipped.
    }
  };
  for (const key of (await sinks.blobStore.list(anchorPrefix)).slice(-anchorsRead)) keep((await sinks.blobStore.get(key)).toString("utf8"));
  const lines = await readFile(sinks.file, "utf8").catch(() => "");
  for (const line of lines.split("\n").filter(Boolean).slice(-anchorsRead)) keep(line);
  return found;
}

/** Anchors the head every `everyMs` on this node. */
export function startAuditAnchoring(db: Database, sinks: AnchorSinks, node: string, everyMs: number) {
  let lastSeq = 0;
  const anchor = () =>
    anchorAuditHead(db, sinks, node, lastSeq).then(
      (written) => {
        if (written) lastSeq = written.seq;
      },
      (error) => log.error({ err: error }, "anchoring the audit chain failed"),
    );
  void anchor();
  const timer = setInterval(anchor, everyMs).unref();
  return { stop: () => clearInterval(timer), anchorNow: anchor };
}
