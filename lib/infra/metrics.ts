// This node's figures for Prometheus, in its text format (served on the internal listener, GET /metrics):
// counters and histograms kept where things happen (bytes relayed, audited actions, request times), gauges read
// at scrape time from what the node holds (server/node-metrics.ts). One registry per process, on globalThis as
// ./process-global.ts explains: the pages and the server are bundled apart and both count into it.

type Labels = Record<string, string>;

const labelText = (labels: Labels) => {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return pairs.length > 0 ? `{${pairs.join(",")}}` : "";
};

/** Label sets a counter keeps at most: a bug that made labels from input cannot grow it without bound. */
const labelSetsLimit = 1_000;

class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  /** The text of label sets passed again and again (a session's, on every chunk it relays), made once. */
  private readonly keys = new WeakMap<Labels, string>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  add(labels: Labels, by = 1) {
    let key = this.keys.get(labels);
    if (key === undefined) this.keys.set(labels, (key = labelText(labels)));
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else if (this.values.size < labelSetsLimit) this.values.set(key, { labels, value: by });
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, { value }] of this.values) lines.push(`${this.name}${key} ${value}`);
    return lines.join("\n");
  }
}

class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[],
  ) {}

  observe(labels: Labels, value: number) {
    const key = labelText(labels);
    let entry = this.series.get(key);
    if (!entry) {
      if (this.series.size >= labelSetsLimit) return;
      entry = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    this.buckets.forEach((bound, index) => value <= bound && (entry.counts[index]! += 1));
    entry.sum += value;
    entry.count += 1;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.series.values()) {
      this.buckets.forEach((bound, index) => lines.push(`${this.name}_bucket${labelText({ ...labels, le: String(bound) })} ${counts[index]}`));
      lines.push(`${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${sum}`);
      lines.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines.join("\n");
  }
}

function createRegistry() {
  return {
    relayedBytes: new Counter("gatehouse_relayed_bytes_total", "Bytes carried between users and targets, by protocol and direction."),
    auditEvents: new Counter("gatehouse_audit_events_total", "Audited actions, by action and outcome."),
    loginFailures: new Counter("gatehouse_login_failures_total", "Sign-ins that failed or were refused, by method."),
    freeMemoryReturned: new Counter("gatehouse_free_memory_returned_bytes_total", "Resident memory given back to the system by returning the allocator's free memory."),
    targetFirstScreenSeconds: new Histogram(
      "gatehouse_target_first_screen_seconds",
      "Time from the gateway reaching out to a target to the target's first screen (its connect, login and first drawing), by protocol: the part of a session's start that is the target's, not the gateway's.",
      [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30],
    ),
    requestSeconds: new Histogram("gatehouse_http_request_duration_seconds", "Time to answer an HTTP request, for the gateway's own pages and API and for web apps.", [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  };
}

const key = Symbol.for("gatehouse.metrics");
const holder = globalThis as unknown as Record<symbol, ReturnType<typeof createRegistry> | undefined>;
export const metrics = (holder[key] ??= createRegistry());

/** A gauge read at scrape time. */
export interface GaugeSample {
  name: string;
  help: string;
  values: { labels: Labels; value: number }[];
}

/** Everything, as Prometheus reads it: the counters and histograms, then the gauges given. */
export function renderMetrics(gauges: GaugeSample[]): string {
  const parts = Object.values(metrics).map((metric) => metric.render());
  for (const gauge of gauges) parts.push([`# HELP ${gauge.name} ${gauge.help}`, `# TYPE ${gauge.name} gauge`, ...gauge.values.map(({ labels, value }) => `${gauge.name}${labelText(labels)} ${value}`)].join("\n"));
  return `${parts.join("\n")}\n`;
}
