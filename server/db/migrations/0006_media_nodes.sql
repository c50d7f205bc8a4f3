CREATE TABLE `media_nodes` (
	`id` varchar(36) NOT NULL,
	`flv_origin` varchar(255) NOT NULL,
	`front_origin` varchar(255) NOT NULL,
	`started_at` datetime(3) NOT NULL,
	`seen_at` datetime(3) NOT NULL,
	CONSTRAINT `media_nodes_id` PRIMARY KEY(`id`)
);
