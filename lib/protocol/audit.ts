// Reading the audit log: the filters and the page asked for, shared by the page's form, its URL, the API and
// the export.
import { z } from "zod";

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `At most ${max} characters`)
    .optional()
    .transform((value) => value || undefined);

/** A moment in UTC; a date alone is its start, or for the end of a range (`wholeDay`) the start of the next day. */
const optionalMoment = (wholeDay: boolean) =>
  z
    .string()
    .trim()
    .max(40)
    .optional()
    .transform((value, ctx) => {
      if (!value) return undefined;
      const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
      const moment = new Date(dateOnly || /[zZ]|[+-]\d{2}:?\d{2}$/.test(value) ? value : `${value}Z`);
      if (Number.isNaN(moment.getTime())) {
        ctx.addIssue({ code: "custom", message: "Use a date such as 2026-11-24 or 2026-11-24T09:30 (UTC)" });
        return z.NEVER;
      }
      return dateOnly && wholeDay ? new Date(moment.getTime() + 86_400_000) : moment;
    });

export const auditOutcomeSchema = z.enum(["success", "failure", "refused"]);

export const auditFilterSchema = z.object({
  /** The start of an action (`recording.` for every recording action). */
  action: optionalText(100),
  /** A part of the actor's name. */
  actor: optionalText(100),
  objectType: optionalText(50),
  /** The object's id, whole. */
  objectId: optionalText(200),
  outcome: z.union([auditOutcomeSchema, z.literal("")]).optional().transform((value) => value || undefined),
  /** From this moment on. */
  from: optionalMoment(false),
  /** Up to this moment; a date alone counts its whole day. */
  to: optionalMoment(true),
});
export type AuditFilter = Partial<z.infer<typeof auditFilterSchema>>;

/** The page: entries older than `before` (an entry number), newest first. */
export const auditPageSchema = auditFilterSchema.extend({
  before: z.coerce.number().int().positive().optional().catch(undefined),
  /** `whole`: verify the whole chain now, not only the page. */
  verify: z.literal("whole").optional().catch(undefined),
});

export const auditExportSchema = auditFilterSchema.extend({ format: z.enum(["csv", "jsonl"]) });

/** Entries on one page of the audit log. */
export const auditPageSize = 200;
