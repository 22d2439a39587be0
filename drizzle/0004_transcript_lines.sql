CREATE TABLE "transcript_lines" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"at_ms" integer NOT NULL,
	"kind" text NOT NULL,
	"text" text NOT NULL,
	"search_vector" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple', "text")) STORED NOT NULL
);
--> statement-breakpoint
ALTER TABLE "transcript_lines" ADD CONSTRAINT "transcript_lines_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "transcript_lines_session_idx" ON "transcript_lines" USING btree ("session_id","id");--> statement-breakpoint
CREATE INDEX "transcript_lines_search_idx" ON "transcript_lines" USING gin ("search_vector");--> statement-breakpoint
CREATE INDEX "transcript_lines_trigram_idx" ON "transcript_lines" USING gin ("text" gin_trgm_ops);