// Stream sources: a room (a device, for LTStream) takes its stream from a URL onair pulls instead of a push.
import { index, int, mysqlTable, uniqueIndex, varchar } from "drizzle-orm/mysql-core";
import { autoId, idRef, time } from "./columns";

/** main = LTStream's type 1 (the room's own stream), sub = type 2 (a companion stream of the room). */
export const SOURCE_KINDS = ["main", "sub"] as const;
/** on_demand: pulled while someone plays it; always_on: pulled whenever the media side runs. */
export const SOURCE_MODES = ["on_demand", "always_on"] as const;
/** idle (not pulled, on purpose) → starting → live ⇄ retrying → failed (gave up; the next play tries again). */
export const SOURCE_STATES = ["idle", "starting", "live", "retrying", "failed"] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];
export type SourceState = (typeof SOURCE_STATES)[number];

export const streamSources = mysqlTable(
  "stream_sources",
  {
    id: autoId("id"),
    appId: idRef("app_id").notNull(),
    roomNum: idRef("room_num").notNull(),
    kind: varchar("kind", { length: 4, enum: SOURCE_KINDS }).notNull(),
    /** AES-256-GCM ciphertext of the URL (it may carry a camera's credentials); never shown or logged. */
    urlEnc: varchar("url_enc", { length: 2600 }).notNull(),
    /** What may be shown back: scheme and host (and port), nothing else. */
    urlShown: varchar("url_shown", { length: 300 }).notNull(),
    mode: varchar("mode", { length: 10, enum: SOURCE_MODES }).notNull().default("on_demand"),
    state: varchar("state", { length: 10, enum: SOURCE_STATES }).notNull().default("idle"),
    lastError: varchar("last_error", { length: 300 }).notNull().default(""),
    retries: int("retries").notNull().default(0),
    /** The front (Pulls instance) pulling this source now (either mode); it renews lease_until every few seconds. */
    leaseHolder: varchar("lease_holder", { length: 36 }),
    /** Past this time the lease is free: another front takes the pull over. */
    leaseUntil: time("lease_until"),
    /**
     * Until when other fronts have viewers of this source: they renew it while they do, and the
     * holder of an on-demand pull keeps it running until then (its own viewers aside).
     */
    wantedUntil: time("wanted_until"),
    createdAt: time("created_at").notNull(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [uniqueIndex("stream_sources_room_kind").on(t.roomNum, t.kind), index("stream_sources_app").on(t.appId)],
);
