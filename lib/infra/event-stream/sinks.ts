// Where events go (SIEM_SINKS, a JSON array): syslog over TCP or TLS, a signed JSON webhook, or a JSON Lines
// file, each with its format and its filter.
import { z } from "zod";

const filter = {
  /** Event types to send, by prefix (`session.`, `login`, `command`); all when empty. */
  include: z.array(z.string().min(1).max(100)).max(100).default([]),
  /** Event types never to send, by prefix. */
  exclude: z.array(z.string().min(1).max(100)).max(100).default([]),
};
const common = {
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "a sink's name: lower-case letters, digits, dot, dash, underscore"),
  format: z.enum(["json", "cef"]).default("json"),
  ...filter,
};

export const sinkSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("syslog"),
    ...common,
    /** `tcp://host:port`, or `tls://host:port` (the server's certificate checked against `ca`, or the system's CAs). */
    address: z.string().refine((value) => URL.canParse(value) && /^(tcp|tls):$/.test(new URL(value).protocol) && new URL(value).port !== "", "tcp://host:port or tls://host:port"),
    /** A PEM file of the CA that signed the syslog server's certificate. */
    ca: z.string().min(1).optional(),
  }),
  z.object({
    type: z.literal("webhook"),
    ...common,
    url: z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), "an http(s) URL"),
    /** Signs each delivery: X-Gatehouse-Signature is HMAC-SHA256 of `<X-Gatehouse-Timestamp>.<body>` with it. */
    secret: z.string().min(16, "at least 16 characters"),
  }),
  z.object({ type: z.literal("file"), ...common, path: z.string().min(1) }),
]);
export type SinkConfig = z.infer<typeof sinkSchema>;

export const sinksSchema = z
  .string()
  .transform((value, ctx) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON array of sinks" });
      return z.NEVER;
    }
  })
  .pipe(z.array(sinkSchema).max(20))
  .refine((sinks) => new Set(sinks.map((sink) => sink.name)).size === sinks.length, "sink names must differ");

/** What the page and the API show of a sink: where it sends, never its secret. */
export interface SinkView {
  name: string;
  type: SinkConfig["type"];
  format: SinkConfig["format"];
  destination: string;
  include: string[];
  exclude: string[];
}

export function sinkView(sink: SinkConfig): SinkView {
  const destination = sink.type === "syslog" ? sink.address : sink.type === "webhook" ? new URL(sink.url).origin + new URL(sink.url).pathname : sink.path;
  return { name: sink.name, type: sink.type, format: sink.format, destination, include: sink.include, exclude: sink.exclude };
}
