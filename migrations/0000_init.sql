CREATE TABLE "approvals" (
	"run_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"decision" text NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "approvals_run_id_user_id_pk" PRIMARY KEY("run_id","user_id"),
	CONSTRAINT "approvals_decision" CHECK ("approvals"."decision" in ('approved', 'rejected'))
);
--> statement-breakpoint
CREATE TABLE "chat_messages" (
	"run_id" uuid NOT NULL,
	"purpose" text NOT NULL,
	"channel" text NOT NULL,
	"ts" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chat_messages_run_id_purpose_channel_pk" PRIMARY KEY("run_id","purpose","channel")
);
--> statement-breakpoint
CREATE TABLE "pipelines" (
	"name" text PRIMARY KEY NOT NULL,
	"spec" jsonb NOT NULL,
	"spec_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "role_grants" (
	"user_id" text NOT NULL,
	"pipeline" text DEFAULT '*' NOT NULL,
	"role" text NOT NULL,
	"granted_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "role_grants_user_id_pipeline_pk" PRIMARY KEY("user_id","pipeline"),
	CONSTRAINT "role_grants_role" CHECK ("role_grants"."role" in ('viewer', 'operator', 'approver', 'admin'))
);
--> statement-breakpoint
CREATE TABLE "run_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "run_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"actor" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"from_state" text,
	"to_state" text NOT NULL,
	"payload" jsonb NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"number" integer GENERATED ALWAYS AS IDENTITY (sequence name "runs_number_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"pipeline" text NOT NULL,
	"kind" text NOT NULL,
	"state" text NOT NULL,
	"snapshot" jsonb NOT NULL,
	"machine_version" integer NOT NULL,
	"version" integer NOT NULL,
	"requested_by" text NOT NULL,
	"request_key" text,
	"params" jsonb NOT NULL,
	"spec" jsonb NOT NULL,
	"deadline_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "runs_number_unique" UNIQUE("number")
);
--> statement-breakpoint
CREATE TABLE "stage_attempts" (
	"run_id" uuid NOT NULL,
	"stage" text NOT NULL,
	"attempt" integer NOT NULL,
	"status" text NOT NULL,
	"job_id" text,
	"worker_id" text,
	"output" jsonb,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"heartbeat_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "stage_attempts_run_id_stage_attempt_pk" PRIMARY KEY("run_id","stage","attempt"),
	CONSTRAINT "stage_attempts_status" CHECK ("stage_attempts"."status" in ('queued', 'running', 'done', 'failed', 'lost', 'released'))
);
--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_events" ADD CONSTRAINT "run_events_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_attempts" ADD CONSTRAINT "stage_attempts_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "run_events_seq" ON "run_events" USING btree ("run_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "run_events_key" ON "run_events" USING btree ("run_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "runs_request_key" ON "runs" USING btree ("request_key");--> statement-breakpoint
CREATE INDEX "runs_pipeline_created" ON "runs" USING btree ("pipeline","created_at");--> statement-breakpoint
CREATE INDEX "runs_state" ON "runs" USING btree ("state");--> statement-breakpoint
CREATE INDEX "stage_attempts_running" ON "stage_attempts" USING btree ("status","heartbeat_at");