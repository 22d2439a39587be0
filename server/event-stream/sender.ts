// Streams the event outbox (stream_events) to every sink in SIEM_SINKS, in order, at least once. Each sink has its
// own position in the database and its own lease, so one node sends to it at a time; a node that stops is
// replaced by the next that holds the same configuration, from the last position it recorded.
import type { DatabaseHandle } from "../../lib/data/client";
import { deleteDeliveredEvents, ensureCursor, eventsAfter, markDelivered, noteSinkError, releaseLease, takeLease } from "../../lib/data/stream-cursors";
import { formatEvent, streamEvent, syslogFrame, wanted } from "../../lib/infra/event-stream/events";
import type { SinkConfig } from "../../lib/infra/event-stream/sinks";
import { log } from "../../lib/infra/log";
import type { Runtime } from "../../lib/infra/runtime";
import { createTransport, type Transport } from "./transports";

const tickMs = 500;
const batchSize = 500;
const longestBackoffMs = 30_000;

class SinkSender {
  private transport: Transport;
  /** The last event handed to the transport; null: read the sink's position from the database. */
  private position: number | null = null;
  private failures = 0;
  private retryAt = 0;

  constructor(
    private readonly runtime: Runtime,
    private readonly sink: SinkConfig,
    private readonly version: string,
  ) {
    this.transport = createTransport(sink);
  }

  /** One round: renew the lease, record what was delivered, send what is new. True when more is waiting. */
  async round(): Promise<boolean> {
    if (Date.now() < this.retryAt) return false;
    const { db, config } = this.runtime;
    try {
      const delivered = await takeLease(db, this.sink.name, config.nodeName);
      if (delivered === null) {
        // Another node sends to this sink now.
        this.reset();
        return false;
      }
      if (this.position === null || this.position < delivered) this.position = delivered;
      await this.recordSettled();
      const rows = await eventsAfter(db, this.position, batchSize);
      if (rows.length === 0) return false;
      const events = rows.map(streamEvent).filter((event) => wanted(event, this.sink));
      const lines = events.map((event) => formatEvent(event, this.sink.format, this.version));
      const host = config.nodeName;
      await this.transport.send({ seq: rows.at(-1)!.seq, lines, frames: this.sink.type === "syslog" ? events.map((event, index) => syslogFrame(event, lines[index]!, host)) : [] });
      this.position = rows.at(-1)!.seq;
      await this.recordSettled();
      if (this.failures > 0) log.info(`event stream: ${this.sink.name} is taking events again`);
      this.failures = 0;
      return rows.length === batchSize;
    } catch (error) {
      this.failures += 1;
      const delayMs = Math.min(longestBackoffMs, 2 ** Math.min(this.failures, 5) * 500);
      this.retryAt = Date.now() + delayMs;
      const message = error instanceof Error ? error.message : String(error);
      if (this.failures === 1 || this.failures % 20 === 0) log.warn(`event stream: ${this.sink.name}: ${message}; trying again (attempt ${this.failures + 1} in ${delayMs / 1000} s)`);
      this.reset();
      await noteSinkError(db, this.sink.name, message).catch((noteError) => log.error({ err: noteError }, `event stream: noting ${this.sink.name}'s failure failed`));
      return false;
    }
  }

  private async recordSettled() {
    const settled = this.transport.settled();
    if (settled === null) return;
    if (!(await markDelivered(this.runtime.db, this.sink.name, this.runtime.config.nodeName, settled))) {
      log.warn(`event stream: ${this.sink.name}: another node took over sending`);
      this.reset();
    }
  }

  /** Drops the connection and what it had not settled: sending resumes from the recorded position. */
  private reset() {
    this.transport.close();
    this.position = null;
  }

  async stop() {
    this.transport.close();
    await releaseLease(this.runtime.db, this.sink.name, this.runtime.config.nodeName);
  }
}

export async function startEventStream(runtime: Runtime, database: DatabaseHandle, version: string) {
  const { db, config } = runtime;
  const senders: SinkSender[] = [];
  for (const sink of config.siemSinks) {
    await ensureCursor(db, sink.name);
    senders.push(new SinkSender(runtime, sink, version));
  }
  let running = false;
  let again = false;
  async function run() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const more = await Promise.all(senders.map((sender) => sender.round()));
        if (more.some(Boolean)) again = true;
      } while (again);
    } finally {
      running = false;
    }
  }
  const timer = setInterval(() => void run().catch((error) => log.error({ err: error }, "event stream round failed")), tickMs).unref();
  // New events wake the senders at once rather than at the next tick.
  if (senders.length > 0) await database.listen("gatehouse_stream", () => void run().catch((error) => log.error({ err: error }, "event stream round failed")));
  const cleanup = setInterval(() => void deleteDeliveredEvents(db).catch((error) => log.error({ err: error }, "dropping delivered stream events failed")), 60_000).unref();
  return {
    async stop() {
      clearInterval(timer);
      clearInterval(cleanup);
      await Promise.all(senders.map((sender) => sender.stop().catch(() => undefined)));
    },
  };
}
