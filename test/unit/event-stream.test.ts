// The streamed events' shapes and encodings: what a SIEM parses must be exact, and nothing a user typed may
// break out of its field.
import { describe, expect, it } from "vitest";
import { cefLine, streamEvent, syslogFrame, wanted, type StreamEventRow } from "@/lib/infra/event-stream/events";
import { sinksSchema } from "@/lib/infra/event-stream/sinks";

const at = new Date("2026-11-30T12:00:00.000Z");
const audit = (payload: Record<string, unknown>): StreamEventRow => ({ seq: 41, at, kind: "audit", payload: { auditSeq: 7, at: at.toISOString(), actorName: "sam", actorId: null, sourceIp: "10.0.0.9", outcome: "success", details: {}, ...payload } });
const command: StreamEventRow = {
  seq: 42,
  at,
  kind: "command",
  payload: { sessionId: "s-1", at: "2026-11-30T12:00:01.5+00:00", user: "bob", userId: "u-1", target: "db|prod", targetId: "t-1", protocol: "ssh", node: "n1", sourceIp: "10.0.0.8", command: "psql -c 'x=1' \\ \nDROP" },
};

describe("stream events", () => {
  it("turn audit entries and commands into the published shape, with a stable id", () => {
    expect(streamEvent(audit({ action: "login", outcome: "failure", objectType: "user", objectId: "u-2" }))).toEqual({
      schema: "gatehouse.event/1",
      id: "gatehouse:41",
      seq: 41,
      time: "2026-11-30T12:00:00.000Z",
      type: "login",
      outcome: "failure",
      severity: "warning",
      actor: { id: null, name: "sam", ip: "10.0.0.9" },
      object: { type: "user", id: "u-2" },
      details: {},
      auditSeq: 7,
    });
    expect(streamEvent(command)).toMatchObject({
      id: "gatehouse:42",
      type: "command",
      time: "2026-11-30T12:00:01.500Z",
      actor: { id: "u-1", name: "bob", ip: "10.0.0.8" },
      session: { id: "s-1", target: "db|prod", targetId: "t-1", protocol: "ssh", node: "n1" },
      command: "psql -c 'x=1' \\ \nDROP",
    });
  });

  it("take a rule's severity from the match", () => {
    expect(streamEvent(audit({ action: "session.policy_match", details: { severity: "critical" } })).severity).toBe("critical");
    expect(streamEvent(audit({ action: "session.start" })).severity).toBe("info");
  });

  it("are filtered by type prefix", () => {
    const filter = { include: ["session.", "command"], exclude: ["session.view"] };
    expect(wanted({ type: "session.start" }, filter)).toBe(true);
    expect(wanted({ type: "command" }, filter)).toBe(true);
    expect(wanted({ type: "session.view" }, filter)).toBe(false);
    expect(wanted({ type: "login" }, filter)).toBe(false);
    expect(wanted({ type: "login" }, { include: [], exclude: [] })).toBe(true);
  });

  it("escape CEF's header and extension, so typed text cannot add fields or lines", () => {
    const line = cefLine(streamEvent(command), "1.2|3");
    expect(line).toBe(
      "CEF:0|Gatehouse|Gatehouse|1.2\\|3|command|Command typed|3|rt=1796040001500 externalId=gatehouse:42 act=command outcome=success suser=bob suid=u-1 src=10.0.0.8 cs1Label=objectType cs1=session cs2Label=objectId cs2=s-1 cs3Label=sessionId cs3=s-1 dhost=db|prod msg=psql -c 'x\\=1' \\\\ \\nDROP",
    );
    expect(line.split("\n")).toHaveLength(1);
  });

  it("frame syslog as RFC 5424 with an octet count, the id in structured data", () => {
    const event = streamEvent(audit({ action: "session.policy_match", details: { severity: "high" } }));
    const frame = syslogFrame(event, '{"message":"héllo"}', "node one");
    const text = frame.toString("utf8");
    const [length, ...rest] = text.split(" ");
    const message = rest.join(" ");
    expect(Number(length)).toBe(Buffer.byteLength(message));
    // Facility 13 (log audit) × 8 + severity 3 (error).
    expect(message).toBe('<107>1 2026-11-30T12:00:00.000Z node_one gatehouse - session.policy_match [gatehouse@32473 id="gatehouse:41"] {"message":"héllo"}');
  });
});

describe("SIEM_SINKS", () => {
  it("takes the three kinds of sink, with defaults", () => {
    const sinks = sinksSchema.parse(JSON.stringify([{ name: "soc", type: "syslog", address: "tls://siem.example:6514" }, { name: "hook", type: "webhook", url: "https://h.example/x", secret: "0123456789abcdef" }, { name: "f", type: "file", path: "/var/log/g.jsonl", format: "cef" }]));
    expect(sinks.map((sink) => [sink.name, sink.format, sink.include])).toEqual([["soc", "json", []], ["hook", "json", []], ["f", "cef", []]]);
  });

  it("refuses a bad address, a short secret, duplicate names and what is not JSON", () => {
    expect(sinksSchema.safeParse(JSON.stringify([{ name: "soc", type: "syslog", address: "udp://x:514" }])).success).toBe(false);
    expect(sinksSchema.safeParse(JSON.stringify([{ name: "hook", type: "webhook", url: "https://h.example", secret: "short" }])).success).toBe(false);
    expect(sinksSchema.safeParse(JSON.stringify([{ name: "a", type: "file", path: "/x" }, { name: "a", type: "file", path: "/y" }])).success).toBe(false);
    expect(sinksSchema.safeParse("[{").success).toBe(false);
  });
});
