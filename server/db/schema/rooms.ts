// Rooms, their members (presence) and co-host ("mic") sessions.
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  index,
  int,
  mediumtext,
  mysqlTable,
  primaryKey,
  tinyint,
  uniqueIndex,
  varchar,
} from "drizzle-orm/mysql-core";
import { autoId, idRef, time, uuid } from "./columns";
import { ROOM_STATUSES, MIC_STATES, MIX_STATES } from "../../../lib/domain";
export {
  ROOM_STATUSES,
  MEMBER_ROLE,
  MIC_STATES,
  MIX_STATES,
  type RoomStatus,
  type MicState,
} from "../../../lib/domain";

export const rooms = mysqlTable(
  "rooms",
  {
    /** The integer room number clients of the seed systems use (随心播 roomnum). */
    num: autoId("num"),
    /** The string room id (AUI id). */
    id: uuid("id")
      .notNull()
      .$defaultFn(() => crypto.randomUUID()),
    appId: idRef("app_id").notNull(),
    title: varchar("title", { length: 256 }).notNull(),
    notice: varchar("notice", { length: 1024 }).notNull().default(""),
    coverUrl: varchar("cover_url", { length: 1024 }).notNull().default(""),
    hostId: uuid("host_id").notNull(),
    hostNick: varchar("host_nick", { length: 256 }).notNull().default(""),
    /** 0 normal, 1 co-host, 2 PK. */
    mode: tinyint("mode").notNull().default(0),
    extends: mediumtext("extends")
      .notNull()
      .default(sql`('')`),
    chatId: varchar("chat_id", { length: 256 }).notNull().default(""),
    meetingId: varchar("meeting_id", { length: 256 }).notNull().default(""),
    pkId: varchar("pk_id", { length: 256 }).notNull().default(""),
    vodId: varchar("vod_id", { length: 256 }).notNull().default(""),
    /** The client SDK's app id a vendor client reported with the room (随心播 `appid`, e.g. 1400019352). */
    clientAppId: varchar("client_app_id", { length: 32 }).notNull().default(""),
    status: varchar("status", { length: 8, enum: ROOM_STATUSES }).notNull().default("prepare"),
    /** Public stream name used in pull URLs; the publish key is separate and secret (media/keys.ts). */
    streamName: varchar("stream_name", { length: 64 }).notNull(),
    /** Bumped to invalidate a leaked publish key. */
    keyVersion: int("key_version").notNull().default(1),
    /** Whether a media server reports the stream as publishing, and which client publishes it. */
    streamOnline: boolean("stream_online").notNull().default(false),
    streamClient: varchar("stream_client", { length: 128 }).notNull().default(""),
    streamChangedAt: time("stream_changed_at"),
    /** Paused because the stream went away (not by the host): ends after MEDIA_END_GRACE_S. */
    autoPaused: boolean("auto_paused").notNull().default(false),
    record: boolean("record").notNull().default(false),
    /** Chat slow mode: seconds a member waits between messages (0 = off). */
    chatSlowS: int("chat_slow_s").notNull().default(0),
    /** Viewers who are not signed in may chat, with a nick. */
    guestChat: boolean("guest_chat").notNull().default(false),
    micSeats: int("mic_seats").notNull(),
    /**
     * Seconds a room paused by a lost stream waits for it before ending (null: MEDIA_END_GRACE_S).
     * Read through server/rooms/grace.ts, the one place the grace is computed.
     */
    graceS: int("grace_s"),
    /** The room "Go live again" made from this ended one: its watch URL leads viewers there. */
    successorNum: idRef("successor_num"),
    createdAt: time("created_at").notNull(),
    updatedAt: time("updated_at").notNull(),
    startedAt: time("started_at"),
    pausedAt: time("paused_at"),
    stoppedAt: time("stopped_at"),
  },
  (t) => [
    uniqueIndex("rooms_id").on(t.id),
    uniqueIndex("rooms_stream").on(t.streamName),
    index("rooms_app_created").on(t.appId, t.createdAt, t.num),
    // Lists filter by app and status and page newest first, tie-broken by number: all in the index,
    // so a page reads its rows in order and stops (no sort of every matching room).
    index("rooms_app_status").on(t.appId, t.status, t.createdAt, t.num),
    index("rooms_host").on(t.hostId, t.createdAt),
    index("rooms_app_client").on(t.appId, t.clientAppId, t.status, t.createdAt, t.num),
    // The same orders for lists over every app (a platform admin's console): without them each page
    // sorted all rooms, tens of milliseconds at 100,000.
    index("rooms_created").on(t.createdAt, t.num),
    index("rooms_status_created").on(t.status, t.createdAt, t.num),
  ],
);

export const roomMembers = mysqlTable(
  "room_members",
  {
    roomNum: idRef("room_num").notNull(),
    /** A user id, or `guest:<uuid>` for a viewer who is not signed in. */
    memberId: varchar("member_id", { length: 64 }).notNull(),
    appId: idRef("app_id").notNull(),
    nick: varchar("nick", { length: 64 }).notNull().default(""),
    /** 1 host, 0 viewer, 2 co-host (the seeds' codes). */
    role: tinyint("role").notNull(),
    joinedAt: time("joined_at").notNull(),
    lastSeenAt: time("last_seen_at").notNull(),
    leftAt: time("left_at"),
    kickedAt: time("kicked_at"),
    /** Muted in the room's chat until then (host's or admin's moderation). */
    mutedUntil: time("muted_until"),
    /** The member's running like total as its client reports it; the room's likes are the sum. */
    likes: int("likes", { unsigned: true }).notNull().default(0),
    /** Joins by this member: the room's pv is the sum, its uv the count of audience rows. */
    joinCount: int("join_count", { unsigned: true }).notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.roomNum, t.memberId] }),
    // The figures refresh finds the rooms with recent presence without reading the others. (The
    // one index that moves with every flushed beat: (room_num, last_seen_at) was dropped, no query
    // ranged over it, and at 10,000 beats/s each index on last_seen_at is MariaDB's busiest work.)
    index("room_members_recent").on(t.lastSeenAt, t.roomNum),
  ],
);

/**
 * Each room's figures as of the last refresh (server/presence/figures.ts, about once a second on
 * one instance): what lists read, so a listed room costs one row whatever its audience.
 */
export const roomFigures = mysqlTable(
  "room_figures",
  {
    roomNum: idRef("room_num").primaryKey(),
    online: int("online", { unsigned: true }).notNull().default(0),
    likes: bigint("likes", { mode: "number", unsigned: true }).notNull().default(0),
    pv: bigint("pv", { mode: "number", unsigned: true }).notNull().default(0),
    uv: int("uv", { unsigned: true }).notNull().default(0),
    /**
     * Writes to the room's members since its figures were computed: every writer of room_members
     * adds one in its own transaction; the refresh takes away what it saw (never a newer mark).
     */
    dirty: int("dirty", { unsigned: true }).notNull().default(0),
    computedAt: time("computed_at").notNull(),
  },
  (t) => [index("room_figures_dirty").on(t.dirty)],
);

/** Periodic jobs one instance runs at a time: whoever moves `run_at` forward runs that turn. */
export const jobRuns = mysqlTable("job_runs", {
  name: varchar("name", { length: 32 }).primaryKey(),
  runAt: time("run_at").notNull(),
  /** Where the previous turn's window ended (the figures refresh resumes from it after a gap). */
  doneUpTo: time("done_up_to"),
});

export const micSessions = mysqlTable(
  "mic_sessions",
  {
    id: uuid("id")
      .primaryKey()
      .$defaultFn(() => crypto.randomUUID()),
    appId: idRef("app_id").notNull(),
    roomNum: idRef("room_num").notNull(),
    /** A user id of the room's app, or `rtc:<id>` for a member a host's client named that onair does not know. */
    userId: varchar("user_id", { length: 72 }).notNull(),
    userNick: varchar("user_nick", { length: 64 }).notNull().default(""),
    userAvatar: varchar("user_avatar", { length: 1024 }).notNull().default(""),
    state: varchar("state", { length: 10, enum: MIC_STATES }).notNull(),
    cameraOpened: boolean("camera_opened").notNull().default(true),
    micOpened: boolean("mic_opened").notNull().default(true),
    rtcPullUrl: varchar("rtc_pull_url", { length: 1024 }).notNull().default(""),
    /** Order in the meeting (co-host) list: approval time, or the host's order in updateMeetingInfo. */
    position: bigint("position", { mode: "number", unsigned: true }).notNull().default(0),
    requestedAt: time("requested_at").notNull(),
    expiresAt: time("expires_at"),
    updatedAt: time("updated_at").notNull(),
    endedBy: uuid("ended_by"),
  },
  (t) => [index("mic_room_state").on(t.roomNum, t.state), index("mic_room_user").on(t.roomNum, t.userId)],
);

/** Online viewers of live rooms sampled every 10 s (the host's audience chart). One row per bucket. */
export const roomSamples = mysqlTable(
  "room_samples",
  {
    roomNum: idRef("room_num").notNull(),
    at: time("at").notNull(),
    online: int("online").notNull(),
  },
  (t) => [primaryKey({ columns: [t.roomNum, t.at] })],
);

/** Server-side mixes (Haoshitong /v1/live/start): a group's publishers composed into a new stream. */
export const mixTasks = mysqlTable(
  "mix_tasks",
  {
    id: autoId("id"),
    appId: idRef("app_id").notNull(),
    groupId: varchar("group_id", { length: 256 }).notNull(),
    /** The room whose stream carries the mix. */
    roomNum: idRef("room_num").notNull(),
    state: varchar("state", { length: 8, enum: MIX_STATES }).notNull(),
    /** Canvas and encoding parameters as requested (JSON). */
    params: varchar("params", { length: 512 }).notNull(),
    /** Which process runs the ffmpeg (host:pid), so a stop from any instance reaches it. */
    owner: varchar("owner", { length: 128 }).notNull(),
    startedAt: time("started_at").notNull(),
    stoppedAt: time("stopped_at"),
  },
  (t) => [index("mix_app_group").on(t.appId, t.groupId, t.state)],
);
