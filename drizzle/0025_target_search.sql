CREATE TABLE "target_tags" (
	"tag" text PRIMARY KEY NOT NULL,
	"targets" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "search_text" text DEFAULT '' NOT NULL;--> statement-breakpoint
-- What a search of targets reads, kept by the database for every writer: a lower-case haystack read once per
-- row, instead of one assembled (and lower-cased) per row and word on every search.
CREATE FUNCTION "targets_search_text"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_text := lower(concat_ws(' ', NEW.name, NEW.host, NEW.protocol, array_to_string(NEW.tags, ' ')));
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "targets_search_text" BEFORE INSERT OR UPDATE ON "targets" FOR EACH ROW EXECUTE FUNCTION "targets_search_text"();--> statement-breakpoint
UPDATE "targets" SET "search_text" = lower(concat_ws(' ', "name", "host", "protocol", array_to_string("tags", ' ')));--> statement-breakpoint
-- The tags in use, counted per target (a tag twice on one target counts once), so that the filter's choices
-- are read from a small table instead of every target's tags.
CREATE FUNCTION "target_tags_count"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE "target_tags" SET "targets" = "targets" - 1 WHERE "tag" = ANY(OLD.tags);
    DELETE FROM "target_tags" WHERE "targets" <= 0;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO "target_tags" ("tag", "targets") SELECT DISTINCT "tag", 1 FROM unnest(NEW.tags) AS "tag"
      ON CONFLICT ("tag") DO UPDATE SET "targets" = "target_tags"."targets" + 1;
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "target_tags_count" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "targets" FOR EACH ROW EXECUTE FUNCTION "target_tags_count"();--> statement-breakpoint
INSERT INTO "target_tags" ("tag", "targets") SELECT "tag", count(DISTINCT "targets"."id") FROM "targets", unnest("targets"."tags") AS "tag" GROUP BY "tag";
