ALTER TABLE `recordings` ADD `started_at` datetime(3);--> statement-breakpoint
CREATE INDEX `chat_messages_room_time` ON `chat_messages` (`room_num`,`created_at`,`id`);--> statement-breakpoint
-- onair's own recordings made so far: their rows were written at record-done, when the file ended.
UPDATE `recordings` SET `started_at` = `created_at` - INTERVAL `duration_ms` * 1000 MICROSECOND WHERE `file_path` <> '' AND `status` = 'ready' AND `duration_ms` > 0;
