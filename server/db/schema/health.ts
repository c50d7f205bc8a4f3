// Stream health and live thumbnails, written by whichever instance samples a stream (the embedded
// node that holds it, or the one instance a turn that polls SRS / nginx-rtmp) and read by any.
import { boolean, customType, index, int, mysqlTable, primaryKey, smallint, varchar } from "drizzle-orm/mysql-core";
import { idRef, time } from "./columns";

/** JPEG bytes; MEDIUMBLOB holds up to 16 MiB (thumbnails are a few KiB). */
const mediumBlob = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "mediumblob" });

/**
 * One reading of a live room's incoming stream. Figures a media server does not give are null.
 * While the room lives rows are every HEALTH_SAMPLE_S; once it has ended they are folded into one
 * row a minute (`coarse`).
 */
export const streamHealth = mysqlTable(
  "stream_health",
  {
    roomNum: idRef("room_num").notNull(),
    at: time("at").notNull(),
    /** Which media server's reading: embedded, srs or nginx. */
    source: varchar("source", { length: 8 }).notNull(),
    videoCodec: varchar("video_codec", { length: 16 }),
    width: smallint("width", { unsigned: true }),
    height: smallint("height", { unsigned: true }),
    /** Frames per second × 100 as received in the interval. */
    fpsX100: int("fps_x100", { unsigned: true }),
    /** The frame rate the encoder announced (onMetaData / stream meta) × 100. */
    nominalFpsX100: int("nominal_fps_x100", { unsigned: true }),
    videoKbps: int("video_kbps", { unsigned: true }),
    keyframeIntervalMs: int("keyframe_interval_ms", { unsigned: true }),
    audioCodec: varchar("audio_codec", { length: 16 }),
    audioKbps: int("audio_kbps", { unsigned: true }),
    uptimeS: int("uptime_s", { unsigned: true }),
    droppedFrames: int("dropped_frames", { unsigned: true }),
    coarse: boolean("coarse").notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.roomNum, t.at] }), index("stream_health_coarse").on(t.coarse, t.roomNum)],
);

/** The latest frame of each live room, a small JPEG, served with the room's play rules. */
export const roomThumbnails = mysqlTable("room_thumbnails", {
  roomNum: idRef("room_num").primaryKey(),
  jpeg: mediumBlob("jpeg").notNull(),
  width: smallint("width", { unsigned: true }).notNull(),
  height: smallint("height", { unsigned: true }).notNull(),
  takenAt: time("taken_at").notNull(),
});
