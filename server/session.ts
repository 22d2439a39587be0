// The session spine: one user's connection to one target through one protocol adapter. It owns the state
// (connecting → active ⇄ locked | paused → ended), the session row, the time limit, its watchers, and the flow
// of bytes both ways with backpressure: a browser that stops reading pauses the target; a target that stops
// taking input pauses the browser's socket. Protocol specifics live in server/protocols/.
import type { WebSocket } from "ws";
import { audit, type Actor } from "../lib/audit";
import type { Database } from "../lib/db/client";
import { parseJsonFrame } from "../lib/protocol/json-frame";
import { sessionTexts, terminationNotice } from "../lib/settings";
import { type ControlCommand, type LiveState, type WatchServerMessage } from "../lib/protocol/live";
import { terminalClientMessageSchema, type EndReason, type TerminalServerMessage } from "../lib/protocol/terminal";
import { addSessionEvent, recordWatching } from "../lib/session-events";
import { assignAuditors } from "../lib/governance/audits";
import { extendRequestWindow } from "../lib/governance/requests";
import { closeSessionRow, markSessionActive, openSessionRow, sessionDeadline, setSessionStatus } from "../lib/sessions";
import type { TargetRow } from "../lib/targets";
import { TargetError, type ProtocolAdapter } from "./protocols/adapter";
import type { SessionRecorder } from "./recorder/terminal-recorder";
import type { GatePass } from "./gate";
import { sessionRegistry } from "./session-registry";
import { logFailure, onMessage } from "./socket-guard";
import { refuseWatcherInput, serveNodeLink, WatcherHub } from "./watchers";

/** Output bytes handed to the socket but not yet flushed to the kernel: above high we pause the target. */
const outputWatermarks = { high: 1024 * 1024, low: 256 * 1024 };
/** Users are warned, and may extend, when this much time is left. */
const expiryWarningMs = 5 * 60 * 1000;

/**
 * How the session reads its protocol's stream (server/protocols/terminal-stream.ts, guac/desktop-stream.ts):
 * what of the user's input reaches the target and what may be shown of it, and what the dashboard previews. The
 * gateway's own notices never enter the stream: they are messages the page shows apart from the target's output,
 * so a target cannot forge one.
 */
export interface StreamInspector {
  observeOutput(data: Buffer): void;
  /** `forward` goes to the target (null: nothing); `shown` is the typed text that may be logged and recorded. */
  input(data: Buffer): { forward: Buffer | null; shown: string; commands: string[] };
  /** What of the input still reaches the target while security has the session locked. */
  inputWhileLocked(data: Buffer): Buffer | null;
  /** What the dashboard shows of the screen, when it changed since the last call. */
  takePreview(): string | null;
}

export interface SessionContext {
  db: Database;
  nodeName: string;
  socket: WebSocket;
  target: TargetRow;
  user: { id: string; username: string };
  actor: Actor;
  /** What the access decision granted: the request the session runs under and when its access ends. */
  access: GatePass["access"];
  adapter: ProtocolAdapter;
  stream: StreamInspector;
  /** The recording (or, where the target is not recorded, what a watcher needs to see the screen) once the session has its id. */
  startRecorder(session: { id: string; startedAt: number }): SessionRecorder;
}

type ControlOutcome = { ok: boolean; message: string };

export class Session {
  private id = "";
  private state: LiveState | "ended" = "connecting";
  private bytesFromUser = 0;
  private bytesToUser = 0;
  private unflushedOutput = 0;
  /** Why the target's output is held: the browser is not reading (backpressure), or security paused the session. */
  private outputBackpressure = false;
  private targetHeld = false;
  private inputBackpressure = false;
  /** Input frames that arrived after a pause began, delivered in order on resume. */
  private heldInput: Buffer[] = [];
  private controlledBy: { by: string; reason: string } | null = null;
  private startedAt = Date.now();
  private expiresAt: number | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private recorder: SessionRecorder | null = null;
  private readonly watchers = new WatcherHub(() => this.recorder?.catchUp() ?? Promise.resolve([]));
  /** Links to other nodes among the watchers, each with how many people watch through it. */
  private readonly relayedViewers = new Map<WebSocket, number>();
  private announcedWatchers = 0;

  constructor(private readonly context: SessionContext) {}

  get sessionId() {
    return this.id;
  }

  async run(): Promise<void> {
    const { db, target, socket, adapter } = this.context;
    sessionRegistry.add(this);
    const row = await openSessionRow(db, {
      userId: this.context.user.id,
      targetId: target.id,
      targetName: target.name,
      protocol: target.protocol,
      node: this.context.nodeName,
      requestId: this.context.access?.requestId ?? null,
      clientAddress: this.context.actor.sourceIp,
    });
    this.id = row.id;
    this.startedAt = row.startedAt.getTime();
    await assignAuditors(db, this.id, target);
    this.recorder = this.context.startRecorder({ id: this.id, startedAt: this.startedAt });
    await audit(db, this.context.actor, { action: "session.start", objectType: "session", objectId: this.id, details: { target: target.name, protocol: target.protocol, requestId: this.context.access?.requestId ?? undefined } });
    this.send({ type: "connecting", sessionId: this.id });

    onMessage(socket, `session ${this.id}`, (data, isBinary) => (isBinary ? this.fromUser(data) : this.control(data)));
    socket.once("close", () => void this.end("user_closed", "you closed the session"));
    adapter.on("output", (data: Buffer) => this.toUser(data));
    adapter.on("drain", () => {
      this.inputBackpressure = false;
      this.syncInputFlow();
    });
    adapter.once("closed", (message: string) => void this.end("target_closed", message));

    try {
      await adapter.start();
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
    const deadline = sessionDeadline(this.startedAt, target.sessionTtlSeconds, this.context.access?.endsAt ?? null);
    if (deadline !== null) this.setDeadline(deadline);
  }

  private send(message: TerminalServerMessage) {
    if (this.context.socket.readyState === this.context.socket.OPEN) this.context.socket.send(JSON.stringify(message));
  }

  private toUser(data: Buffer) {
    const { socket } = this.context;
    if (socket.readyState !== socket.OPEN) return;
    this.bytesToUser += data.length;
    this.unflushedOutput += data.length;
    this.context.stream.observeOutput(data);
    this.recorder?.output(data);
    this.watchers.screen(data);
    socket.send(data, { binary: true }, () => {
      this.unflushedOutput -= data.length;
      if (this.outputBackpressure && this.unflushedOutput <= outputWatermarks.low) {
        this.outputBackpressure = false;
        this.syncTargetFlow();
      }
    });
    if (!this.outputBackpressure && this.unflushedOutput > outputWatermarks.high) {
      this.outputBackpressure = true;
      this.syncTargetFlow();
    }
  }

  private syncTargetFlow() {
    const hold = this.outputBackpressure || this.state === "paused";
    if (hold === this.targetHeld) return;
    this.targetHeld = hold;
    if (hold) this.context.adapter.pause();
    else this.context.adapter.resume();
  }

  private syncInputFlow() {
    if (this.inputBackpressure || this.state === "paused") this.context.socket.pause();
    else this.context.socket.resume();
  }

  private fromUser(data: Buffer) {
    if (this.state === "paused") return void this.heldInput.push(data);
    if (this.state === "locked") {
      const allowed = this.context.stream.inputWhileLocked(data);
      if (allowed) this.toTarget(allowed);
      return;
    }
    if (this.state !== "active") return;
    this.bytesFromUser += data.length;
    const { forward, shown, commands } = this.context.stream.input(data);
    this.recorder?.input(shown, commands);
    const at = Date.now();
    const entries = [...(shown ? [{ at, kind: "keys" as const, text: shown }] : []), ...commands.map((text) => ({ at, kind: "command" as const, text }))];
    if (entries.length > 0) this.watchers.notice({ type: "log", entries });
    if (forward) this.toTarget(forward);
  }

  private toTarget(data: Buffer) {
    if (!this.context.adapter.write(data)) {
      this.inputBackpressure = true;
      this.syncInputFlow();
    }
  }

  private control(data: Buffer) {
    const message = parseJsonFrame(terminalClientMessageSchema, data.toString("utf8"));
    if (!message.success) return this.send({ type: "error", message: "unknown or malformed control frame" });
    if (message.data.type === "resize") {
      if (this.state !== "connecting" && this.state !== "ended" && this.context.adapter.resize) {
        const size = { cols: message.data.cols, rows: message.data.rows };
        this.context.adapter.resize(size);
        this.recorder?.resize?.(size);
        this.watchers.screen({ type: "resize", ...size });
      }
    } else {
      logFailure(this.extend(), `extending session ${this.id}`);
    }
  }

  // ── Oversight: watchers and controls ────────────────────────────────────────────────────────────────

  /** What the dashboard shows of the user's screen, when it changed since the last call. */
  takePreview(): string | null {
    return this.id ? this.context.stream.takePreview() : null;
  }

  private stateMessage(): Extract<WatchServerMessage, { type: "state" }> {
    return { type: "state", state: this.state === "ended" ? "active" : this.state, by: this.controlledBy?.by ?? null, reason: this.controlledBy?.reason ?? null };
  }

  private greeting(): WatchServerMessage[] {
    const { target, user } = this.context;
    return [
      {
        type: "joined",
        session: { id: this.id, username: user.username, targetName: target.name, protocol: target.protocol, node: this.context.nodeName, startedAt: new Date(this.startedAt).toISOString(), recorded: target.recordSessions },
      },
      this.stateMessage(),
    ];
  }

  /** A read-only view for someone from security: the current screen, then everything live. Input is refused. */
  watch(socket: WebSocket, viewer: Actor) {
    const { db, target, user } = this.context;
    const watcher = this.watchers.add(socket, this.greeting());
    refuseWatcherInput(socket);
    this.announceWatchers();
    const session = { id: this.id, username: user.username, targetName: target.name };
    void recordWatching(db, "watch.join", viewer, session);
    socket.once("close", () => {
      this.watchers.remove(watcher);
      this.announceWatchers();
      void recordWatching(db, "watch.leave", viewer, session);
    });
  }

  /**
   * The view another node fans out to its own watchers, over one link (server/cluster/relayed-session.ts): that
   * node records their joins and leaves, asks for a fresh catch-up when one joins, and says how many watch.
   */
  relayTo(link: WebSocket) {
    this.relayedViewers.set(link, 0);
    serveNodeLink(this.watchers, link, this.greeting(), {
      viewers: (count) => {
        this.relayedViewers.set(link, count);
        this.announceWatchers();
      },
      closed: () => {
        this.relayedViewers.delete(link);
        this.announceWatchers();
      },
    });
  }

  private announceWatchers() {
    if (!this.context.target.announceWatchers || this.state === "ended") return;
    let count = this.watchers.size - this.relayedViewers.size;
    for (const viewers of this.relayedViewers.values()) count += viewers;
    if (count !== this.announcedWatchers) this.send({ type: "watchers", count });
    this.announcedWatchers = count;
  }

  /** Applies a control sent by security through the control bus; the requester has audited it. */
  async applyControl(command: ControlCommand): Promise<ControlOutcome> {
    const { action, reason, actorName } = command;
    if (this.state === "ended") return { ok: false, message: "the session has already ended" };
    if (action === "terminate" || action === "terminate_and_cancel") {
      await addSessionEvent(this.context.db, { sessionId: this.id, kind: action, actorName, details: { reason } });
      await this.end("terminated", terminationNotice((await sessionTexts(this.context.db)).terminationMessage, actorName, reason));
      return { ok: true, message: "the session was terminated" };
    }
    const transitions = { lock: ["active", "locked"], unlock: ["locked", "active"], pause: ["active", "paused"], resume: ["paused", "active"] } as const;
    const [from, to] = transitions[action];
    if (this.state !== from) return { ok: false, message: `the session is ${this.state}; it can be ${action === "lock" || action === "pause" ? "locked or paused only when active" : `${action}d only when ${from}`}` };
    this.state = to;
    this.controlledBy = to === "active" ? null : { by: actorName, reason };
    this.syncTargetFlow();
    this.syncInputFlow();
    if (action === "resume") for (const data of this.heldInput.splice(0)) this.fromUser(data);
    const userMessage = { lock: (await sessionTexts(this.context.db)).lockMessage, unlock: "Your session has been unlocked.", pause: `Your session was paused by ${actorName} from security.`, resume: "Your session has been resumed." }[action];
    this.send({ type: "state", state: to, message: userMessage });
    this.watchers.notice(this.stateMessage());
    await setSessionStatus(this.context.db, this.id, to);
    await addSessionEvent(this.context.db, { sessionId: this.id, kind: action, actorName, details: { reason } });
    return { ok: true, message: `the session is ${to}` };
  }

  // ── Time limit ──────────────────────────────────────────────────────────────────────────────────────

  private get canExtend(): boolean {
    const { extensionSeconds, maxSessionSeconds } = this.context.target;
    if (this.expiresAt === null || extensionSeconds <= 0) return false;
    const extended = this.expiresAt + extensionSeconds * 1000;
    const withinPolicy = !this.context.access?.extendableUntil || extended <= this.context.access.extendableUntil.getTime();
    return withinPolicy && (maxSessionSeconds === 0 || extended <= this.startedAt + maxSessionSeconds * 1000);
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
    // Where the access runs out before the target's own limit, the person is told that it is the access that ended.
    const accessEndsAt = this.context.access?.endsAt?.getTime();
    const message = accessEndsAt !== undefined && expiresAt >= accessEndsAt ? "your access ended: its window or request is over" : "the session reached its time limit";
    this.schedule(expiresAt, () => void this.end("expired", message));
  }

  private warnOfExpiry() {
    if (this.expiresAt === null || this.state === "ended" || this.state === "connecting") return;
    this.send({ type: "expiry", expiresAt: new Date(this.expiresAt).toISOString(), canExtend: this.canExtend, extensionSeconds: this.context.target.extensionSeconds });
  }

  private async extend() {
    if (this.state !== "active" || !this.canExtend || this.expiresAt === null) {
      return this.send({ type: "error", message: "this session cannot be extended further" });
    }
    const expiresAt = this.expiresAt + this.context.target.extensionSeconds * 1000;
    // Past the request's window the request is extended too, or the re-check of access would end the session.
    const requestId = this.context.access?.requestId;
    if (requestId) await extendRequestWindow(this.context.db, this.context.actor, requestId, new Date(expiresAt));
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
    this.watchers.end({ type: "ended", reason, message });
    if (socket.readyState === socket.OPEN) socket.close(1000, reason);
    if (!this.id) return;
    // Ending is called from event handlers: what fails here is logged, never left to escape.
    try {
      await this.recorder?.close();
      await closeSessionRow(db, this.id, { reason, message, bytesFromUser: this.bytesFromUser, bytesToUser: this.bytesToUser });
      await audit(db, this.context.actor, {
        action: "session.end",
        objectType: "session",
        objectId: this.id,
        details: { reason, message, bytesFromUser: this.bytesFromUser, bytesToUser: this.bytesToUser },
      });
    } catch (error) {
      console.error(`ending session ${this.id} (${reason}) could not be fully recorded:`, error);
    }
  }
}
