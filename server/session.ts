// The session spine: one user's connection to one target through one protocol adapter. It owns the state
// (connecting → active ⇄ locked | paused → ended), the session row, the time limit, its watchers, and the flow
// of bytes both ways with backpressure: a browser that stops reading pauses the target; a target that stops
// taking input pauses the browser's socket. Protocol specifics live in server/protocols/.
import type { WebSocket } from "ws";
import { audit, type Actor } from "../lib/data/audit";
import { recordRiskEvent, settleRiskEvent } from "../lib/data/command-policy/risk";
import { policyActor, strongestRule } from "../lib/domain/command-policy/rule-scope";
import type { CommandRuleRow } from "../lib/data/command-policy/rules";
import type { RiskEventView, RiskOutcome } from "../lib/protocol/command-rules";
import { runtime } from "../lib/infra/runtime";
import { controlSession } from "../lib/domain/session-control";
import type { Database } from "../lib/data/client";
import { parseJsonFrame } from "../lib/protocol/json-frame";
import type { ControlledState, SessionControlCommand } from "../lib/protocol/live";
import { sessionClientMessageSchema, type EndReason, type SessionServerMessage } from "../lib/protocol/session-socket";
import { assignAuditors } from "../lib/data/governance/audits";
import { extendRequestWindow } from "../lib/data/governance/requests";
import { closeSessionRow, markSessionActive, openSessionRow, sessionDeadline } from "../lib/data/sessions";
import type { TargetRow } from "../lib/data/targets";
import type { CommandPolicy, PolicyMatch } from "./inspector/command-policy";
import { metrics } from "../lib/infra/metrics";
import { TargetError, type ProtocolAdapter } from "./protocols/adapter";
import type { StreamInspector } from "./protocols/stream-inspector";
import type { StreamRecorder } from "./recorder/session-recorder";
import type { GatePass } from "./gate";
import { LiveSessionCore, type ControlOutcome } from "./live/live-session-core";
import { sessionRegistry, type LiveSession } from "./live/session-registry";
import { databaseSessionStore } from "./live/session-store";
import { logFailure, onMessage } from "./socket-guard";
import { log } from "../lib/infra/log";

/** Output bytes handed to the socket but not yet flushed to the kernel: above high we pause the target. */
const outputWatermarks = { high: 1024 * 1024, low: 256 * 1024 };

/** The relayed-bytes counter's labels, one object per protocol and direction: counted on every chunk without building them. */
const relayedLabelSets = new Map<string, { toUser: Record<string, string>; fromUser: Record<string, string> }>();
function relayedLabels(protocol: string) {
  let labels = relayedLabelSets.get(protocol);
  if (!labels) relayedLabelSets.set(protocol, (labels = { toUser: { protocol, direction: "to_user" }, fromUser: { protocol, direction: "from_user" } }));
  return labels;
}
/** A desktop's dashboard picture: this wide at most, a few a minute while its screen changes. */
const thumbnailWidth = 320;
const thumbnailEveryMs = 20_000;
/** Input that arrives while an Enter waits for the command policy is kept in order, up to this much. */
const inputWaitingLimit = 64 * 1024;
/** Risk events recorded per session and minute; a flood of matches is acted on but not recorded one by one. */
const riskEventsPerMinute = 60;
/** What the user is told of a line that could not be checked, and what they can do about it. */
const uncheckedLines: Record<NonNullable<PolicyMatch["unchecked"]>, { why: string; then: string }> = {
  too_long: { why: "the line is too long to check", then: "shorten or simplify it" },
  deadline: { why: "the rules could not check the line in time", then: "shorten or simplify it" },
  typed_ahead: { why: "it was edited before the shell showed its prompt, so the gateway cannot tell what it runs", then: "type it again at the prompt" },
};
/** Keys that clear the line a withheld Enter leaves behind: to its end (Ctrl-E), then all of it (Ctrl-U). */
const clearLine = Buffer.from("\x05\x15");


/** Who connected to what, through which socket: the same for every protocol (the gate's pass). */
export interface SessionConnection {
  db: Database;
  nodeName: string;
  socket: WebSocket;
  target: TargetRow;
  user: { id: string; username: string };
  actor: Actor;
  /** What the access decision granted: the request the session runs under and when its access ends. */
  access: GatePass["access"];
}

/** What the protocol brings: its adapter, how its stream is read, its recorder. */
export interface SessionParts {
  adapter: ProtocolAdapter;
  stream: StreamInspector;
  /** Terminals: the command policy every Enter and output line passes. */
  commandPolicy?: CommandPolicy;
  /** The recording (or, where the target is not recorded, what a watcher needs to see the screen) once the session has its id. */
  startRecorder(session: { id: string; startedAt: number }): StreamRecorder;
}

type SessionContext = SessionConnection & SessionParts;

export class Session implements LiveSession {
  private readonly core: LiveSessionCore;
  private bytesFromUser = 0;
  private bytesToUser = 0;
  private unflushedOutput = 0;
  /** Why the target's output is held: the browser is not reading (backpressure), the recording is behind, or security paused the session. */
  private outputBackpressure = false;
  /** The recorder has more waiting to be stored than it may hold: the target waits for it. */
  private recordingBehind = false;
  private targetHeld = false;
  private inputBackpressure = false;
  /** Input frames that arrived after a pause began, delivered in order on resume. */
  private heldInput: Buffer[] = [];
  private recorder: StreamRecorder | null = null;
  /** Input that came while an Enter waited for the command policy (null: none is waiting). */
  private waitingInput: Buffer[] | null = null;
  private waitingInputBytes = 0;
  private riskEventsThisMinute = 0;
  private thumbnailTakenAt = 0;
  private bytesAtThumbnail = 0;
  private riskMinuteStartedAt = 0;

  private readonly context: SessionContext;

  constructor(connection: SessionConnection, parts: SessionParts) {
    this.context = { ...connection, ...parts };
    const { target, user, nodeName, db } = this.context;
    this.core = new LiveSessionCore({ username: user.username, targetName: target.name, protocol: target.protocol, node: nodeName, recorded: target.recordSessions }, databaseSessionStore(db), {
      catchUp: () => this.recorder?.catchUp() ?? Promise.resolve([]),
      controlled: (state, userMessage) => this.controlled(state, userMessage),
      watchersChanged: (count) => {
        if (target.announceWatchers) this.send({ type: "watchers", count });
      },
      stop: (reason, message) => this.stop(reason, message),
      finish: (reason, message) => this.finish(reason, message),
    });
  }

  get sessionId() {
    return this.core.id;
  }

  get protocol(): string {
    return this.context.target.protocol;
  }

  get liveState(): string {
    return this.core.state;
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
    this.core.opened(row.id, row.startedAt.getTime());
    this.recorder = this.context.startRecorder({ id: this.core.id, startedAt: this.core.started });
    // Written while the target is reached (a desktop's login takes a second or more): the session's row and the
    // gate's `connect` audit are stored already, and a failed write ends the session before it is active.
    const bookkeeping = Promise.all([
      assignAuditors(db, this.core.id, target),
      audit(db, this.context.actor, { action: "session.start", objectType: "session", objectId: this.core.id, details: { target: target.name, protocol: target.protocol, requestId: this.context.access?.requestId ?? undefined } }),
    ]);
    this.send({ type: "connecting", sessionId: this.core.id });

    onMessage(socket, `session ${this.core.id}`, (data, isBinary) => (isBinary ? this.fromUser(data) : this.control(data)));
    socket.once("close", () => void this.end("user_closed", "you closed the session"));
    adapter.on("output", (data: Buffer) => this.toUser(data));
    adapter.on("drain", () => {
      this.inputBackpressure = false;
      this.syncInputFlow();
    });
    adapter.on("keyframe", () => this.recorder?.keyframe?.());
    adapter.once("closed", (message) => void this.end("target_closed", message));

    const reachingOutAt = performance.now();
    adapter.once("firstScreen", () => metrics.targetFirstScreenSeconds.observe({ protocol: target.protocol }, (performance.now() - reachingOutAt) / 1000));
    try {
      await Promise.all([adapter.start(), bookkeeping]);
    } catch (error) {
      const problem = error instanceof TargetError ? error : new TargetError("the gateway could not open this session");
      if (!(error instanceof TargetError)) log.error({ err: error, sessionId: this.core.id }, `session ${this.core.id} failed to start`);
      if (problem.auditAction) {
        await audit(db, this.context.actor, { action: problem.auditAction, outcome: "refused", objectType: "target", objectId: target.id, details: { target: target.name, ...problem.auditDetails } });
      }
      await this.end("error", problem.message);
      return;
    }
    if (!this.core.activate()) return adapter.close();
    await markSessionActive(db, this.core.id);
    this.send({ type: "connected", sessionId: this.core.id });
    const deadline = sessionDeadline(this.core.started, target.sessionTtlSeconds, this.context.access?.endsAt ?? null);
    if (deadline !== null) this.setDeadline(deadline);
  }

  private send(message: SessionServerMessage) {
    if (this.context.socket.readyState === this.context.socket.OPEN) this.context.socket.send(JSON.stringify(message));
  }

  private toUser(data: Buffer) {
    const { socket } = this.context;
    if (socket.readyState !== socket.OPEN) return;
    this.bytesToUser += data.length;
    this.unflushedOutput += data.length;
    metrics.relayedBytes.add(relayedLabels(this.context.target.protocol).toUser, data.length);
    // To the user first (an echo waits for nothing of ours), then to everything that follows the screen.
    socket.send(data, { binary: true }, () => {
      this.unflushedOutput -= data.length;
      if (this.outputBackpressure && this.unflushedOutput <= outputWatermarks.low) {
        this.outputBackpressure = false;
        this.syncTargetFlow();
      }
    });
    this.core.screen(data);
    this.context.stream.observeOutput(data);
    this.context.commandPolicy
      ?.output(data)
      ?.then((matches) => matches.forEach((match) => void this.policyMatched(match)))
      .catch((error: unknown) => log.error({ err: error, sessionId: this.core.id }, `session ${this.core.id}: matching output failed`));
    this.recorder?.output(data);
    if (!this.recordingBehind && this.recorder?.behind?.(() => this.recordingCaughtUp())) {
      this.recordingBehind = true;
      this.syncTargetFlow();
    }
    if (!this.outputBackpressure && this.unflushedOutput > outputWatermarks.high) {
      this.outputBackpressure = true;
      this.syncTargetFlow();
    }
  }

  private recordingCaughtUp() {
    this.recordingBehind = false;
    this.syncTargetFlow();
  }

  private syncTargetFlow() {
    const hold = this.outputBackpressure || this.recordingBehind || this.core.state === "paused";
    if (hold === this.targetHeld) return;
    this.targetHeld = hold;
    if (hold) this.context.adapter.pause();
    else this.context.adapter.resume();
  }

  private syncInputFlow() {
    if (this.inputBackpressure || this.core.state === "paused") this.context.socket.pause();
    else this.context.socket.resume();
  }

  private fromUser(data: Buffer) {
    if (this.core.state === "paused") return void this.heldInput.push(data);
    if (this.core.state === "locked") {
      const allowed = this.context.stream.inputWhileLocked(data);
      if (allowed) this.toTarget(allowed);
      return;
    }
    if (this.core.state !== "active") return;
    if (this.waitingInput) {
      if (this.waitingInputBytes + data.length > inputWaitingLimit) return this.send({ type: "error", message: "input was dropped: the command before it is still waiting for the command policy" });
      this.waitingInputBytes += data.length;
      return void this.waitingInput.push(data);
    }
    const policy = this.context.commandPolicy;
    let rest = data;
    while (policy && rest.length > 0) {
      const at = policy.nextEnter(rest);
      if (at === -1) break;
      this.forwardInput(rest.subarray(0, at));
      const enter = rest.subarray(at, at + 1);
      rest = rest.subarray(at + 1);
      const verdict = policy.atEnter()?.then((match) => this.judgeEnter(match)) ?? this.core.state === "active";
      // What follows the Enter (in the same frame, a pasted block; or typed while the line waits for security)
      // waits for the verdict and then for the target's answer, as if typed after it.
      if (verdict instanceof Promise || rest.length > 0) {
        this.waitingInput = [rest];
        this.waitingInputBytes = rest.length;
        void Promise.resolve(verdict)
          .then((send) => this.finishEnter(enter, send))
          .then(() => (this.core.state === "active" && this.waitingInputBytes > 0 ? policy.echo() : undefined))
          .catch((error: unknown) => log.error({ err: error, sessionId: this.core.id }, `session ${this.core.id}: the command policy failed`))
          .finally(() => this.releaseWaitingInput());
        return;
      }
      this.finishEnter(enter, verdict);
    }
    this.forwardInput(rest);
  }

  private releaseWaitingInput() {
    const waiting = this.waitingInput ?? [];
    this.waitingInput = null;
    this.waitingInputBytes = 0;
    for (const data of waiting) this.fromUser(data);
  }

  private forwardInput(data: Buffer) {
    if (data.length === 0) return;
    this.bytesFromUser += data.length;
    metrics.relayedBytes.add(relayedLabels(this.context.target.protocol).fromUser, data.length);
    const { forward, shown, commands, masked } = this.context.stream.input(data);
    // The keys go first: what follows only takes note of them, and the target's answer cannot come back before
    // this turn ends, so the key does not wait for the bookkeeping.
    if (forward) this.toTarget(forward);
    this.context.commandPolicy?.keys(data, masked);
    this.recorder?.input(shown, commands);
    const at = Date.now();
    const entries = [...(shown ? [{ at, kind: "keys" as const, text: shown }] : []), ...commands.map((text) => ({ at, kind: "command" as const, text }))];
    if (entries.length > 0) this.core.notice({ type: "log", entries });
  }

  /** The Enter runs the line (send), or the line is cleared and stays unrun. */
  private finishEnter(enter: Buffer, send: boolean) {
    if (send && this.core.state === "active") this.forwardInput(enter);
    else if (this.core.state !== "ended") this.toTarget(clearLine);
    this.context.commandPolicy?.lineEnded(send);
  }

  // ── Command policy ──────────────────────────────────────────────────────────────────────────────────

  /** What the matched rules make of an Enter: run the line (true), withhold it (false), or wait for security. */
  private judgeEnter(match: PolicyMatch | null): boolean | Promise<boolean> {
    if (!match || this.core.state !== "active") return this.core.state === "active";
    if (match.unchecked) {
      const { why, then } = uncheckedLines[match.unchecked];
      if (match.rules.length === 0) return true;
      this.send({ type: "policy", message: `Not run: ${why}; ${then}.` });
      void this.recordMatch({ id: null, name: `unchecked line (${why})`, severity: "high", action: "block" }, "blocked", match.subject);
      return false;
    }
    const strongest = strongestRule(match.rules);
    const others = match.rules.filter((rule) => rule !== strongest);
    for (const rule of others) void this.recordMatch(rule, "alerted", match.subject);
    if (strongest.action === "alert") {
      void this.recordMatch(strongest, "alerted", match.subject);
      return true;
    }
    if (strongest.action === "hold") return this.hold(strongest, match.subject);
    if (strongest.action === "block") {
      this.send({ type: "policy", message: `Not run: the command policy does not allow this (${strongest.name}).` });
      void this.recordMatch(strongest, "blocked", match.subject);
      return false;
    }
    void this.enforce(strongest, match.subject);
    return false;
  }

  /**
   * A match after the fact (an output line, a clipboard transfer): every rule is recorded, the strongest acts. A
   * block here is one the stream already applied (a paste it dropped): the user is told.
   */
  async policyMatched(match: PolicyMatch) {
    if (match.rules.length === 0) return;
    const strongest = strongestRule(match.rules);
    for (const rule of match.rules) if (rule !== strongest) await this.recordMatch(rule, "alerted", match.subject);
    if (strongest.action === "alert") return void (await this.recordMatch(strongest, "alerted", match.subject));
    if (strongest.action === "block") {
      this.send({ type: "policy", message: `Not done: the command policy does not allow ${match.subject} (${strongest.name}).` });
      return void (await this.recordMatch(strongest, "blocked", match.subject));
    }
    await this.enforce(strongest, match.subject);
  }

  /** Lock, pause or terminate as security would: through the control bus, audited, with the rule as the reason. */
  private async enforce(rule: CommandRuleRow, subject: string) {
    const outcome: Record<string, RiskOutcome> = { lock: "locked", pause: "paused", terminate: "terminated", terminate_and_cancel: "terminated" };
    await this.recordMatch(rule, outcome[rule.action] ?? "alerted", subject);
    const action = rule.action as "lock" | "pause" | "terminate" | "terminate_and_cancel";
    try {
      await controlSession(runtime(), policyActor, this.core.id, { action, reason: `rule ${rule.name} matched: ${subject.slice(0, 200)}` });
    } catch (error) {
      log.error({ err: error, sessionId: this.core.id }, `session ${this.core.id}: the command policy could not ${action} it`);
    }
  }

  /** A held line waits for security's answer on the watch page; no answer in time is a denial. */
  private async hold(rule: CommandRuleRow, subject: string): Promise<boolean> {
    this.send({ type: "policy", message: `This command waits for approval by security (${rule.name}); it runs if approved within ${rule.holdSeconds} s.` });
    const eventId = await this.recordMatch(rule, "held", subject);
    const { outcome, by } = await runtime().holds.hold(this.core.id, rule, subject);
    if (eventId !== null) await settleRiskEvent(this.context.db, eventId, outcome, by).catch((error) => log.error({ err: error, sessionId: this.core.id }, `settling a hold in session ${this.core.id} failed`));
    const approved = outcome === "approved";
    this.send({ type: "policy", message: approved ? `Approved by ${by}: the command runs.` : outcome === "denied" ? `Denied by ${by}: the command was not run.` : "No one approved the command in time: it was not run." });
    return approved;
  }

  /** Records a match as a risk event (at most riskEventsPerMinute) and shows it to watchers; its id, or null when not recorded. */
  private async recordMatch(rule: Pick<CommandRuleRow, "name" | "severity" | "action"> & { id: string | null }, outcome: RiskOutcome, subject: string): Promise<number | null> {
    const now = Date.now();
    if (now - this.riskMinuteStartedAt >= 60_000) {
      this.riskMinuteStartedAt = now;
      this.riskEventsThisMinute = 0;
    }
    if (++this.riskEventsThisMinute > riskEventsPerMinute) return null;
    try {
      const id = await recordRiskEvent(this.context.db, this.context.actor, { sessionId: this.core.id, rule, outcome, subject });
      const event: RiskEventView = { id, at: new Date(now).toISOString(), offsetSeconds: (now - this.core.started) / 1000, ruleName: rule.name, severity: rule.severity, action: rule.action, outcome, subject: subject.slice(0, 2000), decidedBy: null };
      this.core.notice({ type: "risk", event });
      return id;
    } catch (error) {
      log.error({ err: error, sessionId: this.core.id }, `recording a risk event of session ${this.core.id} failed`);
      return null;
    }
  }

  private toTarget(data: Buffer) {
    if (!this.context.adapter.write(data)) {
      this.inputBackpressure = true;
      this.syncInputFlow();
    }
  }

  private control(data: Buffer) {
    const message = parseJsonFrame(sessionClientMessageSchema, data.toString("utf8"));
    if (!message.success) return this.send({ type: "error", message: "unknown or malformed control frame" });
    if (message.data.type === "resize") {
      if (this.core.state !== "connecting" && this.core.state !== "ended" && this.context.adapter.resize) {
        const size = { cols: message.data.cols, rows: message.data.rows };
        this.context.adapter.resize(size);
        this.context.commandPolicy?.resize(size);
        this.context.stream.resize?.(size);
        this.recorder?.resize?.(size);
        this.core.screen({ type: "resize", ...size });
      }
    } else {
      logFailure(this.extend(), `extending session ${this.core.id}`);
    }
  }

  // ── Oversight: watchers and controls ────────────────────────────────────────────────────────────────

  /** What the dashboard shows of the user's screen, when it changed since the last call. */
  async takePreview(): Promise<string | null> {
    return this.core.id ? this.context.stream.takePreview() : null;
  }

  async takeThumbnail(): Promise<Buffer | null> {
    const { adapter } = this.context;
    const now = Date.now();
    const due = this.thumbnailTakenAt === 0 || now - this.thumbnailTakenAt >= thumbnailEveryMs;
    const screenAt = this.bytesToUser;
    if (!adapter.thumbnail || this.core.state === "connecting" || this.core.state === "ended" || !due || screenAt === this.bytesAtThumbnail) return null;
    const jpeg = await adapter.thumbnail(thumbnailWidth);
    // No picture (none drawn yet, the engine busy): asked again at the next check, not after a whole interval.
    if (jpeg) {
      this.thumbnailTakenAt = now;
      this.bytesAtThumbnail = screenAt;
    }
    return jpeg;
  }

  watch(socket: WebSocket, viewer: Actor) {
    this.core.watch(socket, viewer);
  }

  relayTo(link: WebSocket) {
    this.core.relayTo(link);
  }

  applyControl(command: SessionControlCommand): Promise<ControlOutcome> {
    return this.core.applyControl(command);
  }

  /** Security locked, paused, unlocked or resumed the session: the flow follows, and the user is told. */
  private controlled(state: ControlledState, userMessage: string) {
    this.syncTargetFlow();
    this.syncInputFlow();
    if (state === "active") for (const data of this.heldInput.splice(0)) this.fromUser(data);
    this.send({ type: "state", state, message: userMessage });
  }

  // ── Time limit ──────────────────────────────────────────────────────────────────────────────────────

  private get canExtend(): boolean {
    const { extensionSeconds, maxSessionSeconds } = this.context.target;
    const { expiresAt } = this.core;
    if (expiresAt === null || extensionSeconds <= 0) return false;
    const extended = expiresAt + extensionSeconds * 1000;
    const withinPolicy = !this.context.access?.extendableUntil || extended <= this.context.access.extendableUntil.getTime();
    return withinPolicy && (maxSessionSeconds === 0 || extended <= this.core.started + maxSessionSeconds * 1000);
  }

  private setDeadline(expiresAt: number) {
    // Where the access runs out before the target's own limit, the person is told that it is the access that ended.
    const accessEndsAt = this.context.access?.endsAt?.getTime();
    const message = accessEndsAt !== undefined && expiresAt >= accessEndsAt ? "your access ended: its window or request is over" : "the session reached its time limit";
    this.core.setDeadline(expiresAt, message, () => this.warnOfExpiry());
  }

  private warnOfExpiry() {
    const { expiresAt } = this.core;
    if (expiresAt === null || this.core.state === "ended" || this.core.state === "connecting") return;
    this.send({ type: "expiry", expiresAt: new Date(expiresAt).toISOString(), canExtend: this.canExtend, extensionSeconds: this.context.target.extensionSeconds });
  }

  private async extend() {
    const current = this.core.expiresAt;
    if (this.core.state !== "active" || !this.canExtend || current === null) {
      return this.send({ type: "error", message: "this session cannot be extended further" });
    }
    const expiresAt = current + this.context.target.extensionSeconds * 1000;
    // Past the request's window the request is extended too, or the re-check of access would end the session.
    const requestId = this.context.access?.requestId;
    if (requestId) await extendRequestWindow(this.context.db, this.context.actor, requestId, new Date(expiresAt));
    this.setDeadline(expiresAt);
    await audit(this.context.db, this.context.actor, { action: "session.extend", objectType: "session", objectId: this.core.id, details: { expiresAt: new Date(expiresAt).toISOString() } });
    this.send({ type: "expiry", expiresAt: new Date(expiresAt).toISOString(), canExtend: this.canExtend, extensionSeconds: this.context.target.extensionSeconds });
  }

  // ── End ─────────────────────────────────────────────────────────────────────────────────────────────

  end(reason: EndReason, message: string): Promise<void> {
    return this.core.end(reason, message);
  }

  private stop(reason: EndReason, message: string) {
    sessionRegistry.delete(this);
    if (this.core.id) runtime().holds.releaseSession(this.core.id);
    this.context.commandPolicy?.dispose();
    const { socket, adapter } = this.context;
    adapter.close();
    this.send({ type: "ended", reason, message });
    if (socket.readyState === socket.OPEN) socket.close(1000, reason);
  }

  private async finish(reason: EndReason, message: string) {
    const { db, actor } = this.context;
    const end = { reason, message, bytesFromUser: this.bytesFromUser, bytesToUser: this.bytesToUser };
    await this.recorder?.close();
    await closeSessionRow(db, this.core.id, end);
    await audit(db, actor, { action: "session.end", objectType: "session", objectId: this.core.id, details: end });
  }
}
