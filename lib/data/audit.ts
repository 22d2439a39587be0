// The audit log: every login, logout, admin change and connect attempt, chained with HMACs under the evidence
// key (lib/infra/evidence-keys.ts), which the database never holds: editing, inserting or deleting a row is detected
// by verifyAuditChain even when whoever did it recomputed every hash they could. The chain's head is anchored
// outside the database from time to time (lib/data/audit-anchors.ts), so cutting off the newest rows shows too.
import { createHash } from "node:crypto";
import { and, asc, desc, eq, gt, gte, ilike, lt, sql } from "drizzle-orm";
import { metrics } from "../infra/metrics";
import type { Database } from "./client";
import { auditLog } from "./schema";
import { evidenceKeys, evidenceMac, type EvidenceKeys } from "../infra/evidence-keys";
import { auditPageSize, type AuditFilter } from "../protocol/audit";
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

/** Where anchors of the chain's head say it stood (lib/data/audit-anchors.ts). */
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
  const outcome = entry.outcome ?? "success";
  metrics.auditEvents.add({ action: entry.action, outcome });
  if (entry.action === "login" && outcome !== "success") metrics.loginFailures.add({ method: String(entry.details?.method ?? "unknown").slice(0, 32) });
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
  | { intact: true; rows: number; headHash: string; anchors: number; /** Where a later walk may go on from. */ head: ChainPoint }
  | { intact: false; rows: number; brokenAtSeq: number; problem: AuditChainProblem; detail?: string };

/** A verified row of the chain: a walk may go on from it instead of from the first row. */
export interface ChainPoint {
  seq: number;
  hash: string;
  /** Rows verified up to it. */
  rows: number;
  /** Whether a signed row came before (after one, an unsigned row is a forgery). */
  keyed: boolean;
}

/**
 * Walks the chain (from the first row, or on from a point an earlier walk verified) and reports the first row
 * whose hash does not match its content (under its key), whose link does not match its predecessor, or that an
 * anchor from outside the database contradicts — including rows cut off after the last anchor that recorded them.
 */
export async function verifyAuditChain(db: Database, anchors: AuditAnchor[] = [], batchSize = 1000, from?: ChainPoint): Promise<AuditChainReport> {
  const keys = evidenceKeys();
  const anchored = new Map(anchors.map((anchor) => [anchor.seq, anchor]));
  let previousHash = from?.hash ?? genesisHash;
  let afterSeq = from?.seq ?? 0;
  let rows = from?.rows ?? 0;
  let keyed = from?.keyed ?? false;
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
  return { intact: true, rows, headHash: previousHash, anchors: anchors.length, head: { seq: afterSeq, hash: previousHash, rows, keyed } };
}

/**
 * The audit page's verification without a walk of the whole log on every load: each check goes on from the head
 * the last one verified (still there with the same hash), and the whole chain is walked again when that is older
 * than `wholeEveryMs`, so a row rewritten behind the head is found within that time.
 */
export class AuditChainChecker {
  private verified: ChainPoint | null = null;
  private wholeWalkedAt: Date | null = null;

  constructor(private readonly wholeEveryMs = 10 * 60_000) {}

  async check(db: Database, anchors: AuditAnchor[], options: { whole?: boolean } = {}) {
    const now = new Date();
    const from = options.whole || !this.wholeWalkedAt || now.getTime() - this.wholeWalkedAt.getTime() > this.wholeEveryMs ? null : await this.stillThere(db);
    const report = await verifyAuditChain(db, anchors, 1000, from ?? undefined);
    if (!from) this.wholeWalkedAt = report.intact ? now : null;
    this.verified = report.intact ? report.head : null;
    return { report, checkedFromSeq: (from?.seq ?? 0) + 1, wholeWalkedAt: this.wholeWalkedAt };
  }

  /** The verified head, if its row is still there as it was verified (its hash and its content under it). */
  private async stillThere(db: Database) {
    if (!this.verified) return null;
    const [row] = await db.select().from(auditLog).where(eq(auditLog.seq, this.verified.seq));
    if (!row || row.hash !== this.verified.hash) return null;
    const { seq: _seq, hash, ...fields } = row;
    return auditRowHash(fields, evidenceKeys()) === hash ? this.verified : null;
  }
}

function auditConditions(filter: AuditFilter) {
  return [
    filter.action ? ilike(auditLog.action, `${escapeLike(filter.action)}%`) : undefined,
    filter.actor ? ilike(auditLog.actorName, `%${escapeLike(filter.actor)}%`) : undefined,
    filter.objectType ? eq(auditLog.objectType, filter.objectType) : undefined,
    filter.objectId ? eq(auditLog.objectId, filter.objectId) : undefined,
    filter.outcome ? eq(auditLog.outcome, filter.outcome) : undefined,
    filter.from ? gte(auditLog.at, filter.from) : undefined,
    filter.to ? lt(auditLog.at, filter.to) : undefined,
  ];
}

/** One page of the log, newest first, older than entry `before`; `olderBefore` is where the next page starts, if there is one. */
export async function listAuditPage(db: Database, filter: AuditFilter, before?: number, limit = auditPageSize) {
  const rows = await db
    .select()
    .from(auditLog)
    .where(and(...auditConditions(filter), before ? lt(auditLog.seq, before) : undefined))
    .orderBy(desc(auditLog.seq))
    .limit(limit + 1);
  const entries = rows.slice(0, limit);
  return { entries, olderBefore: rows.length > limit ? entries.at(-1)!.seq : null };
}

/** Every entry the filter matches, oldest first, a batch at a time (for exports of any size). */
export async function* auditEntries(db: Database, filter: AuditFilter, batchSize = 1000) {
  let afterSeq = 0;
  for (;;) {
    const batch = await db
      .select()
      .from(auditLog)
      .where(and(...auditConditions(filter), gt(auditLog.seq, afterSeq)))
      .orderBy(asc(auditLog.seq))
      .limit(batchSize);
    yield* batch;
    if (batch.length < batchSize) return;
    afterSeq = batch.at(-1)!.seq;
  }
}
