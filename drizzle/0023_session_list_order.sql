DROP INDEX "sessions_risk_idx";--> statement-breakpoint
CREATE INDEX "sessions_started_idx" ON "sessions" USING btree ("started_at","id");--> statement-breakpoint
CREATE INDEX "sessions_risk_idx" ON "sessions" USING btree ("risk_score","started_at","id");