// The recording formats the browser reads: an asciicast v2 file and the verification verdict.
import { z } from "zod";

export const castHeaderSchema = z.object({ version: z.literal(2), width: z.number(), height: z.number() }).loose();
export const castEventSchema = z.tuple([z.number(), z.enum(["o", "i", "r", "m"]), z.string()]);
export type CastEvent = z.infer<typeof castEventSchema>;

/** Parses a .cast file; malformed lines are skipped rather than stopping the player. */
export function parseCast(text: string) {
  const [headerLine = "{}", ...lines] = text.split("\n");
  const header = castHeaderSchema.parse(JSON.parse(headerLine));
  const events: CastEvent[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    const event = castEventSchema.safeParse((() => {
      try {
        return JSON.parse(line);
      } catch {
        return null;
      }
    })());
    if (event.success) events.push(event.data);
  }
  return { header, events };
}

export const recordingVerdictSchema = z.union([
  z.object({ intact: z.literal(true), chunks: z.number() }),
  z.object({ intact: z.literal(false), chunks: z.number(), brokenAtSeq: z.number(), problem: z.string() }),
]);
export type RecordingVerdictView = z.infer<typeof recordingVerdictSchema>;
