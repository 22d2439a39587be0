CREATE TABLE "stream_cursors" (
	"sink" text PRIMARY KEY NOT NULL,
	"delivered_seq" bigint NOT NULL,
	"delivered_at" timestamp with time zone,
	"lease_node" text,
	"lease_until" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "stream_events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"payload" jsonb NOT NULL
);
--> statement-breakpoint
-- Every audit entry and every command typed becomes a stream event in the same transaction. The advisory lock is
-- taken before the event's number is drawn and held to commit, so events commit in the order of their numbers:
-- a sender that has read up to N can never later see an event below N appear.
CREATE FUNCTION "stream_audit_entry"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(127978707362157);
  INSERT INTO "stream_events" ("kind", "payload") VALUES ('audit', jsonb_build_object(
    'auditSeq', NEW.seq, 'at', NEW.at, 'actorId', NEW.actor_id, 'actorName', NEW.actor_name, 'sourceIp', NEW.source_ip,
    'action', NEW.action, 'outcome', NEW.outcome, 'objectType', NEW.object_type, 'objectId', NEW.object_id, 'details', NEW.details));
  PERFORM pg_notify('gatehouse_stream', '');
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "stream_audit_entry" AFTER INSERT ON "audit_log" FOR EACH ROW EXECUTE FUNCTION "stream_audit_entry"();--> statement-breakpoint
CREATE FUNCTION "stream_command"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(127978707362157);
  INSERT INTO "stream_events" ("kind", "payload")
  SELECT 'command', jsonb_build_object(
    'sessionId', s.id, 'at', s.started_at + make_interval(secs => NEW.at_ms / 1000.0), 'user', u.username, 'userId', u.id,
    'target', s.target_name, 'targetId', s.target_id, 'protocol', s.protocol, 'node', s.node, 'sourceIp', s.client_address, 'command', NEW.text)
  FROM "sessions" s JOIN "users" u ON u.id = s.user_id WHERE s.id = NEW.session_id;
  PERFORM pg_notify('gatehouse_stream', '');
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "stream_command" AFTER INSERT ON "transcript_lines" FOR EACH ROW WHEN (NEW.kind = 'command') EXECUTE FUNCTION "stream_command"();
