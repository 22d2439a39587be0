// The notifications outbox: what the gateway has to tell people (requests and approvals, risk events, finished
// video exports), written down in the same breath as the change it reports, and claimed and sent by
// server/notification-sender.ts on whichever node gets to it first.
import { and, eq, inArray, isNull, lte, or, sql } from "drizzle-orm";
import type { Database } from "./client";
import { notifications } from "./schema";

export type NotificationRow = typeof notifications.$inferSelect;
export type NewNotification = Pick<typeof notifications.$inferInsert, "kind" | "recipients" | "subject" | "body" | "payload">;
type Delivery = Partial<Pick<NotificationRow, "emailSentAt" | "webhookSentAt">>;

export async function queueNotification(db: Database, notification: NewNotification) {
  await db.insert(notifications).values(notification);
}

/**
 * Claims up to `limit` notifications owed on the channels configured, due now and tried fewer than `maxAttempts`
 * times, for `claimMs` (SKIP LOCKED: two nodes never claim the same one; a claim no one finished runs out).
 */
export async function claimDueNotifications(db: Database, channels: { email: boolean; webhook: boolean }, { limit, maxAttempts, claimMs }: { limit: number; maxAttempts: number; claimMs: number }): Promise<NotificationRow[]> {
  const owed = or(channels.email ? and(isNull(notifications.emailSentAt), sql`cardinality(${notifications.recipients}) > 0`) : undefined, channels.webhook ? isNull(notifications.webhookSentAt) : undefined);
  const due = db
    .select({ id: notifications.id })
    .from(notifications)
    .where(and(owed, lte(notifications.nextAttemptAt, new Date()), sql`${notifications.attempts} < ${maxAttempts}`))
    .orderBy(notifications.id)
    .limit(limit)
    .for("update", { skipLocked: true });
  return db
    .update(notifications)
    .set({ nextAttemptAt: new Date(Date.now() + claimMs) })
    .where(inArray(notifications.id, due))
    .returning();
}

export async function notificationSent(db: Database, id: number, sent: Delivery) {
  await db.update(notifications).set({ ...sent, lastError: null }).where(eq(notifications.id, id));
}

/** What was delivered is kept; the rest is tried again after `retryAt`. */
export async function notificationFailed(db: Database, id: number, sent: Delivery, failure: { attempts: number; retryAt: Date; error: string }) {
  await db
    .update(notifications)
    .set({ ...sent, attempts: failure.attempts, nextAttemptAt: failure.retryAt, lastError: failure.error.slice(0, 500) })
    .where(eq(notifications.id, id));
}
