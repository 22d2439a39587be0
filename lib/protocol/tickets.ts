// Minting a connect ticket: the browser asks for one, then opens the WebSocket with it.
import { z } from "zod";
import { connectPurposeSchema } from "./domain";

export const ticketRequestSchema = z.object({
  targetId: z.uuid("targetId must be a target id"),
  purpose: connectPurposeSchema,
});

export const ticketResponseSchema = z.object({
  /** Path and query of the WebSocket to open on the gateway's origin. */
  url: z.string(),
  expiresAt: z.string(),
});
export type TicketResponse = z.infer<typeof ticketResponseSchema>;
