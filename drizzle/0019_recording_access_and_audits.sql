CREATE TABLE "session_audits" (
	"session_id" uuid NOT NULL,
	"policy_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"notes" text DEFAULT '' NOT NULL,
	"reviewed_by" text,
	"reviewed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "session_audits_session_id_policy_id_pk" PRIMARY KEY("session_id","policy_id")
);
--> statement-breakpoint
ALTER TABLE "access_policies" ADD COLUMN "reviewer_users" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "access_policies" ADD COLUMN "reviewer_groups" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "access_policies" ADD COLUMN "auditor_users" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "access_policies" ADD COLUMN "auditor_groups" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "access_policies" ADD COLUMN "audit_sample_percent" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "access_requests" ADD COLUMN "kind" text DEFAULT 'access' NOT NULL;--> statement-breakpoint
ALTER TABLE "access_requests" ADD COLUMN "session_id" uuid;--> statement-breakpoint
ALTER TABLE "session_audits" ADD CONSTRAINT "session_audits_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_audits" ADD CONSTRAINT "session_audits_policy_id_access_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."access_policies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "session_audits_status_idx" ON "session_audits" USING btree ("status");--> statement-breakpoint
ALTER TABLE "access_requests" ADD CONSTRAINT "access_requests_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;