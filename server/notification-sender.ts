// Sends what lib/data/governance/notify.ts wrote down: e-mail over SMTP and a signed JSON POST to the webhook. Each node
// claims a few due notifications at a time (SKIP LOCKED, so two nodes never send the same one at once), and a
// failure is retried with a growing delay; nothing here ever waits inside a user's request.
import nodemailer from "nodemailer";
import { claimDueNotifications, notificationFailed, notificationSent, type NotificationRow } from "../lib/data/notifications";
import { webhookSignature } from "../lib/infra/http/webhook-signature";
import type { Runtime } from "../lib/infra/runtime";
import { log } from "../lib/infra/log";

const sendEveryMs = 1000;
const batchSize = 20;
const maxAttempts = 12;
const sendTimeoutMs = 10_000;
/** A claimed notification that no sender finished (the node died) is due again after this long. */
const claimMs = 60_000;

export function startNotificationSender({ db, config }: Runtime) {
  const { smtpUrl, smtpFrom, webhook } = config.notifications;
  const channels = { email: smtpUrl !== undefined, webhook: webhook !== undefined };
  const mailer = smtpUrl ? nodemailer.createTransport(smtpUrl, { connectionTimeout: sendTimeoutMs, greetingTimeout: sendTimeoutMs, socketTimeout: sendTimeoutMs }) : null;

  async function sendOne(notification: NotificationRow) {
    const sent: Partial<Pick<NotificationRow, "emailSentAt" | "webhookSentAt">> = {};
    try {
      if (mailer && !notification.emailSentAt && notification.recipients.length > 0) {
        const link = new URL(String(notification.payload.link ?? "/"), config.publicUrl).href;
        await mailer.sendMail({ from: smtpFrom, to: notification.recipients, subject: notification.subject, text: `${notification.body}\n\n${link}\n` });
        sent.emailSentAt = new Date();
      }
      if (webhook && !notification.webhookSentAt) {
        const body = JSON.stringify({ id: notification.id, ...notification.payload });
        const response = await fetch(webhook.url, {
          method: "POST",
          redirect: "manual",
          signal: AbortSignal.timeout(sendTimeoutMs),
          headers: { "content-type": "application/json", "x-gatehouse-event": notification.kind, "x-gatehouse-delivery": String(notification.id), "x-gatehouse-signature": webhookSignature(webhook.secret, body) },
          body,
        });
        await response.body?.cancel();
        if (!response.ok) throw new Error(`the webhook answered ${response.status}`);
        sent.webhookSentAt = new Date();
      }
      await notificationSent(db, notification.id, sent);
    } catch (error) {
      const attempts = notification.attempts + 1;
      const delayMs = Math.min(10 * 60_000, 2 ** attempts * 1000);
      const message = error instanceof Error ? error.message : String(error);
      await notificationFailed(db, notification.id, sent, { attempts, retryAt: new Date(Date.now() + delayMs), error: message });
      log.error(`notification ${notification.id} (${notification.kind}) not sent, attempt ${attempts} of ${maxAttempts}: ${message}`);
    }
  }

  let sending = false;
  const timer = setInterval(() => {
    if (sending || (!channels.email && !channels.webhook)) return;
    sending = true;
    claimDueNotifications(db, channels, { limit: batchSize, maxAttempts, claimMs })
      .then((due) => Promise.all(due.map(sendOne)))
      .catch((error) => log.error({ err: error }, "sending notifications failed"))
      .finally(() => (sending = false));
  }, sendEveryMs).unref();
  return {
    stop: () => {
      clearInterval(timer);
      mailer?.close();
    },
  };
}
