// WebSocket text frames are JSON checked against the schema of their channel; text that is not JSON fails the
// same way as JSON of the wrong shape.
import type { z } from "zod";

export function parseJsonFrame<T>(schema: z.ZodType<T>, text: string): z.ZodSafeParseResult<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return schema.safeParse(parsed);
}
