CREATE TABLE `chat_messages` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`room_num` bigint unsigned NOT NULL,
	`app_id` bigint unsigned NOT NULL,
	`member_id` varchar(72) NOT NULL,
	`nick` varchar(64) NOT NULL DEFAULT '',
	`role` tinyint NOT NULL,
	`text` varchar(1000) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`deleted_at` datetime(3),
	`deleted_by` varchar(72),
	CONSTRAINT `chat_messages_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `room_events` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`room_num` bigint unsigned NOT NULL,
	`type` varchar(24) NOT NULL,
	`audience` varchar(72) NOT NULL DEFAULT '',
	`payload` text NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `room_events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `apps` ADD `chat_words` text DEFAULT ('') NOT NULL;--> statement-breakpoint
ALTER TABLE `room_members` ADD `muted_until` datetime(3);--> statement-breakpoint
ALTER TABLE `rooms` ADD `chat_slow_s` int DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `guest_chat` boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `chat_messages_room` ON `chat_messages` (`room_num`,`id`);--> statement-breakpoint
CREATE INDEX `chat_messages_member` ON `chat_messages` (`room_num`,`member_id`,`id`);--> statement-breakpoint
CREATE INDEX `room_events_room` ON `room_events` (`room_num`,`id`);--> statement-breakpoint
CREATE INDEX `room_events_created` ON `room_events` (`created_at`);