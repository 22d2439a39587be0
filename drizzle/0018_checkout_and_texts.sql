CREATE TABLE "notice_acceptances" (
	"user_id" uuid NOT NULL,
	"target_id" uuid NOT NULL,
	"notice_sha256" text NOT NULL,
	"accepted_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "notice_acceptances_user_id_target_id_pk" PRIMARY KEY("user_id","target_id")
);
--> statement-breakpoint
ALTER TABLE "access_policies" ADD COLUMN "rotate_after_checkout" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "access_policies" ADD COLUMN "require_notice_acceptance" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "credentials" ADD COLUMN "rotation_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "credentials" ADD COLUMN "rotation_due_reason" text;--> statement-breakpoint
ALTER TABLE "gateway_settings" ADD COLUMN "reveal_seconds" integer DEFAULT 20 NOT NULL;--> statement-breakpoint
ALTER TABLE "gateway_settings" ADD COLUMN "lock_message" text;--> statement-breakpoint
ALTER TABLE "gateway_settings" ADD COLUMN "termination_message" text;--> statement-breakpoint
ALTER TABLE "gateway_settings" ADD COLUMN "recording_notice" text;--> statement-breakpoint
ALTER TABLE "gateway_settings" ADD COLUMN "logon_notice" text;--> statement-breakpoint
ALTER TABLE "notice_acceptances" ADD CONSTRAINT "notice_acceptances_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notice_acceptances" ADD CONSTRAINT "notice_acceptances_target_id_targets_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."targets"("id") ON DELETE cascade ON UPDATE no action;