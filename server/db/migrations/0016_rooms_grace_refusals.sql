CREATE TABLE `publish_refusals` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`room_num` bigint unsigned NOT NULL,
	`app_id` bigint unsigned NOT NULL,
	`reason` varchar(32) NOT NULL,
	`via` varchar(16) NOT NULL,
	`addr` varchar(64) NOT NULL DEFAULT '',
	`count` int unsigned NOT NULL DEFAULT 1,
	`first_at` datetime(3) NOT NULL,
	`last_at` datetime(3) NOT NULL,
	CONSTRAINT `publish_refusals_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `rooms` ADD `grace_s` int;--> statement-breakpoint
ALTER TABLE `rooms` ADD `successor_num` bigint unsigned;--> statement-breakpoint
CREATE INDEX `publish_refusals_room` ON `publish_refusals` (`room_num`,`id`);