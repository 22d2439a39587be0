// Filters for the sessions and recordings list, shared by the page's form, its URL and the API.
import { z } from "zod";
import { protocolSchema } from "./domain";

const optionalText = z
  .string()
  .trim()
  .max(128)
  .optional()
  .transform((value) => value || undefined);

const optionalDate = z
  .string()
  .trim()
  .optional()
  .transform((value, ctx) => {
    if (!value) return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: "custom", message: "Use a date such as 2026-11-24" });
      return z.NEVER;
    }
    return date;
  });

export const sessionStatusFilterSchema = z.enum(["live", "ended", "interrupted"]);

export const sessionFilterSchema = z.object({
  user: optionalText,
  target: optionalText,
  node: optionalText,
  protocol: z.union([protocolSchema, z.literal("")]).optional().transform((value) => value || undefined),
  status: z.union([sessionStatusFilterSchema, z.literal("")]).optional().transform((value) => value || undefined),
  from: optionalDate,
  /** Inclusive: sessions started on this day count. */
  to: optionalDate,
});
export type SessionFilter = z.infer<typeof sessionFilterSchema>;
