CREATE TABLE "recording_keyframes" (
	"session_id" uuid NOT NULL,
	"after_seq" integer NOT NULL,
	"at_ms" integer NOT NULL,
	"size" integer NOT NULL,
	"sha256" text NOT NULL,
	"blob_key" text NOT NULL,
	CONSTRAINT "recording_keyframes_session_id_after_seq_pk" PRIMARY KEY("session_id","after_seq")
);
--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "keyframed_seq" integer;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "record_sessions" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "recording_keyframes" ADD CONSTRAINT "recording_keyframes_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;