ALTER TABLE "nodes" ADD COLUMN "stats" jsonb DEFAULT '{"sessions":{}}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "retired_at" timestamp with time zone;
