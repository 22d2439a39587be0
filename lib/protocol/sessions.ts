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
  /** `risky`: only sessions where a rule matched. */
  risk: z.union([z.literal("risky"), z.literal("")]).optional().transform((value) => value || undefined),
  /** Newest first (the default), or the riskiest first. */
  sort: z.union([z.enum(["started", "risk"]), z.literal("")]).optional().transform((value) => value || undefined),
  /** Where the page starts: after this row of the list (a cursor the previous page gave). */
  after: z
    .string()
    .max(300)
    .optional()
    .transform((value, ctx) => {
      if (!value) return undefined;
      const cursor = readSessionCursor(value);
      if (!cursor) {
        ctx.addIssue({ code: "custom", message: "Not a page of this list: start again from its first page" });
        return z.NEVER;
      }
      return cursor;
    }),
});
export type SessionFilter = z.infer<typeof sessionFilterSchema>;

/** A row of the sessions list as a page boundary: its sort keys, the start to the microsecond as the database has it. */
export interface SessionCursor {
  riskScore: number;
  startedAt: string;
  id: string;
}

const sessionCursorSchema = z.tuple([z.number().int().min(0), z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00$/), z.string().uuid()]);

export function sessionCursor(row: SessionCursor) {
  return Buffer.from(JSON.stringify([row.riskScore, row.startedAt, row.id])).toString("base64url");
}

function readSessionCursor(text: string): SessionCursor | null {
  try {
    const parsed = sessionCursorSchema.safeParse(JSON.parse(Buffer.from(text, "base64url").toString("utf8")));
    return parsed.success ? { riskScore: parsed.data[0], startedAt: parsed.data[1], id: parsed.data[2] } : null;
  } catch {
    return null;
  }
}

/** Sessions on one page of the list. */
export const sessionPageSize = 100;

/** Sessions started per hour over the last days, by protocol: the dashboard's chart. */
export const sessionsOverTimeSchema = z.object({
  /** The start of each hour (seconds since the epoch, as the chart takes them). */
  hours: z.array(z.number()),
  started: z.record(protocolSchema, z.array(z.number().int().min(0))),
});
export type SessionsOverTime = z.infer<typeof sessionsOverTimeSchema>;

export const sessionsOverTimeDays = 7;
