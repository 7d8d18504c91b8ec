CREATE TABLE "alert_events" (
	"alert_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"actor" text NOT NULL,
	"report_id" uuid,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_events_alert_id_seq_pk" PRIMARY KEY("alert_id","seq"),
	CONSTRAINT "alert_events_type" CHECK ("alert_events"."type" in ('fired', 'repeated', 'worsened', 'resolved', 'snoozed', 'retrain'))
);
--> statement-breakpoint
CREATE TABLE "alert_messages" (
	"alert_id" uuid NOT NULL,
	"surface" text NOT NULL,
	"purpose" text NOT NULL,
	"channel" text NOT NULL,
	"ts" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_messages_alert_id_surface_purpose_pk" PRIMARY KEY("alert_id","surface","purpose")
);
--> statement-breakpoint
CREATE TABLE "alert_outbox" (
	"alert_id" uuid NOT NULL,
	"surface" text NOT NULL,
	"generation" integer DEFAULT 1 NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"claimed_by" text,
	"claimed_until" timestamp with time zone,
	"failures" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_outbox_alert_id_surface_pk" PRIMARY KEY("alert_id","surface")
);
--> statement-breakpoint
CREATE TABLE "drift_alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"number" integer GENERATED ALWAYS AS IDENTITY (sequence name "drift_alerts_number_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"pipeline" text NOT NULL,
	"version" integer NOT NULL,
	"channel" text NOT NULL,
	"status" text NOT NULL,
	"last_report" uuid NOT NULL,
	"notified" jsonb NOT NULL,
	"notified_at" timestamp with time zone NOT NULL,
	"snoozed_until" timestamp with time zone,
	"snoozed_by" text,
	"retrain_run" uuid,
	"resolved_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "drift_alerts_number_unique" UNIQUE("number"),
	CONSTRAINT "drift_alerts_status" CHECK ("drift_alerts"."status" in ('firing', 'resolved'))
);
--> statement-breakpoint
CREATE TABLE "drift_reports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"pipeline" text NOT NULL,
	"version" integer NOT NULL,
	"trigger" text NOT NULL,
	"tick_at" timestamp with time zone,
	"current" text NOT NULL,
	"reference_hash" text NOT NULL,
	"reference_rows" integer NOT NULL,
	"current_rows" integer NOT NULL,
	"dataset_drift" boolean NOT NULL,
	"drifted_columns" jsonb NOT NULL,
	"report" jsonb NOT NULL,
	"requested_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "drift_reports_trigger" CHECK ("drift_reports"."trigger" in ('schedule', 'manual'))
);
--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "cause" jsonb;--> statement-breakpoint
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_alert_id_drift_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."drift_alerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_report_id_drift_reports_id_fk" FOREIGN KEY ("report_id") REFERENCES "public"."drift_reports"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_messages" ADD CONSTRAINT "alert_messages_alert_id_drift_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."drift_alerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_outbox" ADD CONSTRAINT "alert_outbox_alert_id_drift_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."drift_alerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_alerts" ADD CONSTRAINT "drift_alerts_last_report_drift_reports_id_fk" FOREIGN KEY ("last_report") REFERENCES "public"."drift_reports"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_alerts" ADD CONSTRAINT "drift_alerts_retrain_run_runs_id_fk" FOREIGN KEY ("retrain_run") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_outbox_due" ON "alert_outbox" USING btree ("surface","due_at");--> statement-breakpoint
CREATE UNIQUE INDEX "drift_alerts_one_firing" ON "drift_alerts" USING btree ("pipeline") WHERE "drift_alerts"."status" = 'firing';--> statement-breakpoint
CREATE INDEX "drift_alerts_pipeline" ON "drift_alerts" USING btree ("pipeline","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "drift_reports_tick" ON "drift_reports" USING btree ("pipeline","tick_at");--> statement-breakpoint
CREATE INDEX "drift_reports_pipeline_created" ON "drift_reports" USING btree ("pipeline","created_at");