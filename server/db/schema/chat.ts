// The rooms' real-time life: an event log every instance reads (resume by id, no duplicates) and
// the chat, stored with who removed what so moderators and replays see it.
import { datetime, index, mysqlTable, text, tinyint, varchar } from "drizzle-orm/mysql-core";
import { autoId, idRef, time } from "./columns";

/**
 * One row per room event (status, co-host moves, kicks, chat, notice), written in the transaction of
 * the change it reports. Ids order a room's events for resuming; rows are pruned after a day.
 */
export const roomEvents = mysqlTable(
  "room_events",
  {
    id: autoId("id"),
    roomNum: idRef("room_num").notNull(),
    type: varchar("type", { length: 24 }).notNull(),
    /** Who may see it: "" everybody in the room, "@managers" the host and admins, else one member id (and managers). */
    audience: varchar("audience", { length: 72 }).notNull().default(""),
    payload: text("payload").notNull(),
    createdAt: time("created_at").notNull(),
  },
  (t) => [index("room_events_room").on(t.roomNum, t.id), index("room_events_created").on(t.createdAt)],
);

export const chatMessages = mysqlTable(
  "chat_messages",
  {
    id: autoId("id"),
    roomNum: idRef("room_num").notNull(),
    appId: idRef("app_id").notNull(),
    /** A user id, `guest:<uuid>`, as in room_members. */
    memberId: varchar("member_id", { length: 72 }).notNull(),
    nick: varchar("nick", { length: 64 }).notNull().default(""),
    /** The sender's role when sending: 1 host, 2 co-host, 0 viewer, 3 an admin of the app. */
    role: tinyint("role").notNull(),
    text: varchar("text", { length: 1000 }).notNull(),
    createdAt: time("created_at").notNull(),
    deletedAt: datetime("deleted_at", { mode: "date", fsp: 3 }),
    deletedBy: varchar("deleted_by", { length: 72 }),
  },
  (t) => [
    index("chat_messages_room").on(t.roomNum, t.id),
    index("chat_messages_member").on(t.roomNum, t.memberId, t.id),
    // A recording's messages, by time (a replay's chat in step with it).
    index("chat_messages_room_time").on(t.roomNum, t.createdAt, t.id),
  ],
);

export const CHAT_ADMIN_ROLE = 3;
export type ChatMessageRow = typeof chatMessages.$inferSelect;
