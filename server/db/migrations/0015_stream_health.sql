CREATE TABLE `room_thumbnails` (
	`room_num` bigint unsigned NOT NULL,
	`jpeg` mediumblob NOT NULL,
	`width` smallint unsigned NOT NULL,
	`height` smallint unsigned NOT NULL,
	`taken_at` datetime(3) NOT NULL,
	CONSTRAINT `room_thumbnails_room_num` PRIMARY KEY(`room_num`)
);
--> statement-breakpoint
CREATE TABLE `stream_health` (
	`room_num` bigint unsigned NOT NULL,
	`at` datetime(3) NOT NULL,
	`source` varchar(8) NOT NULL,
	`video_codec` varchar(16),
	`width` smallint unsigned,
	`height` smallint unsigned,
	`fps_x100` int unsigned,
	`nominal_fps_x100` int unsigned,
	`video_kbps` int unsigned,
	`keyframe_interval_ms` int unsigned,
	`audio_codec` varchar(16),
	`audio_kbps` int unsigned,
	`uptime_s` int unsigned,
	`dropped_frames` int unsigned,
	`coarse` boolean NOT NULL DEFAULT false,
	CONSTRAINT `stream_health_room_num_at_pk` PRIMARY KEY(`room_num`,`at`)
);
--> statement-breakpoint
CREATE INDEX `stream_health_coarse` ON `stream_health` (`coarse`,`room_num`);