CREATE TABLE `webhook_deliveries` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`app_id` bigint unsigned NOT NULL,
	`endpoint_id` bigint unsigned NOT NULL,
	`event_id` varchar(40) NOT NULL,
	`type` varchar(32) NOT NULL,
	`room_num` bigint unsigned NOT NULL DEFAULT 0,
	`body` mediumtext NOT NULL,
	`status` varchar(12) NOT NULL DEFAULT 'pending',
	`attempts` int unsigned NOT NULL DEFAULT 0,
	`next_attempt_at` datetime(3) NOT NULL,
	`lease_until` datetime(3),
	`lease_token` varchar(36),
	`response_status` smallint unsigned,
	`response_body` varchar(1024) NOT NULL DEFAULT '',
	`last_attempt_at` datetime(3),
	`delivered_at` datetime(3),
	`redelivery_of` bigint unsigned,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `webhook_deliveries_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`app_id` bigint unsigned NOT NULL,
	`url` varchar(1024) NOT NULL,
	`description` varchar(256) NOT NULL DEFAULT '',
	`events` varchar(512) NOT NULL,
	`enabled` boolean NOT NULL DEFAULT true,
	`secret_enc` varchar(255) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `webhook_endpoints_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due` ON `webhook_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_order` ON `webhook_deliveries` (`endpoint_id`,`room_num`,`status`,`id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_endpoint` ON `webhook_deliveries` (`endpoint_id`,`id`);--> statement-breakpoint
CREATE INDEX `webhook_endpoints_app` ON `webhook_endpoints` (`app_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_target` ON `audit_log` (`target_id`,`id`);--> statement-breakpoint
CREATE INDEX `audit_actor` ON `audit_log` (`actor_id`,`id`);