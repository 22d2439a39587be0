// How a batch of formatted events reaches a sink, and when it counts as delivered.
//
// A webhook answers each POST, and a file is synced: what they took is delivered when the call returns. Syslog
// over TCP has no acknowledgement: bytes written may still die with the receiver. So a syslog batch counts as
// delivered only once the connection it went out on has stayed up for `syslogSettleMs` after it; when the
// connection breaks, what was not yet settled is sent again on the next one. A receiver may see an event twice
// (each carries a stable id), never miss one.
import { open } from "node:fs/promises";
import net from "node:net";
import { readFileSync } from "node:fs";
import tls from "node:tls";
import { webhookSignature } from "../../lib/infra/http/webhook-signature";
import type { SinkConfig } from "../../lib/infra/event-stream/sinks";

export const syslogSettleMs = 3000;
const connectTimeoutMs = 10_000;
const webhookTimeoutMs = 10_000;

export interface Delivery {
  /** The last event of the batch. */
  seq: number;
  /** The batch as bytes or lines, in the sink's format. */
  lines: string[];
  frames: Buffer[];
}

export interface Transport {
  /** Sends a batch; resolves when it is written (syslog) or taken (webhook, file). */
  send(delivery: Delivery): Promise<void>;
  /** The highest event known delivered now, or null when nothing new is. */
  settled(): number | null;
  close(): void;
}

export function createTransport(sink: SinkConfig): Transport {
  if (sink.type === "syslog") return new SyslogTransport(sink);
  let taken: number | null = null;
  const settledOnce = () => {
    const value = taken;
    taken = null;
    return value;
  };
  if (sink.type === "webhook") {
    return {
      async send(delivery) {
        if (delivery.lines.length > 0) await postToWebhook(sink, delivery);
        taken = delivery.seq;
      },
      settled: settledOnce,
      close() {},
    };
  }
  return {
    async send(delivery) {
      if (delivery.lines.length === 0) {
        taken = delivery.seq;
        return;
      }
      const file = await open(sink.path, "a", 0o600);
      try {
        await file.appendFile(`${delivery.lines.join("\n")}\n`);
        await file.datasync();
      } finally {
        await file.close();
      }
      taken = delivery.seq;
    },
    settled: settledOnce,
    close() {},
  };
}

/** One POST per batch: a JSON array, or CEF lines; signed like every webhook Gatehouse calls. */
async function postToWebhook(sink: Extract<SinkConfig, { type: "webhook" }>, delivery: Delivery) {
  const body = sink.format === "json" ? `[${delivery.lines.join(",")}]` : `${delivery.lines.join("\n")}\n`;
  const response = await fetch(sink.url, {
    method: "POST",
    redirect: "manual",
    signal: AbortSignal.timeout(webhookTimeoutMs),
    headers: {
      "content-type": sink.format === "json" ? "application/json" : "text/plain; charset=utf-8",
      "x-gatehouse-signature": webhookSignature(sink.secret, body),
      "x-gatehouse-delivery": `gatehouse:${delivery.seq}`,
    },
    body,
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`the webhook answered ${response.status}`);
}

class SyslogTransport implements Transport {
  private socket: net.Socket | null = null;
  private broken: Error | null = null;
  /** Batches written on the current connection and not yet settled, oldest first. */
  private unsettled: { seq: number; writtenAt: number }[] = [];
  private readonly address: URL;
  private readonly ca: Buffer | undefined;

  constructor(private readonly sink: Extract<SinkConfig, { type: "syslog" }>) {
    this.address = new URL(sink.address);
    this.ca = sink.ca ? readFileSync(sink.ca) : undefined;
  }

  private connect(): Promise<net.Socket> {
    const host = this.address.hostname.replace(/^\[|\]$/g, "");
    const port = Number(this.address.port);
    return new Promise((resolve, reject) => {
      const socket = this.address.protocol === "tls:" ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ca: this.ca }) : net.connect({ host, port });
      this.socket = socket;
      const timer = setTimeout(() => socket.destroy(new Error(`no connection to ${this.sink.address} within ${connectTimeoutMs / 1000} s`)), connectTimeoutMs);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      socket.once(this.address.protocol === "tls:" ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        resolve(socket);
      });
      // Only the current connection's end is a break: one dropped on purpose says nothing about the next.
      const current = () => this.socket === socket;
      socket.on("error", (error) => {
        clearTimeout(timer);
        if (current()) this.broken ??= error;
        reject(error);
      });
      // A syslog receiver never speaks; whatever it sends is read and dropped, and its end is a break.
      socket.on("data", () => {});
      socket.on("close", () => {
        if (current()) this.broken ??= new Error(`${this.sink.address} closed the connection`);
      });
    });
  }

  async send(delivery: Delivery) {
    if (this.broken) throw this.broken;
    if (!this.socket) {
      this.broken = null;
      await this.connect().catch((error: unknown) => {
        this.socket = null;
        this.broken = null;
        throw error;
      });
    }
    const socket = this.socket!;
    // A batch the filter emptied still settles, so that the position can move past it.
    const written = delivery.frames.length === 0 || socket.write(Buffer.concat(delivery.frames));
    this.unsettled.push({ seq: delivery.seq, writtenAt: Date.now() });
    if (!written) {
      if (socket.destroyed) throw this.broken ?? new Error("the connection closed");
      await new Promise<void>((resolve, reject) => {
        socket.once("drain", resolve);
        socket.once("close", () => reject(this.broken ?? new Error("the connection closed")));
      });
    }
    if (this.broken) throw this.broken;
  }

  settled(): number | null {
    if (this.broken) return null;
    const settledBefore = Date.now() - syslogSettleMs;
    let settled: number | null = null;
    while (this.unsettled[0] && this.unsettled[0].writtenAt <= settledBefore) settled = this.unsettled.shift()!.seq;
    return settled;
  }

  /** The connection is dropped; what it had not settled is sent again on the next one. */
  close() {
    this.socket?.destroy();
    this.socket = null;
    this.broken = null;
    this.unsettled = [];
  }
}
