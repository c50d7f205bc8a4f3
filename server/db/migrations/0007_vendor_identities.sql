DROP INDEX `rooms_app_status` ON `rooms`;--> statement-breakpoint
ALTER TABLE `mic_sessions` MODIFY COLUMN `user_id` varchar(72) NOT NULL;--> statement-breakpoint
ALTER TABLE `apps` ADD `aui_demo_login` boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `rooms` ADD `client_app_id` varchar(32) DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX `rooms_app_client` ON `rooms` (`app_id`,`client_app_id`,`status`,`created_at`,`num`);--> statement-breakpoint
CREATE INDEX `rooms_app_status` ON `rooms` (`app_id`,`status`,`created_at`,`num`);