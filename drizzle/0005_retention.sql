ALTER TABLE "sessions" ADD COLUMN "prevent_purge" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "recording_purged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "retention_days" integer DEFAULT 0 NOT NULL;