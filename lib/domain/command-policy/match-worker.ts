// Live sessions' rules are matched on a worker thread of their own, never on the thread that carries every
// session's bytes: a pattern that backtracks catastrophically on a crafted line stalls only the worker, which is
// replaced once the deadline passes (the line is then "undecided"). Patterns are compiled once per rule set and
// run in the worker's main context, where V8 runs them fastest (measured in docs/PERFORMANCE.md).
import { createHash } from "node:crypto";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { log } from "../../infra/log";

/**
 * A match that takes longer than this is undecided, and the worker is replaced. It counts from the request, so a
 * saturated machine's scheduling is in it too: long enough for that, short enough that a stalled pattern is cut.
 */
export const liveMatchDeadlineMs = 250;
/** Matches waiting for the worker at most; more are undecided at once rather than queued without bound. */
const waitingLimit = 10_000;
/** Rule sets the worker keeps compiled; the oldest is compiled again if it comes back. */
const setsKept = 2_000;

type WorkerRequest = { type: "define"; setId: string; sources: string[] } | { type: "match"; id: number; setId: string; subjects: string[] };
type WorkerReply = { id: number; hits: number[] };

// Plain JavaScript, evaluated in the worker: it needs no loader and shares nothing with the gateway's modules.
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const replies = workerData.replies;
const sets = new Map();
parentPort.on("message", (request) => {
  if (request.type === "define") {
    if (sets.size >= ${setsKept}) sets.delete(sets.keys().next().value);
    sets.set(request.setId, request.sources.map((source) => new RegExp(source, "i")));
    return;
  }
  const rules = sets.get(request.setId) ?? [];
  const hits = [];
  for (let index = 0; index < rules.length; index++) {
    for (const subject of request.subjects) {
      if (rules[index].test(subject)) {
        hits.push(index);
        break;
      }
    }
  }
  replies.postMessage({ id: request.id, hits });
});
`;

export class MatchWorker {
  private worker: Worker | null = null;
  /** The sets the worker holds, evicted in the same order as the worker evicts them (define messages arrive in order). */
  private readonly defined = new Set<string>();
  private readonly waiting = new Map<number, { resolve(hits: number[] | "undecided"): void; timer: NodeJS.Timeout }>();
  private nextId = 0;

  /** The id a rule set (its regular expressions, in order) is matched by. */
  static setId(sources: string[]): string {
    return createHash("sha256").update(JSON.stringify(sources)).digest("base64url");
  }

  /** Where the worker's answers arrive: a port of its own, so a deadline can first take in answers already there. */
  private replies: MessagePort | null = null;

  private answered({ id, hits }: WorkerReply) {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.waiting.delete(id);
    waiting.resolve(hits);
  }

  private start(): Worker {
    const { port1: replies, port2: replyPort } = new MessageChannel();
    const worker = new Worker(workerSource, { eval: true, workerData: { replies: replyPort }, transferList: [replyPort] });
    worker.unref();
    replies.unref();
    replies.on("message", (reply: WorkerReply) => this.answered(reply));
    this.replies = replies;
    worker.on("error", (error) => {
      log.error({ err: error }, "the rule matching worker failed; a new one takes over");
      this.replace();
    });
    this.worker = worker;
    this.defined.clear();
    return worker;
  }

  /** Every match waiting on this worker is undecided; the next one starts a fresh worker. */
  private replace() {
    const worker = this.worker;
    this.worker = null;
    void worker?.terminate();
    this.replies?.close();
    this.replies = null;
    for (const { resolve, timer } of this.waiting.values()) {
      clearTimeout(timer);
      resolve("undecided");
    }
    this.waiting.clear();
  }

  match(setId: string, sources: string[], subjects: string[]): Promise<number[] | "undecided"> {
    if (this.waiting.size >= waitingLimit) return Promise.resolve("undecided");
    const worker = this.worker ?? this.start();
    if (!this.defined.has(setId)) {
      if (this.defined.size >= setsKept) this.defined.delete(this.defined.values().next().value!);
      worker.postMessage({ type: "define", setId, sources } satisfies WorkerRequest);
      this.defined.add(setId);
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // A busy event loop may run this timer before answers that came in time: those are taken in first.
        for (let reply = this.replies && receiveMessageOnPort(this.replies); reply; reply = this.replies && receiveMessageOnPort(this.replies)) this.answered(reply.message as WorkerReply);
        if (!this.waiting.has(id)) return;
        log.warn(`matching rules took longer than ${liveMatchDeadlineMs} ms; the matching worker is replaced`);
        this.replace();
      }, liveMatchDeadlineMs);
      this.waiting.set(id, { resolve, timer });
      worker.postMessage({ type: "match", id, setId, subjects } satisfies WorkerRequest);
    });
  }

  async close() {
    this.replace();
  }
}
