CREATE TABLE "recording_keys" (
	"session_id" uuid PRIMARY KEY NOT NULL,
	"sealed_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "key_id" text;--> statement-breakpoint
ALTER TABLE "recording_chunks" ADD COLUMN "mac" text;--> statement-breakpoint
ALTER TABLE "recording_chunks" ADD COLUMN "key_id" text;--> statement-breakpoint
ALTER TABLE "recording_keys" ADD CONSTRAINT "recording_keys_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;