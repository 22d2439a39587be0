// Connect tickets: the only way to open a session WebSocket. Minted by an API route after the access check,
// bound to one user, target and purpose, valid for seconds, usable once. Stored hashed, so they work on
// whichever node the WebSocket lands on.
import { createHash, randomBytes } from "node:crypto";
import { and, eq, isNull, lt } from "drizzle-orm";
import type { Database } from "./client";
import { connectTickets } from "./schema";
import type { ConnectPurpose } from "../protocol/domain";

const hashTicket = (ticket: string) => createHash("sha256").update(ticket).digest("hex");

export interface TicketBinding {
  userId: string;
  targetId: string;
  purpose: ConnectPurpose;
  /** For `watch`: the session it shows; for `app`, the web session it hands over. */
  sessionId?: string | null;
  /** For `app`: SHA-256 of the state cookie of the browser the handoff belongs to. */
  browserBinding?: string | null;
}

export async function mintConnectTicket(db: Database, binding: TicketBinding, ttlSeconds: number) {
  const ticket = randomBytes(32).toString("base64url");
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  await db.insert(connectTickets).values({ ticketHash: hashTicket(ticket), ...binding, expiresAt });
  return { ticket, expiresAt };
}

export type TicketRedemption = { ok: true; binding: TicketBinding } | { ok: false; reason: "unknown" | "used" | "expired" };

/**
 * Marks the ticket used whatever happens next, so a ticket can never be tried twice. A ticket bound to a browser
 * is redeemed only with that binding: anyone else's attempt neither uses it nor learns anything.
 */
export async function redeemConnectTicket(db: Database, ticket: string, browserBinding?: string): Promise<TicketRedemption> {
  const ticketHash = hashTicket(ticket);
  const now = new Date();
  const [redeemed] = await db
    .update(connectTickets)
    .set({ usedAt: now })
    .where(and(eq(connectTickets.ticketHash, ticketHash), isNull(connectTickets.usedAt), browserBinding === undefined ? isNull(connectTickets.browserBinding) : eq(connectTickets.browserBinding, browserBinding)))
    .returning();
  if (!redeemed) {
    const [existing] = await db.select({ usedAt: connectTickets.usedAt }).from(connectTickets).where(eq(connectTickets.ticketHash, ticketHash));
    return { ok: false, reason: existing ? "used" : "unknown" };
  }
  if (redeemed.expiresAt <= now) return { ok: false, reason: "expired" };
  return { ok: true, binding: { userId: redeemed.userId, targetId: redeemed.targetId, purpose: redeemed.purpose, sessionId: redeemed.sessionId, browserBinding: redeemed.browserBinding } };
}

/** Tickets live seconds; keep the table small. */
export async function deleteStaleConnectTickets(db: Database, olderThan: Date) {
  await db.delete(connectTickets).where(lt(connectTickets.expiresAt, olderThan));
}
