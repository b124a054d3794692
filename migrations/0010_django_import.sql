CREATE TABLE "django_import_rows" (
	"source_table" varchar(64) NOT NULL,
	"source_id" bigint NOT NULL,
	"target_id" bigint NOT NULL,
	"digest" varchar(32) NOT NULL,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "django_import_rows_source_table_source_id_pk" PRIMARY KEY("source_table","source_id")
);
