// What one web session's pages may send the gateway: the recorder in a page is the page's own code, so a
// hostile or broken page must not be able to spend the gateway's memory, CPU, disk or database on it. Rates are
// token buckets that may go into debt: a batch already received is recorded, and the page's sockets then stay
// paused (TCP holds the rest in the browser) until the debt is paid off.

export const pageLimits = {
  /** Events per second, and the burst a page load or a full snapshot may take at once. */
  eventsPerSecond: 5_000,
  eventBurst: 50_000,
  /** Bytes per second of events as received, and their burst. */
  bytesPerSecond: 4 * 1024 * 1024,
  byteBurst: 32 * 1024 * 1024,
  /** Full snapshots per minute that open a chunk of their own (seek points); more are stored inline. */
  snapshotsPerMinute: 20,
  /** Navigations per minute put on the timeline; more are counted in one line. */
  navigationsPerMinute: 60,
  /** Bytes of events one session may store; past it the recording stops and the timeline says so. */
  storedBytesPerSession: 1024 * 1024 * 1024,
  /** Events not yet stored, past which the pages are paused until the chunk writer has caught up. */
  unstoredBytes: 16 * 1024 * 1024,
  /** A page whose debt would take longer than this to pay off is cut off instead of paused. */
  longestPauseMs: 30_000,
} as const;

class Bucket {
  private tokens: number;
  private at = Date.now();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Takes `amount` (possibly into debt); returns how long until the bucket is out of debt, in ms. */
  take(amount: number): number {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    this.tokens -= amount;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
  }
}

/** A count per minute: whether one more is within the allowance, and whether it is the first one past it. */
class PerMinute {
  private minute = 0;
  private count = 0;

  constructor(readonly allowance: number) {}

  take(): { allowed: boolean; firstPast: boolean } {
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.count = 0;
    }
    this.count += 1;
    return { allowed: this.count <= this.allowance, firstPast: this.count === this.allowance + 1 };
  }
}

export class PageEventBudget {
  private readonly events = new Bucket(pageLimits.eventsPerSecond, pageLimits.eventBurst);
  private readonly bytes = new Bucket(pageLimits.bytesPerSecond, pageLimits.byteBurst);
  readonly snapshots = new PerMinute(pageLimits.snapshotsPerMinute);
  readonly navigations = new PerMinute(pageLimits.navigationsPerMinute);

  /** A batch arrived: how long the pages must now wait before the next is read (0: not at all). */
  spend(eventCount: number, byteCount: number): number {
    return Math.max(this.events.take(eventCount), this.bytes.take(byteCount));
  }
}
