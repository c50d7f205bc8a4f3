CREATE TABLE `webhook_attempts` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`delivery_id` bigint unsigned NOT NULL,
	`app_id` bigint unsigned NOT NULL,
	`endpoint_id` bigint unsigned NOT NULL,
	`attempt` int unsigned NOT NULL,
	`sent_at` datetime(3) NOT NULL,
	`duration_ms` int unsigned NOT NULL,
	`response_status` smallint unsigned,
	`response_body` varchar(1024) NOT NULL DEFAULT '',
	CONSTRAINT `webhook_attempts_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `webhook_attempts_delivery` ON `webhook_attempts` (`delivery_id`,`attempt`);--> statement-breakpoint
CREATE INDEX `webhook_attempts_endpoint` ON `webhook_attempts` (`endpoint_id`);--> statement-breakpoint
CREATE INDEX `webhook_attempts_sent` ON `webhook_attempts` (`sent_at`);