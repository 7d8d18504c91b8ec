DROP INDEX "chat_outbox_due";--> statement-breakpoint
ALTER TABLE "chat_messages" DROP CONSTRAINT "chat_messages_run_id_purpose_channel_pk";--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_run_id_surface_purpose_pk" PRIMARY KEY("run_id","surface","purpose");--> statement-breakpoint
CREATE INDEX "chat_outbox_due" ON "chat_outbox" USING btree ("surface","due_at");