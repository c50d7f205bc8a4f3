ALTER TABLE `rooms` ADD `stream_name` varchar(64);--> statement-breakpoint
UPDATE `rooms` SET `stream_name` = CONCAT('s', LOWER(SUBSTRING(REPLACE(`id`, '-', ''), 1, 16)));--> statement-breakpoint
ALTER TABLE `rooms` MODIFY `stream_name` varchar(64) NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `key_version` int DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `stream_online` boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `stream_client` varchar(128) DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `stream_changed_at` datetime(3);--> statement-breakpoint
ALTER TABLE `rooms` ADD `auto_paused` boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD CONSTRAINT `rooms_stream` UNIQUE(`stream_name`);