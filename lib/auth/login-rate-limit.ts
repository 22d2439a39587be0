// Slows password guessing: failed sign-ins are counted per source address and per account over a sliding
// window; past the limit every attempt is refused before the password is even hashed. Kept in this node's
// memory: in a cluster each node limits on its own, which still bounds guessing to nodes × limit.
const windowMs = 15 * 60 * 1000;
const limits = { perAccount: 5, perAddress: 20 };

export class LoginRateLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  private recent(key: string): number[] {
    const cutoff = this.now() - windowMs;
    const kept = (this.failures.get(key) ?? []).filter((at) => at > cutoff);
    if (kept.length === 0) this.failures.delete(key);
    else this.failures.set(key, kept);
    return kept;
  }

  isBlocked(address: string, account: string): boolean {
    return this.recent(`account:${account}`).length >= limits.perAccount || this.recent(`address:${address}`).length >= limits.perAddress;
  }

  recordFailure(address: string, account: string): void {
    for (const key of [`account:${account}`, `address:${address}`]) this.failures.set(key, [...this.recent(key), this.now()]);
  }

  recordSuccess(account: string): void {
    this.failures.delete(`account:${account}`);
  }
}
