CREATE INDEX `rooms_created` ON `rooms` (`created_at`,`num`);--> statement-breakpoint
CREATE INDEX `rooms_status_created` ON `rooms` (`status`,`created_at`,`num`);