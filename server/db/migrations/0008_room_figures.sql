CREATE TABLE `job_runs` (
	`name` varchar(32) NOT NULL,
	`run_at` datetime(3) NOT NULL,
	`done_up_to` datetime(3),
	CONSTRAINT `job_runs_name` PRIMARY KEY(`name`)
);
--> statement-breakpoint
CREATE TABLE `room_figures` (
	`room_num` bigint unsigned NOT NULL,
	`online` int unsigned NOT NULL DEFAULT 0,
	`likes` bigint unsigned NOT NULL DEFAULT 0,
	`pv` bigint unsigned NOT NULL DEFAULT 0,
	`uv` int unsigned NOT NULL DEFAULT 0,
	`dirty` int unsigned NOT NULL DEFAULT 0,
	`computed_at` datetime(3) NOT NULL,
	CONSTRAINT `room_figures_room_num` PRIMARY KEY(`room_num`)
);
--> statement-breakpoint
CREATE INDEX `room_figures_dirty` ON `room_figures` (`dirty`);--> statement-breakpoint
CREATE INDEX `room_members_recent` ON `room_members` (`last_seen_at`,`room_num`);--> statement-breakpoint
INSERT INTO `room_figures` (`room_num`, `dirty`, `computed_at`) SELECT DISTINCT `room_num`, 1, '1970-01-01 00:00:00.000' FROM `room_members`;
