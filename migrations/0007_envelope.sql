-- One envelope per row (docs/privacy.md#one-envelope-per-row): each table with several sensitive fields
-- gets `sealed` (one record of them all); the per-field columns stay for rows written before it and become
-- nullable (new writes clear them). Catalog-only changes: no table rewrite or scan, also on PostgreSQL 15.
ALTER TABLE "admin_notes" ALTER COLUMN "title" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "admin_notes" ALTER COLUMN "content" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "intake_submissions" ALTER COLUMN "responses" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "journal_entries" ALTER COLUMN "activities" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "journal_entries" ALTER COLUMN "challenges" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "journal_entries" ALTER COLUMN "achievements" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "journal_entries" ALTER COLUMN "notes" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "journal_entries" ALTER COLUMN "barriers_faced" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "admin_notes" ADD COLUMN "sealed" text;--> statement-breakpoint
ALTER TABLE "intake_submissions" ADD COLUMN "sealed" text;--> statement-breakpoint
ALTER TABLE "journal_entries" ADD COLUMN "sealed" text;--> statement-breakpoint
ALTER TABLE "user_profiles" ADD COLUMN "sealed" text;
