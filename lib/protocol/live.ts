// Live oversight: the watch WebSocket (/ws/watch), the controls security applies to a live session, and the
// messages nodes exchange to apply them wherever the session runs.
import { z } from "zod";
import { riskEventSchema } from "./command-rules";
import { endReasonSchema, terminalSizeSchema } from "./session-socket";

/** What a session is doing now; `locked` drops the user's input, `paused` holds output and input. */
export const liveStateSchema = z.enum(["connecting", "active", "locked", "paused"]);
export type LiveState = z.infer<typeof liveStateSchema>;

export const controlActionSchema = z.enum(["lock", "unlock", "pause", "resume", "terminate", "terminate_and_cancel"]);
export type ControlAction = z.infer<typeof controlActionSchema>;

/** Where security's controls can move a session. */
export type ControlledState = Exclude<LiveState, "connecting">;
const moves: Record<Exclude<ControlAction, "terminate" | "terminate_and_cancel">, readonly [from: ControlledState, to: ControlledState]> = {
  lock: ["active", "locked"],
  unlock: ["locked", "active"],
  pause: ["active", "paused"],
  resume: ["paused", "active"],
};

/**
 * The one table of security's controls: where `action` takes a session of `protocol` that stands at `state`, or
 * why it cannot. A web visit is not paused (its requests cannot wait in the browser): it is locked instead.
 */
export function controlTransition(state: LiveState | "ended", action: ControlAction, protocol: string): { to: ControlledState | "ended" } | { refused: string } {
  if (state === "ended") return { refused: "the session has already ended" };
  if (action === "terminate" || action === "terminate_and_cancel") return { to: "ended" };
  if (protocol === "web" && (action === "pause" || action === "resume")) return { refused: "a web session cannot be paused; lock it instead" };
  const [from, to] = moves[action];
  if (state !== from) return { refused: `the session is ${state}; it can be ${action === "lock" || action === "pause" ? "locked or paused only when active" : `${action}d only when ${from}`}` };
  return { to };
}

/** The controls security is offered for a session, in the order the buttons show them. */
export const controlsFor = (state: LiveState, protocol: string) => controlActionSchema.options.filter((action) => !("refused" in controlTransition(state, action, protocol)));

/** Body of POST /api/sessions/<id>/control. Every control is audited with its reason. */
export const controlRequestSchema = z.object({
  action: controlActionSchema,
  reason: z.string().trim().min(1, "Say why: the reason goes to the audit log").max(500, "At most 500 characters"),
});
export type ControlRequest = z.infer<typeof controlRequestSchema>;

/** Said to the user when security locks their session. */
export const lockedMessage = "Your session has been locked, please contact your Administrator.";

/** One line of the live keystroke and command log. `at` is milliseconds since the epoch. */
export const keystrokeLogEntrySchema = z.object({ at: z.number(), kind: z.enum(["keys", "command"]), text: z.string() });
export type KeystrokeLogEntry = z.infer<typeof keystrokeLogEntrySchema>;

/**
 * Gateway → watcher, as JSON text frames; the screen itself comes as binary frames, byte for byte. A `screen`
 * frame starts (or, for a watcher that fell behind, restarts) the view: reset the terminal to that size; the
 * binary frames that follow draw the current screen; `live` marks where the live output continues. `continuous`
 * says whether the live output carries on exactly from where this watcher's stream stood before the `screen`
 * (it does when a watcher in step asked to be caught up again; it does not on joining or after falling behind).
 * A web session's view starts with `page` instead: its binary frames are page events (rrweb's, one JSON per
 * line), from the last full snapshot of the page on. A desktop's (RDP, VNC) starts with `desktop`: its binary
 * frames are Guacamole instructions, from the last full frame on.
 */
export const watchServerMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("joined"),
    session: z.object({ id: z.string(), username: z.string(), targetName: z.string(), protocol: z.string(), node: z.string(), startedAt: z.string(), recorded: z.boolean() }),
  }),
  z.object({ type: z.literal("screen"), ...terminalSizeSchema.shape }),
  z.object({ type: z.literal("page") }),
  z.object({ type: z.literal("desktop") }),
  z.object({ type: z.literal("live"), continuous: z.boolean() }),
  z.object({ type: z.literal("resize"), ...terminalSizeSchema.shape }),
  z.object({ type: z.literal("log"), entries: z.array(keystrokeLogEntrySchema) }),
  z.object({ type: z.literal("state"), state: liveStateSchema, by: z.string().nullable(), reason: z.string().nullable() }),
  /** A rule matched: the risk event as it was recorded. */
  z.object({ type: z.literal("risk"), event: riskEventSchema }),
  z.object({ type: z.literal("ended"), reason: endReasonSchema, message: z.string() }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);
export type WatchServerMessage = z.infer<typeof watchServerMessageSchema>;

/**
 * Relaying node → owning node, over the one internal link that carries a session to all of the relaying node's
 * watchers: catch the link up again (a watcher joined there and its copy of the screen is stale), and how many
 * people watch through it (for the user's "someone is watching" banner).
 */
export const nodeLinkMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("resync") }),
  z.object({ type: z.literal("viewers"), count: z.number().int().min(0).max(100_000) }),
]);
export type NodeLinkMessage = z.infer<typeof nodeLinkMessageSchema>;

/** What the control bus carries: security's controls, and their answers to held commands or requests (`holdId`). */
export const busActionSchema = z.enum([...controlActionSchema.options, "approve_hold", "deny_hold"]);
export type BusAction = z.infer<typeof busActionSchema>;

/** A control travelling from the node where it was asked for to the node that runs the session (NOTIFY). */
export const controlCommandSchema = z.object({
  requestId: z.string(),
  node: z.string(),
  sessionId: z.string(),
  action: busActionSchema,
  holdId: z.string().max(64).optional(),
  reason: z.string(),
  actorName: z.string(),
});
export type ControlCommand = z.infer<typeof controlCommandSchema>;
/** A control for the session itself, as the node that runs it applies it (hold decisions go to the node's holds). */
export type SessionControlCommand = Omit<ControlCommand, "action" | "holdId"> & { action: ControlAction };

export const controlReplySchema = z.object({ requestId: z.string(), ok: z.boolean(), message: z.string() });
export type ControlReply = z.infer<typeof controlReplySchema>;

const namedKeys: Record<string, string> = { "\r": "⏎", "\n": "⏎", "\t": "⇥", "\x7f": "⌫", "\b": "⌫", "\x1b[A": "↑", "\x1b[B": "↓", "\x1b[C": "→", "\x1b[D": "←", "\x1bOA": "↑", "\x1bOB": "↓", "\x1bOC": "→", "\x1bOD": "←", "\x1b": "⎋" };

/** Typed text as a person reads it in the keystroke log: Enter, Backspace, arrows and Ctrl+keys shown by name. */
export function visibleKeys(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b(\[[0-9;]*[A-Za-z~]|O[A-Z])?|[\x00-\x1f\x7f]/g, (key) => namedKeys[key] ?? (key.length === 1 ? `^${String.fromCharCode(key.charCodeAt(0) + 64)}` : "⎋"));
}
