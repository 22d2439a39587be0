// Each sink's place in the stream, kept in the database so that a restart, or another node, carries on where
// delivery stopped. One node sends to a sink at a time: it holds the sink's lease, renewed as it works; a lease
// left to expire (its node died) is taken by the next node that tries.
import { and, asc, count, eq, gt, isNull, lt, lte, max, min, or, sql } from "drizzle-orm";
import type { Database } from "./client";
import { streamCursors, streamEvents } from "./schema";
import type { StreamEventRow } from "../infra/event-stream/events";

export const leaseMs = 15_000;

/** A sink seen for the first time starts at the end of the stream: it gets what happens from now on. */
export async function ensureCursor(db: Database, sink: string) {
  const [newest] = await db.select({ seq: max(streamEvents.seq) }).from(streamEvents);
  await db
    .insert(streamCursors)
    .values({ sink, deliveredSeq: Number(newest?.seq ?? 0) })
    .onConflictDoNothing();
}

/** Takes or renews the lease; the sink's delivered position when this node holds it, null when another does. */
export async function takeLease(db: Database, sink: string, node: string): Promise<number | null> {
  const [row] = await db
    .update(streamCursors)
    .set({ leaseNode: node, leaseUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})` })
    .where(and(eq(streamCursors.sink, sink), or(eq(streamCursors.leaseNode, node), isNull(streamCursors.leaseUntil), lt(streamCursors.leaseUntil, sql`now()`))))
    .returning({ deliveredSeq: streamCursors.deliveredSeq });
  return row ? Number(row.deliveredSeq) : null;
}

/** Moves the sink's position on, if this node still holds its lease; false when it lost it meanwhile. */
export async function markDelivered(db: Database, sink: string, node: string, seq: number): Promise<boolean> {
  const updated = await db
    .update(streamCursors)
    .set({ deliveredSeq: seq, deliveredAt: new Date(), lastError: null, lastErrorAt: null })
    .where(and(eq(streamCursors.sink, sink), eq(streamCursors.leaseNode, node), lte(streamCursors.deliveredSeq, seq)))
    .returning({ sink: streamCursors.sink });
  return updated.length > 0;
}

export async function noteSinkError(db: Database, sink: string, message: string) {
  await db.update(streamCursors).set({ lastError: message.slice(0, 500), lastErrorAt: new Date() }).where(eq(streamCursors.sink, sink));
}

export async function releaseLease(db: Database, sink: string, node: string) {
  await db.update(streamCursors).set({ leaseNode: null, leaseUntil: null }).where(and(eq(streamCursors.sink, sink), eq(streamCursors.leaseNode, node)));
}

export async function eventsAfter(db: Database, seq: number, limit: number): Promise<StreamEventRow[]> {
  const rows = await db.select().from(streamEvents).where(gt(streamEvents.seq, seq)).orderBy(asc(streamEvents.seq)).limit(limit);
  return rows.map((row) => ({ seq: Number(row.seq), at: row.at, kind: row.kind, payload: row.payload }));
}

export interface SinkState {
  sink: string;
  deliveredSeq: number;
  deliveredAt: string | null;
  /** Events written after the sink's position, not yet sent (or filtered out). */
  backlog: number;
  sendingNode: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
}

export async function sinkStates(db: Database, sinks: string[]): Promise<SinkState[]> {
  const states: SinkState[] = [];
  for (const sink of sinks) {
    const [cursor] = await db.select().from(streamCursors).where(eq(streamCursors.sink, sink));
    const position = Number(cursor?.deliveredSeq ?? 0);
    const [pending] = cursor ? await db.select({ count: count() }).from(streamEvents).where(gt(streamEvents.seq, position)) : [{ count: 0 }];
    const leased = cursor?.leaseUntil && cursor.leaseUntil.getTime() > Date.now() ? cursor.leaseNode : null;
    states.push({
      sink,
      deliveredSeq: position,
      deliveredAt: cursor?.deliveredAt?.toISOString() ?? null,
      backlog: Number(pending?.count ?? 0),
      sendingNode: leased,
      lastError: cursor?.lastError ?? null,
      lastErrorAt: cursor?.lastErrorAt?.toISOString() ?? null,
    });
  }
  return states;
}

/**
 * Drops events every sink has (those older than an hour; or, with no sink delivered to this week, older than a
 * day): the stream is a queue, not an archive (the audit log is that).
 */
export async function deleteDeliveredEvents(db: Database) {
  const [lowest] = await db
    .select({ seq: min(streamCursors.deliveredSeq) })
    .from(streamCursors)
    // A sink still in use: delivered to, or tried, this week, or new. One removed from the configuration stops
    // holding events back after a week.
    .where(or(gt(streamCursors.deliveredAt, sql`now() - interval '7 days'`), gt(streamCursors.lastErrorAt, sql`now() - interval '7 days'`), isNull(streamCursors.deliveredAt)));
  const cutoff = lowest?.seq === null || lowest?.seq === undefined ? sql`now() - interval '1 day'` : sql`now() - interval '1 hour'`;
  const below = lowest?.seq === null || lowest?.seq === undefined ? undefined : lte(streamEvents.seq, Number(lowest.seq));
  await db.delete(streamEvents).where(and(lt(streamEvents.at, cutoff), below));
}
