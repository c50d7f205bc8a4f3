// Media nodes: every embedded media server (one per onair instance) registers here with the
// addresses other instances reach it at, and renews its lease; the rooms it serves name it in
// `stream_client` (nms:<node>:<session>), so any instance can find the node that has a stream.
import { mysqlTable, varchar } from "drizzle-orm/mysql-core";
import { time, uuid } from "./columns";

export const mediaNodes = mysqlTable("media_nodes", {
  id: uuid("id").primaryKey(),
  /** Its HTTP-FLV output (node-media-server), e.g. http://10.0.0.5:3002 */
  flvOrigin: varchar("flv_origin", { length: 255 }).notNull(),
  /** Its instance's front, which serves the node's HLS files, e.g. http://10.0.0.5:3000 */
  frontOrigin: varchar("front_origin", { length: 255 }).notNull(),
  startedAt: time("started_at").notNull(),
  /** The lease: a node unseen for MEDIA_NODE_LEASE_S is gone, and its streams are stopped. */
  seenAt: time("seen_at").notNull(),
});
