ALTER TABLE "recording_chunks" ADD COLUMN "snapshot" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "last_active_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "mask_all_inputs" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "idle_timeout_seconds" integer DEFAULT 900 NOT NULL;