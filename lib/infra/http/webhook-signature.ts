// How Gatehouse signs what it POSTs to a webhook (notifications, streamed events): `X-Gatehouse-Signature:
// sha256=<hex HMAC-SHA256 of the body under the webhook's secret>`. Receivers compare it in constant time.
import { createHmac } from "node:crypto";

export const webhookSignature = (secret: string, body: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
