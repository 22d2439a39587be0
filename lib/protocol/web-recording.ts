// Web recordings on the wire: what the gateway accepts from the recorder in a page (./page-recorder.ts), and
// the stretches of a recording the player reads. Events are rrweb's, stored one JSON per line.
import { z } from "zod";
import type { PageEvent, PageEventBatch } from "./page-recorder";

export const pageEventSchema: z.ZodType<PageEvent> = z
  .object({
    type: z.number().int().min(0).max(6),
    timestamp: z.number().finite(),
    data: z.unknown(),
  })
  .loose();

export const pageEventBatchSchema: z.ZodType<PageEventBatch> = z.object({
  sentAt: z.number().finite(),
  events: z.array(pageEventSchema).max(10_000),
});

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
