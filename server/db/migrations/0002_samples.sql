CREATE TABLE `room_samples` (
	`room_num` bigint unsigned NOT NULL,
	`at` datetime(3) NOT NULL,
	`online` int NOT NULL,
	CONSTRAINT `room_samples_room_num_at_pk` PRIMARY KEY(`room_num`,`at`)
);
