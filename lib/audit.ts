// The audit log: every login, logout, admin change and connect attempt, chained with HMACs under the evidence
// key (lib/evidence-keys.ts), which the database never holds: editing, inserting or deleting a row is detected
// by verifyAuditChain even when whoever did it recomputed every hash they could. The chain's head is anchored
// outside the database from time to time (lib/audit-anchors.ts), so cutting off the newest rows shows too.
import { createHash } from "node:crypto";
import { and, asc, desc, gt, ilike, sql } from "drizzle-orm";
import type { Database } from "./db/client";
import { auditLog } from "./db/schema";
import { evidenceKeys, evidenceMac, type EvidenceKeys } from "./evidence-keys";
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
export const chainLockKey = 0x6761746568;

type AuditRow = typeof auditLog.$inferSelect;
type ChainedFields = Omit<AuditRow, "seq" | "hash">;

/** Where anchors of the chain's head say it stood (lib/audit-anchors.ts). */
export interface AuditAnchor {
  seq: number;
  hash: string;
  at: string;
}

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

/** A row's hash: an HMAC under the key it names, or (rows from before keys) a plain SHA-256; null for a key not held. */
export function auditRowHash(row: ChainedFields, keys: EvidenceKeys): string | null {
  const { prevHash, ...content } = row;
  if (row.keyId === null) return createHash("sha256").update(prevHash).update("\n").update(canonicalJson(content)).digest("hex");
  const key = keys.byId(row.keyId);
  return key ? evidenceMac(key, "audit", [prevHash, canonicalJson(content)]) : null;
}

export async function audit(db: Database, actor: Actor, entry: AuditEntry): Promise<void> {
  const keys = evidenceKeys();
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
      keyId: keys.current.id,
    };
    await tx.insert(auditLog).values({ ...row, hash: auditRowHash(row, keys)! });
  });
}

export type AuditChainProblem =
  | "content changed"
  | "link broken"
  /** A row without a key after keyed rows: written by someone who could only compute a plain hash. */
  | "unsigned row"
  /** Signed with a key this gateway does not hold (rotated out and not listed in AUDIT_KEYS_PREVIOUS). */
  | "unknown key"
  /** An anchor recorded a row the database no longer has: the newest rows were cut off. */
  | "truncated"
  /** An anchor recorded another hash for this row: the chain was rewritten from here on. */
  | "anchor mismatch";

export type AuditChainReport =
  | { intact: true; rows: number; headHash: string; anchors: number }
  | { intact: false; rows: number; brokenAtSeq: number; problem: AuditChainProblem; detail?: string };

/**
 * Walks the chain from the first row and reports the first row whose hash does not match its content (under its
 * key), whose link does not match its predecessor, or that an anchor from outside the database contradicts —
 * including rows cut off after the last anchor that recorded them.
 */
export async function verifyAuditChain(db: Database, anchors: AuditAnchor[] = [], batchSize = 1000): Promise<AuditChainReport> {
  const keys = evidenceKeys();
  const anchored = new Map(anchors.map((anchor) => [anchor.seq, anchor]));
  let previousHash = genesisHash;
  let afterSeq = 0;
  let rows = 0;
  let keyed = false;
  for (;;) {
    const batch = await db.select().from(auditLog).where(gt(auditLog.seq, afterSeq)).orderBy(asc(auditLog.seq)).limit(batchSize);
    for (const { seq, hash, ...fields } of batch) {
      const broken = (problem: AuditChainProblem, detail?: string): AuditChainReport => ({ intact: false, rows, brokenAtSeq: seq, problem, ...(detail ? { detail } : {}) });
      if (fields.prevHash !== previousHash) return broken("link broken");
      if (fields.keyId === null && keyed) return broken("unsigned row");
      const expected = auditRowHash(fields, keys);
      if (expected === null) return broken("unknown key", `signed with key ${fields.keyId}`);
      if (expected !== hash) return broken("content changed");
      const anchor = anchored.get(seq);
      if (anchor && anchor.hash !== hash) return broken("anchor mismatch", `anchored at ${anchor.at} with another hash`);
      keyed ||= fields.keyId !== null;
      previousHash = hash;
      afterSeq = seq;
      rows += 1;
    }
    if (batch.length < batchSize) break;
  }
  const beyond = anchors.filter((anchor) => anchor.seq > afterSeq).sort((a, b) => b.seq - a.seq)[0];
  if (beyond) return { intact: false, rows, brokenAtSeq: afterSeq + 1, problem: "truncated", detail: `the chain ends at #${afterSeq}, but #${beyond.seq} was anchored at ${beyond.at}` };
  return { intact: true, rows, headHash: previousHash, anchors: anchors.length };
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
