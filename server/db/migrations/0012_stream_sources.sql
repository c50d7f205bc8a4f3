CREATE TABLE `stream_sources` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`app_id` bigint unsigned NOT NULL,
	`room_num` bigint unsigned NOT NULL,
	`kind` varchar(4) NOT NULL,
	`url_enc` varchar(2600) NOT NULL,
	`url_shown` varchar(300) NOT NULL,
	`mode` varchar(10) NOT NULL DEFAULT 'on_demand',
	`state` varchar(10) NOT NULL DEFAULT 'idle',
	`last_error` varchar(300) NOT NULL DEFAULT '',
	`retries` int NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `stream_sources_id` PRIMARY KEY(`id`),
	CONSTRAINT `stream_sources_room_kind` UNIQUE(`room_num`,`kind`)
);
--> statement-breakpoint
CREATE INDEX `stream_sources_app` ON `stream_sources` (`app_id`);