ALTER TABLE "targets" ADD COLUMN "rdp_security" text DEFAULT 'any' NOT NULL;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "keyboard_layout" text DEFAULT 'en-us-qwerty' NOT NULL;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "clipboard_copy" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "targets" ADD COLUMN "clipboard_paste" boolean DEFAULT true NOT NULL;