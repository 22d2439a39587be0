// Web recordings on the wire: what the gateway accepts from the recorder in a page (./page-recorder.ts), and
// the stretches of a recording the player reads. Events are rrweb's, stored one JSON per line.
import { z } from "zod";
import { navigationTag, pageEventType, type ExtendRequest, type PageEvent, type PageEventBatch } from "./page-recorder";

/** The longest address a page event may carry (a page load's or an in-app navigation's). */
export const pageAddressLimit = 2048;
/** How far an event's time may be from its batch's: events held while the gateway was unreachable are older. */
const eventAgeLimitMs = 24 * 60 * 60 * 1000;

const address = z
  .string()
  .max(pageAddressLimit)
  .refine((href) => URL.canParse(href), "not a URL");

export const pageEventSchema: z.ZodType<PageEvent> = z
  .object({
    type: z.number().int().min(0).max(6),
    timestamp: z.number().finite(),
    data: z.unknown(),
  })
  .loose()
  .superRefine((event, context) => {
    // The events the gateway itself reads must be what it expects; the rest it stores and forwards as they are.
    const data = event.data as { href?: unknown; tag?: unknown; payload?: { href?: unknown } } | null | undefined;
    if (event.type === pageEventType.meta && !address.safeParse(data?.href).success) context.addIssue({ code: "custom", message: "a page load needs its address (a URL of at most 2 KiB)" });
    if (event.type === pageEventType.custom && data?.tag === navigationTag && !address.safeParse(data.payload?.href).success) {
      context.addIssue({ code: "custom", message: "a navigation needs its address (a URL of at most 2 KiB)" });
    }
  });

export const pageEventBatchSchema: z.ZodType<PageEventBatch> = z
  .object({
    sentAt: z.number().finite(),
    events: z.array(pageEventSchema).max(10_000),
  })
  .refine((batch) => batch.events.every((event) => Math.abs(event.timestamp - batch.sentAt) <= eventAgeLimitMs), "events must be stamped within a day of their batch");

/** What a page may send on its events socket: a batch of events, or a request for more time. */
export const pageClientMessageSchema: z.ZodType<PageEventBatch | ExtendRequest> = z.union([pageEventBatchSchema, z.object({ type: z.literal("extend") })]);

/** A stretch of a web recording for the player: events from a full snapshot on, in the gateway's clock. */
export const pageEventsWindowSchema = z.object({
  /** The session's start (ms since the epoch) and the recording's length (ms). */
  startedAt: z.number(),
  durationMs: z.number(),
  events: z.array(pageEventSchema),
  /** The chunk to ask for next, or null at the end of the recording. */
  nextSeq: z.number().nullable(),
});
export type PageEventsWindow = z.infer<typeof pageEventsWindowSchema>;
