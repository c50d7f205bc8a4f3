// Recordings (VOD) made from a room's stream or reported by a client.
import { bigint, datetime, index, int, mysqlTable, varchar } from "drizzle-orm/mysql-core";
import { idRef, time, uuid } from "./columns";
import { RECORDING_STATUSES } from "../../../lib/domain";
export { RECORDING_STATUSES, type RecordingStatus } from "../../../lib/domain";

export const recordings = mysqlTable(
  "recordings",
  {
    id: uuid("id")
      .primaryKey()
      .$defaultFn(() => crypto.randomUUID()),
    appId: idRef("app_id").notNull(),
    roomNum: idRef("room_num").notNull(),
    hostId: uuid("host_id").notNull(),
    name: varchar("name", { length: 256 }).notNull(),
    type: int("type").notNull().default(0),
    coverUrl: varchar("cover_url", { length: 1024 }).notNull().default(""),
    filePath: varchar("file_path", { length: 1024 }).notNull().default(""),
    url: varchar("url", { length: 1024 }).notNull().default(""),
    durationMs: int("duration_ms", { unsigned: true }).notNull().default(0),
    /**
     * When the recording's first frame was live (onair's own recordings: the record file's last
     * write less its duration), so a replay can show the chat in step with it; null when unknown
     * (recordings a client reports with a URL).
     */
    startedAt: datetime("started_at", { mode: "date", fsp: 3 }),
    sizeBytes: bigint("size_bytes", { mode: "number", unsigned: true }).notNull().default(0),
    status: varchar("status", { length: 12, enum: RECORDING_STATUSES }).notNull().default("processing"),
    createdAt: time("created_at").notNull(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [
    index("recordings_app_created").on(t.appId, t.createdAt),
    index("recordings_room").on(t.roomNum, t.createdAt),
    index("recordings_host").on(t.hostId, t.createdAt),
  ],
);
