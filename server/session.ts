// The session spine: one user's connection to one target through one protocol adapter. It owns the state
// (connecting → active → ended), the session row, the time limit, and the flow of bytes both ways with
// backpressure: a browser that stops reading pauses the target; a target that stops taking input pauses the
// browser's socket. Protocol specifics live in server/protocols/.
import type { WebSocket } from "ws";
import { audit, type Actor } from "../lib/audit";
import type { Database } from "../lib/db/client";
import { terminalClientMessageSchema, type EndReason, type TerminalServerMessage } from "../lib/protocol/terminal";
import { closeSessionRow, markSessionActive, openSessionRow } from "../lib/sessions";
import type { TargetRow } from "../lib/targets";
import { TargetError, type ProtocolAdapter, type TerminalSize } from "./protocols/adapter";
import type { SessionRecorder } from "./recorder/terminal-recorder";
import { sessionRegistry } from "./session-registry";

/** Output bytes handed to the socket but not yet flushed to the kernel: above high we pause the target. */
const outputWatermarks = { high: 1024 * 1024, low: 256 * 1024 };
/** Users are warned, and may extend, when this much time is left. */
const expiryWarningMs = 5 * 60 * 1000;

export interface SessionContext {
  db: Database;
  nodeName: string;
  socket: WebSocket;
  target: TargetRow;
  userId: string;
  actor: Actor;
  adapter: ProtocolAdapter;
  initialSize: TerminalSize;
  /** Starts the recording once the session has its id; null where the target is not recorded. */
  record(session: { id: string; startedAt: number; size: TerminalSize }): SessionRecorder | null;
}

export class Session {
  private id = "";
  private state: "connecting" | "active" | "ended" = "connecting";
  private bytesFromUser = 0;
  private bytesToUser = 0;
  private unflushedOutput = 0;
  private targetPaused = false;
  private startedAt = Date.now();
  private expiresAt: number | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private recorder: SessionRecorder | null = null;

  constructor(private readonly context: SessionContext) {}

  async run(): Promise<void> {
    const { db, target, socket, adapter } = this.context;
    sessionRegistry.add(this);
    const row = await openSessionRow(db, { userId: this.context.userId, targetId: target.id, targetName: target.name, protocol: target.protocol, node: this.context.nodeName });
    this.id = row.id;
    this.startedAt = row.startedAt.getTime();
    this.recorder = this.context.record({ id: this.id, startedAt: this.startedAt, size: this.context.initialSize });
    await audit(db, this.context.actor, { action: "session.start", objectType: "session", objectId: this.id, details: { target: target.name, protocol: target.protocol } });
    this.send({ type: "connecting", sessionId: this.id });

    socket.on("message", (data: Buffer, isBinary: boolean) => (isBinary ? this.fromUser(data) : this.control(data)));
    socket.once("close", () => void this.end("user_closed", "you closed the session"));
    adapter.on("output", (data: Buffer) => this.toUser(data));
    adapter.on("drain", () => socket.resume());
    adapter.once("closed", (message: string) => void this.end("target_closed", message));

    try {
      await adapter.start(this.context.initialSize);
    } catch (error) {
      const problem = error instanceof TargetError ? error : new TargetError("the gateway could not open this session");
      if (!(error instanceof TargetError)) console.error(`session ${this.id} failed to start:`, error);
      if (problem.auditAction) {
        await audit(db, this.context.actor, { action: problem.auditAction, outcome: "refused", objectType: "target", objectId: target.id, details: { target: target.name, ...problem.auditDetails } });
      }
      await this.end("error", problem.message);
      return;
    }
    if (this.state === "ended") return adapter.close();
    this.state = "active";
    await markSessionActive(db, this.id);
    this.send({ type: "connected", sessionId: this.id });
    if (target.sessionTtlSeconds > 0) this.setDeadline(this.startedAt + target.sessionTtlSeconds * 1000);
  }

  private send(message: TerminalServerMessage) {
    if (this.context.socket.readyState === this.context.socket.OPEN) this.context.socket.send(JSON.stringify(message));
  }

  private toUser(data: Buffer) {
    const { socket, adapter } = this.context;
    if (socket.readyState !== socket.OPEN) return;
    this.bytesToUser += data.length;
    this.unflushedOutput += data.length;
    this.recorder?.output(data);
    socket.send(data, { binary: true }, () => {
      this.unflushedOutput -= data.length;
      if (this.targetPaused && this.unflushedOutput <= outputWatermarks.low) {
        this.targetPaused = false;
        adapter.resume();
      }
    });
    if (!this.targetPaused && this.unflushedOutput > outputWatermarks.high) {
      this.targetPaused = true;
      adapter.pause();
    }
  }

  private fromUser(data: Buffer) {
    if (this.state !== "active") return;
    this.bytesFromUser += data.length;
    this.recorder?.input(data);
    if (!this.context.adapter.write(data)) this.context.socket.pause();
  }

  private control(data: Buffer) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString("utf8"));
    } catch {
      parsed = undefined;
    }
    const message = terminalClientMessageSchema.safeParse(parsed);
    if (!message.success) return this.send({ type: "error", message: "unknown or malformed control frame" });
    if (message.data.type === "resize") {
      if (this.state === "active") {
        this.context.adapter.resize(message.data);
        this.recorder?.resize(message.data);
      }
    } else {
      void this.extend();
    }
  }

  // ── Time limit ──────────────────────────────────────────────────────────────────────────────────────

  private get canExtend(): boolean {
    const { extensionSeconds, maxSessionSeconds } = this.context.target;
    if (this.expiresAt === null || extensionSeconds <= 0) return false;
    return maxSessionSeconds === 0 || this.expiresAt + extensionSeconds * 1000 <= this.startedAt + maxSessionSeconds * 1000;
  }

  private schedule(at: number, action: () => void) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, Math.max(0, at - Date.now()));
    this.timers.add(timer);
  }

  private setDeadline(expiresAt: number) {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.expiresAt = expiresAt;
    this.schedule(expiresAt - expiryWarningMs, () => this.warnOfExpiry());
    this.schedule(expiresAt, () => void this.end("expired", "the session reached its time limit"));
  }

  private warnOfExpiry() {
    if (this.expiresAt === null || this.state !== "active") return;
    const minutes = Math.max(1, Math.ceil((this.expiresAt - Date.now()) / 60_000));
    this.send({ type: "expiry", expiresAt: new Date(this.expiresAt).toISOString(), canExtend: this.canExtend, extensionSeconds: this.context.target.extensionSeconds });
    const offer = this.canExtend ? " Use the Extend button to add more time." : "";
    this.toUser(Buffer.from(`\r\n\x1b[33m[gatehouse] This session ends in ${minutes} minute${minutes === 1 ? "" : "s"}.${offer}\x1b[0m\r\n`));
  }

  private async extend() {
    if (this.state !== "active" || !this.canExtend || this.expiresAt === null) {
      return this.send({ type: "error", message: "this session cannot be extended further" });
    }
    const expiresAt = this.expiresAt + this.context.target.extensionSeconds * 1000;
    this.setDeadline(expiresAt);
    await audit(this.context.db, this.context.actor, { action: "session.extend", objectType: "session", objectId: this.id, details: { expiresAt: new Date(expiresAt).toISOString() } });
    this.send({ type: "expiry", expiresAt: new Date(expiresAt).toISOString(), canExtend: this.canExtend, extensionSeconds: this.context.target.extensionSeconds });
  }

  // ── End ─────────────────────────────────────────────────────────────────────────────────────────────

  async end(reason: EndReason, message: string): Promise<void> {
    if (this.state === "ended") return;
    this.state = "ended";
    sessionRegistry.delete(this);
    for (const timer of this.timers) clearTimeout(timer);
    const { socket, adapter, db } = this.context;
    adapter.close();
    this.send({ type: "ended", reason, message });
    if (socket.readyState === socket.OPEN) socket.close(1000, reason);
    if (!this.id) return;
    await this.recorder?.close();
    await closeSessionRow(db, this.id, { reason, bytesFromUser: this.bytesFromUser, bytesToUser: this.bytesToUser });
    await audit(db, this.context.actor, {
      action: "session.end",
      objectType: "session",
      objectId: this.id,
      details: { reason, message, bytesFromUser: this.bytesFromUser, bytesToUser: this.bytesToUser },
    });
  }
}
