ALTER TABLE `stream_sources` ADD `lease_holder` varchar(36);--> statement-breakpoint
ALTER TABLE `stream_sources` ADD `lease_until` datetime(3);