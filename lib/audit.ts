// The audit log: every login, logout, admin change and connect attempt, hash-chained so that editing,
// inserting or deleting a row is detected by verifyAuditChain.
import { createHash } from "node:crypto";
import { and, asc, desc, gt, ilike, sql } from "drizzle-orm";
import type { Database } from "./db/client";
import { auditLog } from "./db/schema";
import { escapeLike } from "./sql-text";

export interface Actor {
  id: string | null;
  name: string;
  sourceIp: string | null;
}

export const systemActor: Actor = { id: null, name: "system", sourceIp: null };

export interface AuditEntry {
  action: string;
  outcome?: "success" | "failure" | "refused";
  objectType?: string;
  objectId?: string;
  details?: Record<string, unknown>;
}

export const genesisHash = "0".repeat(64);
/** Serializes appends across connections and nodes: a chain has one writer at a time. */
const chainLockKey = 0x6761746568;

type AuditRow = typeof auditLog.$inferSelect;
type ChainedFields = Omit<AuditRow, "seq" | "hash">;

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

export function auditRowHash(row: ChainedFields): string {
  const { prevHash, ...content } = row;
  return createHash("sha256").update(prevHash).update("\n").update(canonicalJson(content)).digest("hex");
}

export async function audit(db: Database, actor: Actor, entry: AuditEntry): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${chainLockKey})`);
    const [last] = await tx.select({ hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
    const row: ChainedFields = {
      at: new Date(),
      actorId: actor.id,
      actorName: actor.name,
      sourceIp: actor.sourceIp,
      action: entry.action,
      outcome: entry.outcome ?? "success",
      objectType: entry.objectType ?? null,
      objectId: entry.objectId ?? null,
      details: entry.details ?? {},
      prevHash: last?.hash ?? genesisHash,
    };
    await tx.insert(auditLog).values({ ...row, hash: auditRowHash(row) });
  });
}

export type AuditChainReport =
  | { intact: true; rows: number; headHash: string }
  | { intact: false; rows: number; brokenAtSeq: number; problem: "content changed" | "link broken" };

/**
 * Walks the chain from the first row and reports the first row whose hash does not match its content or whose
 * link does not match its predecessor. Truncating the newest rows is not detectable from inside the chain:
 * keep the reported headHash somewhere else (a ticket, a SIEM) to catch that too.
 */
export async function verifyAuditChain(db: Database, batchSize = 1000): Promise<AuditChainReport> {
  let previousHash = genesisHash;
  let afterSeq = 0;
  let rows = 0;
  for (;;) {
    const batch = await db.select().from(auditLog).where(gt(auditLog.seq, afterSeq)).orderBy(asc(auditLog.seq)).limit(batchSize);
    for (const { seq, hash, ...fields } of batch) {
      if (fields.prevHash !== previousHash) return { intact: false, rows, brokenAtSeq: seq, problem: "link broken" };
      if (auditRowHash(fields) !== hash) return { intact: false, rows, brokenAtSeq: seq, problem: "content changed" };
      previousHash = hash;
      afterSeq = seq;
      rows += 1;
    }
    if (batch.length < batchSize) return { intact: true, rows, headHash: previousHash };
  }
}

/** What the audit page and API can narrow the log to: an action (or its start, `recording.`) and an actor. */
export interface AuditFilter {
  action?: string;
  actor?: string;
}

export async function listAuditEntries(db: Database, limit: number, filter: AuditFilter = {}) {
  const conditions = [
    filter.action ? ilike(auditLog.action, `${escapeLike(filter.action)}%`) : undefined,
    filter.actor ? ilike(auditLog.actorName, `%${escapeLike(filter.actor)}%`) : undefined,
  ];
  return db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.seq))
    .limit(limit);
}
