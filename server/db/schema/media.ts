// Media nodes: every embedded media server (one per onair instance) registers here with the
// addresses other instances reach it at, and renews its lease; the rooms it serves name it in
// `stream_client` (nms:<node>:<session>), so any instance can find the node that has a stream.
import { index, int, mysqlTable, varchar } from "drizzle-orm/mysql-core";
import { autoId, idRef, time, uuid } from "./columns";

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

/**
 * Publishes a media server refused, per room (wrong key, room ended, already publishing…), for the
 * host's go-live panel. Bounded: a repeat of the newest refusal within a minute counts on its row,
 * and only the newest PUBLISH_REFUSALS_KEEP rows of a room are kept (server/media/refusals.ts).
 */
export const publishRefusals = mysqlTable(
  "publish_refusals",
  {
    id: autoId("id"),
    roomNum: idRef("room_num").notNull(),
    appId: idRef("app_id").notNull(),
    /** The error code of the refusal (TOKEN_INVALID, ILLEGAL_TRANSITION, BUSY, DISABLED, TOKEN_EXPIRED…). */
    reason: varchar("reason", { length: 32 }).notNull(),
    /** Which media server refused it: embedded, srs, nginx. */
    via: varchar("via", { length: 16 }).notNull(),
    /** The encoder's address as the media server saw it ("" when unknown). */
    addr: varchar("addr", { length: 64 }).notNull().default(""),
    /** Attempts this row stands for (repeats of the same refusal within a minute). */
    count: int("count", { unsigned: true }).notNull().default(1),
    firstAt: time("first_at").notNull(),
    lastAt: time("last_at").notNull(),
  },
  (t) => [index("publish_refusals_room").on(t.roomNum, t.id)],
);
