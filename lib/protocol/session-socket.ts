// The session socket (/ws/terminal and /ws/desktop), the one the user's page speaks with the session spine. The
// target's stream and the user's input travel as binary frames, byte for byte (a terminal's bytes, or a
// desktop's Guacamole instructions); everything else is one of these JSON text frames.
import { z } from "zod";

export const terminalSizeSchema = z.object({
  cols: z.number().int().min(2).max(1000),
  rows: z.number().int().min(1).max(500),
});

/** Browser → gateway. */
export const sessionClientMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("resize"), ...terminalSizeSchema.shape }),
  z.object({ type: z.literal("extend") }),
]);
export type SessionClientMessage = z.infer<typeof sessionClientMessageSchema>;

export const endReasonSchema = z.enum(["user_closed", "target_closed", "terminated", "expired", "error", "interrupted"]);
export type EndReason = z.infer<typeof endReasonSchema>;

/** Gateway → browser. */
export const sessionServerMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("connecting"), sessionId: z.string() }),
  z.object({ type: z.literal("connected"), sessionId: z.string() }),
  /** The session's deadline; `canExtend` says whether an extension would be granted now. */
  z.object({ type: z.literal("expiry"), expiresAt: z.string(), canExtend: z.boolean(), extensionSeconds: z.number() }),
  z.object({ type: z.literal("ended"), reason: endReasonSchema, message: z.string() }),
  /** Security locked (input dropped), paused (output and input held) or released the session. */
  z.object({ type: z.literal("state"), state: z.enum(["active", "locked", "paused"]), message: z.string() }),
  /** How many people from security watch the session now (sent only where the target announces watchers). */
  z.object({ type: z.literal("watchers"), count: z.number().int().min(0) }),
  /** The command policy withheld a line, holds it for approval, or let a held one through: said apart from the screen. */
  z.object({ type: z.literal("policy"), message: z.string() }),
  /** A frame the gateway could not use; the session goes on. */
  z.object({ type: z.literal("error"), message: z.string() }),
]);
export type SessionServerMessage = z.infer<typeof sessionServerMessageSchema>;

/** Query parameters of /ws/terminal besides the ticket: the terminal's size when it opens. */
export function terminalSocketPath(ticketUrl: string, size: { cols: number; rows: number }) {
  return `${ticketUrl}&cols=${size.cols}&rows=${size.rows}`;
}
