-- Before a run's chat messages are keyed by (run, surface, purpose): an older Steward could
-- keep two rows for one run and purpose in different channels. The oldest one stays.
DELETE FROM "chat_messages" AS later
 USING "chat_messages" AS earlier
 WHERE later."run_id" = earlier."run_id"
   AND later."surface" = earlier."surface"
   AND later."purpose" = earlier."purpose"
   AND (later."created_at", later."channel") > (earlier."created_at", earlier."channel");
