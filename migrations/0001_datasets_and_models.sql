CREATE TABLE "datasets" (
	"hash" text PRIMARY KEY NOT NULL,
	"pipeline" text NOT NULL,
	"source" jsonb NOT NULL,
	"row_count" integer NOT NULL,
	"columns" jsonb NOT NULL,
	"profile" jsonb NOT NULL,
	"content" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "model_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"pipeline" text NOT NULL,
	"version" integer NOT NULL,
	"run_id" uuid NOT NULL,
	"dataset_hash" text NOT NULL,
	"spec_hash" text NOT NULL,
	"task" text NOT NULL,
	"model_type" text NOT NULL,
	"params" jsonb NOT NULL,
	"artifact" "bytea" NOT NULL,
	"transform" jsonb NOT NULL,
	"metrics" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "production_models" (
	"pipeline" text PRIMARY KEY NOT NULL,
	"version" integer NOT NULL,
	"run_id" uuid NOT NULL,
	"deployed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_dataset_hash_datasets_hash_fk" FOREIGN KEY ("dataset_hash") REFERENCES "public"."datasets"("hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "production_models" ADD CONSTRAINT "production_models_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_pipeline_version" ON "model_versions" USING btree ("pipeline","version");--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_run" ON "model_versions" USING btree ("run_id");