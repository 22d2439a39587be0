// Minting a connect ticket: the browser asks for one, then opens the WebSocket with it.
import { z } from "zod";

export const ticketRequestSchema = z.union([
  z.object({ purpose: z.enum(["probe", "terminal", "desktop"]), targetId: z.uuid("targetId must be a target id") }),
  /** A read-only view of someone's live session, for security. */
  z.object({ purpose: z.literal("watch"), sessionId: z.uuid("sessionId must be a session id") }),
]);
export type TicketRequest = z.infer<typeof ticketRequestSchema>;

export const ticketResponseSchema = z.object({
  /** Path and query of the WebSocket to open on the gateway's origin. */
  url: z.string(),
  expiresAt: z.string(),
});
export type TicketResponse = z.infer<typeof ticketResponseSchema>;
