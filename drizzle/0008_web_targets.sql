ALTER TABLE "sessions" ADD COLUMN "app_token_hash" text;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "internal_url" text;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "web_auth_header" text;--> statement-breakpoint
CREATE UNIQUE INDEX "sessions_app_token_key" ON "sessions" USING btree ("app_token_hash");