CREATE TABLE `rate_counters` (
	`key` varchar(191) NOT NULL,
	`window_start` bigint unsigned NOT NULL,
	`count` int NOT NULL DEFAULT 0,
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `rate_counters_key_window_start_pk` PRIMARY KEY(`key`,`window_start`)
);
--> statement-breakpoint
CREATE TABLE `seen_nonces` (
	`scope` varchar(32) NOT NULL,
	`nonce` varchar(191) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `seen_nonces_scope_nonce_pk` PRIMARY KEY(`scope`,`nonce`)
);
--> statement-breakpoint
ALTER TABLE `apps` ADD `signup_role` varchar(8) DEFAULT 'viewer' NOT NULL;--> statement-breakpoint
CREATE INDEX `rate_counters_expires` ON `rate_counters` (`expires_at`);--> statement-breakpoint
CREATE INDEX `seen_nonces_expires` ON `seen_nonces` (`expires_at`);