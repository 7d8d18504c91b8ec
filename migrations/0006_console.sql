CREATE TABLE "console_homes" (
	"user_id" text PRIMARY KEY NOT NULL,
	"view" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "console_messages" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "console_messages_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"channel" text NOT NULL,
	"thread" bigint,
	"author" text NOT NULL,
	"text" text NOT NULL,
	"blocks" jsonb,
	"visible_to" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chat_messages" ADD COLUMN "surface" text DEFAULT 'slack' NOT NULL;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "acting_as" text;--> statement-breakpoint
CREATE INDEX "console_messages_channel" ON "console_messages" USING btree ("channel","id");