CREATE TABLE `apps` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`name` varchar(128) NOT NULL,
	`access_key` varchar(64) NOT NULL,
	`secret_enc` varchar(255) NOT NULL,
	`callback_url` varchar(1024),
	`enabled` boolean NOT NULL DEFAULT true,
	`push_domain` varchar(255),
	`pull_domain` varchar(255),
	`sign_scheme` varchar(16) NOT NULL DEFAULT 'onair',
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `apps_id` PRIMARY KEY(`id`),
	CONSTRAINT `apps_access_key` UNIQUE(`access_key`)
);
--> statement-breakpoint
CREATE TABLE `revocations` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`kind` varchar(8) NOT NULL,
	`subject` varchar(128) NOT NULL,
	`before_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `revocations_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` varchar(36) NOT NULL,
	`user_id` varchar(36) NOT NULL,
	`device_id` varchar(128) NOT NULL,
	`device_type` varchar(16) NOT NULL,
	`refresh_hash` varchar(64) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`last_used_at` datetime(3) NOT NULL,
	`expires_at` datetime(3) NOT NULL,
	`revoked_at` datetime(3),
	CONSTRAINT `sessions_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` varchar(36) NOT NULL,
	`app_id` bigint unsigned,
	`username` varchar(64) NOT NULL,
	`nick` varchar(64) NOT NULL DEFAULT '',
	`avatar_url` varchar(1024) NOT NULL DEFAULT '',
	`password_hash` varchar(255) NOT NULL,
	`role` varchar(8) NOT NULL,
	`disabled` boolean NOT NULL DEFAULT false,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `users_id` PRIMARY KEY(`id`),
	CONSTRAINT `users_username` UNIQUE(`username`)
);
--> statement-breakpoint
CREATE TABLE `mic_sessions` (
	`id` varchar(36) NOT NULL,
	`app_id` bigint unsigned NOT NULL,
	`room_num` bigint unsigned NOT NULL,
	`user_id` varchar(36) NOT NULL,
	`user_nick` varchar(64) NOT NULL DEFAULT '',
	`user_avatar` varchar(1024) NOT NULL DEFAULT '',
	`state` varchar(10) NOT NULL,
	`camera_opened` boolean NOT NULL DEFAULT true,
	`mic_opened` boolean NOT NULL DEFAULT true,
	`rtc_pull_url` varchar(1024) NOT NULL DEFAULT '',
	`position` bigint unsigned NOT NULL DEFAULT 0,
	`requested_at` datetime(3) NOT NULL,
	`expires_at` datetime(3),
	`updated_at` datetime(3) NOT NULL,
	`ended_by` varchar(36),
	CONSTRAINT `mic_sessions_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `room_members` (
	`room_num` bigint unsigned NOT NULL,
	`member_id` varchar(64) NOT NULL,
	`app_id` bigint unsigned NOT NULL,
	`nick` varchar(64) NOT NULL DEFAULT '',
	`role` tinyint NOT NULL,
	`joined_at` datetime(3) NOT NULL,
	`last_seen_at` datetime(3) NOT NULL,
	`left_at` datetime(3),
	`kicked_at` datetime(3),
	`likes` int unsigned NOT NULL DEFAULT 0,
	`join_count` int unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `room_members_room_num_member_id_pk` PRIMARY KEY(`room_num`,`member_id`)
);
--> statement-breakpoint
CREATE TABLE `rooms` (
	`num` bigint unsigned AUTO_INCREMENT NOT NULL,
	`id` varchar(36) NOT NULL,
	`app_id` bigint unsigned NOT NULL,
	`title` varchar(256) NOT NULL,
	`notice` varchar(1024) NOT NULL DEFAULT '',
	`cover_url` varchar(1024) NOT NULL DEFAULT '',
	`host_id` varchar(36) NOT NULL,
	`host_nick` varchar(256) NOT NULL DEFAULT '',
	`mode` tinyint NOT NULL DEFAULT 0,
	`extends` mediumtext NOT NULL DEFAULT (''),
	`chat_id` varchar(256) NOT NULL DEFAULT '',
	`meeting_id` varchar(256) NOT NULL DEFAULT '',
	`pk_id` varchar(256) NOT NULL DEFAULT '',
	`vod_id` varchar(256) NOT NULL DEFAULT '',
	`status` varchar(8) NOT NULL DEFAULT 'prepare',
	`record` boolean NOT NULL DEFAULT false,
	`mic_seats` int NOT NULL,
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	`started_at` datetime(3),
	`paused_at` datetime(3),
	`stopped_at` datetime(3),
	CONSTRAINT `rooms_num` PRIMARY KEY(`num`),
	CONSTRAINT `rooms_id` UNIQUE(`id`)
);
--> statement-breakpoint
CREATE TABLE `recordings` (
	`id` varchar(36) NOT NULL,
	`app_id` bigint unsigned NOT NULL,
	`room_num` bigint unsigned NOT NULL,
	`host_id` varchar(36) NOT NULL,
	`name` varchar(256) NOT NULL,
	`type` int NOT NULL DEFAULT 0,
	`cover_url` varchar(1024) NOT NULL DEFAULT '',
	`file_path` varchar(1024) NOT NULL DEFAULT '',
	`url` varchar(1024) NOT NULL DEFAULT '',
	`duration_ms` int unsigned NOT NULL DEFAULT 0,
	`size_bytes` bigint unsigned NOT NULL DEFAULT 0,
	`status` varchar(12) NOT NULL DEFAULT 'processing',
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `recordings_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`app_id` bigint unsigned,
	`actor_id` varchar(64),
	`actor_kind` varchar(16) NOT NULL,
	`action` varchar(64) NOT NULL,
	`target_type` varchar(32) NOT NULL,
	`target_id` varchar(64) NOT NULL,
	`detail` text,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `audit_log_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `apps_name` ON `apps` (`name`);--> statement-breakpoint
CREATE INDEX `revocations_expires` ON `revocations` (`expires_at`);--> statement-breakpoint
CREATE INDEX `sessions_user_device` ON `sessions` (`user_id`,`device_id`);--> statement-breakpoint
CREATE INDEX `users_app_role` ON `users` (`app_id`,`role`);--> statement-breakpoint
CREATE INDEX `mic_room_state` ON `mic_sessions` (`room_num`,`state`);--> statement-breakpoint
CREATE INDEX `mic_room_user` ON `mic_sessions` (`room_num`,`user_id`);--> statement-breakpoint
CREATE INDEX `room_members_seen` ON `room_members` (`room_num`,`last_seen_at`);--> statement-breakpoint
CREATE INDEX `rooms_app_created` ON `rooms` (`app_id`,`created_at`,`num`);--> statement-breakpoint
CREATE INDEX `rooms_app_status` ON `rooms` (`app_id`,`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `rooms_host` ON `rooms` (`host_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `recordings_app_created` ON `recordings` (`app_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `recordings_room` ON `recordings` (`room_num`,`created_at`);--> statement-breakpoint
CREATE INDEX `recordings_host` ON `recordings` (`host_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `audit_app_created` ON `audit_log` (`app_id`,`created_at`);