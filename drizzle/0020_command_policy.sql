CREATE TABLE "command_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"builtin_key" text,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"kind" text NOT NULL,
	"match_mode" text DEFAULT 'regex' NOT NULL,
	"pattern" text NOT NULL,
	"action" text NOT NULL,
	"severity" text NOT NULL,
	"hold_seconds" integer DEFAULT 120 NOT NULL,
	"target_names" text[] DEFAULT '{}'::text[] NOT NULL,
	"target_tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"subject_users" text[] DEFAULT '{}'::text[] NOT NULL,
	"subject_groups" text[] DEFAULT '{}'::text[] NOT NULL,
	"protocols" text[] DEFAULT '{}'::text[] NOT NULL,
	"policy_names" text[] DEFAULT '{}'::text[] NOT NULL,
	"test_match" text[] DEFAULT '{}'::text[] NOT NULL,
	"test_no_match" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "risk_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"rule_id" uuid,
	"rule_name" text NOT NULL,
	"severity" text NOT NULL,
	"action" text NOT NULL,
	"outcome" text NOT NULL,
	"subject" text NOT NULL,
	"decided_by" text
);
--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "risk_score" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "risk_events" ADD CONSTRAINT "risk_events_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_events" ADD CONSTRAINT "risk_events_rule_id_command_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."command_rules"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "command_rules_name_key" ON "command_rules" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "command_rules_builtin_key" ON "command_rules" USING btree ("builtin_key");--> statement-breakpoint
CREATE INDEX "risk_events_session_idx" ON "risk_events" USING btree ("session_id","id");--> statement-breakpoint
CREATE INDEX "sessions_risk_idx" ON "sessions" USING btree ("risk_score");