CREATE TABLE "alias_history" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alias_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"pipeline" text NOT NULL,
	"action" text NOT NULL,
	"strategy" text NOT NULL,
	"version" integer NOT NULL,
	"candidate" integer,
	"canary_percent" double precision,
	"replaced" integer,
	"run_id" uuid,
	"actor" text NOT NULL,
	"credential" text,
	"approved_by" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"undo" jsonb,
	"undone_by" bigint,
	"from_at" timestamp with time zone DEFAULT now() NOT NULL,
	"until_at" timestamp with time zone,
	CONSTRAINT "alias_history_action" CHECK ("alias_history"."action" in ('deploy', 'rollback', 'promote'))
);
--> statement-breakpoint
CREATE TABLE "predictions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "predictions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"request_id" text NOT NULL,
	"row" integer NOT NULL,
	"pipeline" text NOT NULL,
	"version" integer NOT NULL,
	"role" text NOT NULL,
	"features" jsonb NOT NULL,
	"prediction" jsonb NOT NULL,
	"label" jsonb,
	"labeled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "predictions_role" CHECK ("predictions"."role" in ('production', 'canary', 'shadow'))
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "scope" text DEFAULT 'all' NOT NULL;--> statement-breakpoint
ALTER TABLE "production_models" ADD COLUMN "strategy" text DEFAULT 'replace' NOT NULL;--> statement-breakpoint
ALTER TABLE "production_models" ADD COLUMN "candidate" integer;--> statement-breakpoint
ALTER TABLE "production_models" ADD COLUMN "canary_percent" double precision;--> statement-breakpoint
ALTER TABLE "production_models" ADD COLUMN "canary_key" text;--> statement-breakpoint
ALTER TABLE "production_models" ADD COLUMN "generation" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "production_models" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "alias_history" ADD CONSTRAINT "alias_history_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alias_history_pipeline" ON "alias_history" USING btree ("pipeline","id");--> statement-breakpoint
CREATE INDEX "predictions_request" ON "predictions" USING btree ("request_id","row");--> statement-breakpoint
CREATE INDEX "predictions_pipeline_created" ON "predictions" USING btree ("pipeline","created_at");--> statement-breakpoint
ALTER TABLE "production_models" ADD CONSTRAINT "production_models_strategy" CHECK ("production_models"."strategy" in ('replace', 'shadow', 'canary'));--> statement-breakpoint
ALTER TABLE "production_models" ADD CONSTRAINT "production_models_candidate" CHECK (("production_models"."strategy" = 'replace') = ("production_models"."candidate" is null));