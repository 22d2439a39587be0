// Password sign-in under a burst. Every attempt is counted before its password is hashed, in the database, so
// that a hundred attempts at once are counted as a hundred (not checked together against an empty count) and
// every node of a cluster counts the same ones. Two limits: per source address, and per account from that
// address — guessing from one place cannot lock the real admin out from another. A key that reaches its limit
// is refused for the rest of its window, and each window in a row that ends past the limit doubles the next
// (backoff, up to 16 hours). Hashing is slow on purpose: at most a few hashes run at once on a node, and an
// attempt beyond that is answered "try again shortly" without hashing, so a burst cannot starve the gateway.
import { eq, lt, sql } from "drizzle-orm";
import type { Database } from "./client";
import { loginThrottle } from "./schema";

export const loginLimits = {
  perAddress: 20,
  perAccountFromAddress: 5,
  windowMs: 15 * 60 * 1000,
  /** The window doubles at most this many times. */
  longestBackoff: 6,
  hashesAtOnce: 2,
} as const;

export type LoginAdmission = { ok: true; finish(success: boolean): Promise<void> } | { ok: false; reason: "rate_limited" | "busy" };

const addressKey = (address: string) => `address:${address}`;
const accountKey = (account: string, address: string) => `account:${account.toLowerCase()}@${address}`;

/** Counts one attempt on `key` (a new window when the last one is over); the attempts in the window so far. */
async function countAttempt(db: Database, key: string, limit: number): Promise<number> {
  const window = sql`(${loginLimits.windowMs} * power(2, least(${loginThrottle.strikes}, ${loginLimits.longestBackoff}))) * interval '1 millisecond'`;
  const over = sql`${loginThrottle.windowStartedAt} + ${window} <= now()`;
  const [row] = await db
    .insert(loginThrottle)
    .values({ key, attempts: 1, windowStartedAt: sql`now()`, strikes: 0 })
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: {
        strikes: sql`case when ${over} then (case when ${loginThrottle.attempts} > ${limit} then ${loginThrottle.strikes} + 1 else 0 end) else ${loginThrottle.strikes} end`,
        attempts: sql`case when ${over} then 1 else ${loginThrottle.attempts} + 1 end`,
        windowStartedAt: sql`case when ${over} then now() else ${loginThrottle.windowStartedAt} end`,
      },
    })
    .returning({ attempts: loginThrottle.attempts });
  return row!.attempts;
}

/**
 * Counts an API token that was not valid, per source address, with the same windows and backoff: guessing a
 * token is hopeless (256 bits), but each failure is an audit entry, and a flood of them must not become a flood
 * of entries. The number of failures in the window so far; the caller audits up to the limit and one more.
 */
export function countTokenFailure(db: Database, address: string): Promise<number> {
  return countAttempt(db, `token:${address}`, loginLimits.perAddress);
}

export function createLoginThrottle(db: Database) {
  let hashing = 0;
  return {
    /** Before hashing: counted, then admitted, refused as rate limited, or refused as busy. */
    async admit(address: string, account: string): Promise<LoginAdmission> {
      const [fromAddress, onAccount] = await Promise.all([countAttempt(db, addressKey(address), loginLimits.perAddress), countAttempt(db, accountKey(account, address), loginLimits.perAccountFromAddress)]);
      if (fromAddress > loginLimits.perAddress || onAccount > loginLimits.perAccountFromAddress) return { ok: false, reason: "rate_limited" };
      if (hashing >= loginLimits.hashesAtOnce) return { ok: false, reason: "busy" };
      hashing += 1;
      let finished = false;
      return {
        ok: true,
        async finish(success) {
          if (finished) return;
          finished = true;
          hashing -= 1;
          // The account's count from this address starts over; the address's does not (it may be spraying).
          if (success) await db.delete(loginThrottle).where(eq(loginThrottle.key, accountKey(account, address)));
        },
      };
    },
  };
}

/** Counters whose windows are long over. */
export async function deleteStaleLoginCounts(db: Database) {
  await db.delete(loginThrottle).where(lt(loginThrottle.windowStartedAt, new Date(Date.now() - 2 * 24 * 60 * 60 * 1000)));
}
