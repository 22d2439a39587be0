ALTER TABLE "targets" ADD COLUMN "host_key_fingerprint" text;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "legacy_algorithms" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "session_ttl_seconds" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "extension_seconds" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "max_session_seconds" integer DEFAULT 0 NOT NULL;