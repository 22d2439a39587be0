// The reachability probe: one JSON message from the gateway, then the socket closes.
import { z } from "zod";

export const probeResultSchema = z.object({
  type: z.literal("probe.result"),
  reachable: z.boolean(),
  /** Time to open a TCP connection from the gateway to the target. */
  milliseconds: z.number().optional(),
  error: z.string().optional(),
});
export type ProbeResult = z.infer<typeof probeResultSchema>;
