// The events Gatehouse streams to SIEMs (docs/EVENTS.md is their published schema): every audit entry and every
// command typed, each with a stable id, as JSON or as CEF, and framed for syslog (RFC 5424, octet-counted as RFC
// 6587 says for TCP). Pure functions: the sender (server/event-stream/) only moves their output.

/** Bumped when a field changes meaning or goes away; new fields may appear within a version. */
export const eventSchemaVersion = "gatehouse.event/1";

export interface StreamEventRow {
  seq: number;
  at: Date;
  kind: "audit" | "command";
  payload: Record<string, unknown>;
}

export type Severity = "info" | "notice" | "warning" | "error" | "critical";

export interface StreamEvent {
  schema: typeof eventSchemaVersion;
  /** Stable across retries and restarts: a receiver drops an id it has seen. */
  id: string;
  seq: number;
  time: string;
  /** The audit action (`session.start`, `login`, `session.policy_match`…) or `command`. */
  type: string;
  outcome: "success" | "failure" | "refused";
  severity: Severity;
  actor: { id: string | null; name: string; ip: string | null };
  object: { type: string; id: string | null } | null;
  /** Commands only: the session they were typed in. */
  session?: { id: string; target: string; targetId: string | null; protocol: string; node: string };
  command?: string;
  /** Audit entries only: what the entry says, and its number in the audit chain. */
  details?: Record<string, unknown>;
  auditSeq?: number;
}

const text = (value: unknown) => (typeof value === "string" ? value : null);

/** A rule match carries its rule's severity; refusals and failed sign-ins are warnings; the rest is information. */
function severityOf(action: string, outcome: string, details: Record<string, unknown>): Severity {
  const ruleSeverity = text(details.severity);
  if (ruleSeverity === "critical") return "critical";
  if (ruleSeverity === "high") return "error";
  if (ruleSeverity === "medium") return "warning";
  if (ruleSeverity === "low") return "notice";
  if (outcome !== "success" || action === "session.revoked" || action.startsWith("session.terminate")) return "warning";
  return "info";
}

export function streamEvent(row: StreamEventRow): StreamEvent {
  const payload = row.payload;
  const base = { schema: eventSchemaVersion, id: `gatehouse:${row.seq}`, seq: row.seq } as const;
  if (row.kind === "command") {
    return {
      ...base,
      time: new Date(String(payload.at)).toISOString(),
      type: "command",
      outcome: "success",
      severity: "info",
      actor: { id: text(payload.userId), name: text(payload.user) ?? "unknown", ip: text(payload.sourceIp) },
      object: { type: "session", id: text(payload.sessionId) },
      session: { id: String(payload.sessionId), target: text(payload.target) ?? "", targetId: text(payload.targetId), protocol: text(payload.protocol) ?? "", node: text(payload.node) ?? "" },
      command: text(payload.command) ?? "",
    };
  }
  const action = text(payload.action) ?? "unknown";
  const outcome = (text(payload.outcome) ?? "success") as StreamEvent["outcome"];
  const details = (payload.details && typeof payload.details === "object" ? payload.details : {}) as Record<string, unknown>;
  return {
    ...base,
    time: new Date(String(payload.at)).toISOString(),
    type: action,
    outcome,
    severity: severityOf(action, outcome, details),
    actor: { id: text(payload.actorId), name: text(payload.actorName) ?? "unknown", ip: text(payload.sourceIp) },
    object: text(payload.objectType) ? { type: text(payload.objectType)!, id: text(payload.objectId) } : null,
    details,
    auditSeq: Number(payload.auditSeq),
  };
}

/** Whether a sink wants the event: its type starts with one of `include` (all when empty) and none of `exclude`. */
export function wanted(event: Pick<StreamEvent, "type">, filter: { include: string[]; exclude: string[] }) {
  const matches = (prefix: string) => event.type === prefix || event.type.startsWith(prefix);
  return (filter.include.length === 0 || filter.include.some(matches)) && !filter.exclude.some(matches);
}

const cefSeverity: Record<Severity, number> = { info: 3, notice: 4, warning: 6, error: 8, critical: 10 };
// CEF escapes `\` and `|` in the header, `\` and `=` in extension values, and writes line breaks as \n / \r.
const cefHeader = (value: string) => value.replace(/[\\|]/g, (character) => `\\${character}`).replace(/[\r\n]+/g, " ");
const cefValue = (value: string) =>
  value
    .replace(/[\\=]/g, (character) => `\\${character}`)
    .replace(/\r/g, "\\r")
    .replace(/\n/g, "\\n");

/** ArcSight's Common Event Format, one line. */
export function cefLine(event: StreamEvent, version: string): string {
  const extension: [string, string | number | null | undefined][] = [
    ["rt", Date.parse(event.time)],
    ["externalId", event.id],
    ["act", event.type],
    ["outcome", event.outcome],
    ["suser", event.actor.name],
    ["suid", event.actor.id],
    ["src", event.actor.ip],
    ["cs1Label", event.object ? "objectType" : null],
    ["cs1", event.object?.type],
    ["cs2Label", event.object ? "objectId" : null],
    ["cs2", event.object?.id],
    ["cs3Label", event.session ? "sessionId" : null],
    ["cs3", event.session?.id],
    ["dhost", event.session?.target],
    ["msg", event.command],
    ["cs4Label", event.details ? "details" : null],
    ["cs4", event.details ? JSON.stringify(event.details) : null],
  ];
  const name = event.type === "command" ? "Command typed" : `${event.type} ${event.outcome}`;
  const fields = extension
    .filter(([, value]) => value !== null && value !== undefined && value !== "")
    .map(([key, value]) => `${key}=${cefValue(String(value))}`)
    .join(" ");
  return `CEF:0|Gatehouse|Gatehouse|${cefHeader(version)}|${cefHeader(event.type)}|${cefHeader(name)}|${cefSeverity[event.severity]}|${fields}`;
}

export type EventFormat = "json" | "cef";

export const formatEvent = (event: StreamEvent, format: EventFormat, version: string) => (format === "cef" ? cefLine(event, version) : JSON.stringify(event));

const syslogSeverity: Record<Severity, number> = { critical: 2, error: 3, warning: 4, notice: 5, info: 6 };
/** Facility 13, "log audit". */
const auditFacility = 13;
const printable = (value: string, most: number) => value.replace(/[^\x21-\x7e]/g, "_").slice(0, most) || "-";
const sdValue = (value: string) => value.replace(/["\\\]]/g, (character) => `\\${character}`);

/** One RFC 5424 message, prefixed with its length in octets (RFC 6587 octet counting) for a TCP or TLS stream. */
export function syslogFrame(event: StreamEvent, message: string, hostname: string): Buffer {
  const priority = auditFacility * 8 + syslogSeverity[event.severity];
  const line = `<${priority}>1 ${event.time} ${printable(hostname, 255)} gatehouse - ${printable(event.type, 32)} [gatehouse@32473 id="${sdValue(event.id)}"] ${message}`;
  const body = Buffer.from(line, "utf8");
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}
