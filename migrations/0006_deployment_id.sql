CREATE TABLE "deployment" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- Exactly one row, made here (migrations run once, under an advisory lock); src/db/deployment.ts reads it.
INSERT INTO "deployment" DEFAULT VALUES;
