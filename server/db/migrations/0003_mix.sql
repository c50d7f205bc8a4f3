CREATE TABLE `mix_tasks` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`app_id` bigint unsigned NOT NULL,
	`group_id` varchar(256) NOT NULL,
	`room_num` bigint unsigned NOT NULL,
	`state` varchar(8) NOT NULL,
	`params` varchar(512) NOT NULL,
	`owner` varchar(128) NOT NULL,
	`started_at` datetime(3) NOT NULL,
	`stopped_at` datetime(3),
	CONSTRAINT `mix_tasks_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `mix_app_group` ON `mix_tasks` (`app_id`,`group_id`,`state`);