-- Every node keeps the web visits its app hosts serve in memory, so that a request does not query the database.
-- The database tells every node when a row behind a cached visit changes, whoever changed it (a lock, a
-- termination, a sign-out, the idle sweep, an edited target, person or credential): the changed visit's id,
-- or '*' for a change that may touch any visit.
CREATE FUNCTION "web_visit_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'sessions' THEN
    PERFORM pg_notify('gatehouse_web_visit_changed', OLD.id::text);
  ELSE
    PERFORM pg_notify('gatehouse_web_visit_changed', '*');
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "web_visit_changed" AFTER UPDATE OR DELETE ON "sessions" FOR EACH ROW WHEN (OLD.protocol = 'web') EXECUTE FUNCTION "web_visit_changed"();--> statement-breakpoint
CREATE TRIGGER "web_visit_target_changed" AFTER UPDATE OR DELETE ON "targets" FOR EACH STATEMENT EXECUTE FUNCTION "web_visit_changed"();--> statement-breakpoint
CREATE TRIGGER "web_visit_person_changed" AFTER UPDATE OR DELETE ON "users" FOR EACH STATEMENT EXECUTE FUNCTION "web_visit_changed"();--> statement-breakpoint
CREATE TRIGGER "web_visit_credential_changed" AFTER UPDATE OR DELETE ON "credentials" FOR EACH STATEMENT EXECUTE FUNCTION "web_visit_changed"();
