// Stream health: readings of live rooms' incoming streams, from whichever media server carries them
// (server/media/hooks.ts turns each server's figures into a `health` MediaEvent), stored in MySQL so
// any instance shows them; the warnings a host acts on; one row a minute once a room has ended.
import { and, asc, desc, eq, gte, sql } from "drizzle-orm";
import { dbOf, requireUser, type Ctx } from "../actor";
import type { Clock } from "../clock";
import { runTransaction, type Db } from "../db/client";
import { rooms, streamHealth } from "../db/schema";
import { env } from "../env";
import { findManagedRoom, type RoomRef } from "../rooms";

/** A reading, whichever server gave it; null where that server does not tell. */
export interface HealthReading {
  videoCodec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  nominalFps: number | null;
  videoKbps: number | null;
  keyframeIntervalMs: number | null;
  audioCodec: string | null;
  audioKbps: number | null;
  /** Seconds the stream has been up (null: onair counts from when the room's stream came online). */
  uptimeS: number | null;
  droppedFrames: number | null;
}
export type HealthSource = "embedded" | "srs" | "nginx";

const x100 = (v: number | null) => (v === null || !Number.isFinite(v) ? null : Math.max(0, Math.round(v * 100)));
const clampInt = (v: number | null, max = 4_294_967_295) =>
  v === null || !Number.isFinite(v) ? null : Math.min(max, Math.max(0, Math.round(v)));

/**
 * Stores a reading of a stream's room when the room is live or paused with its stream on; a stream
 * no room has, or an ended room, stores nothing. Returns whether a row was written.
 */
export async function recordHealth(db: Db, clock: Clock, stream: string, source: HealthSource, r: HealthReading) {
  const now = clock.now();
  const room = (
    await db
      .select({ num: rooms.num, status: rooms.status, online: rooms.streamOnline, since: rooms.streamChangedAt })
      .from(rooms)
      .where(eq(rooms.streamName, stream))
  )[0];
  if (!room || room.status === "ended" || room.status === "prepare" || !room.online) return false;
  const uptime = r.uptimeS ?? (room.since ? (now.getTime() - room.since.getTime()) / 1000 : null);
  await db
    .insert(streamHealth)
    .values({
      roomNum: room.num,
      at: now,
      source,
      videoCodec: r.videoCodec?.slice(0, 16) ?? null,
      width: clampInt(r.width, 65535),
      height: clampInt(r.height, 65535),
      fpsX100: x100(r.fps),
      nominalFpsX100: x100(r.nominalFps),
      videoKbps: clampInt(r.videoKbps),
      keyframeIntervalMs: clampInt(r.keyframeIntervalMs),
      audioCodec: r.audioCodec?.slice(0, 16) ?? null,
      audioKbps: clampInt(r.audioKbps),
      uptimeS: clampInt(uptime),
      droppedFrames: clampInt(r.droppedFrames),
    })
    .onDuplicateKeyUpdate({ set: { source } });
  return true;
}

/** A stored reading as the console shows it. */
export interface HealthPoint extends HealthReading {
  at: Date;
  source: string;
}

type Row = typeof streamHealth.$inferSelect;
const point = (h: Row): HealthPoint => ({
  at: h.at,
  source: h.source,
  videoCodec: h.videoCodec,
  width: h.width,
  height: h.height,
  fps: h.fpsX100 === null ? null : h.fpsX100 / 100,
  nominalFps: h.nominalFpsX100 === null ? null : h.nominalFpsX100 / 100,
  videoKbps: h.videoKbps,
  keyframeIntervalMs: h.keyframeIntervalMs,
  audioCodec: h.audioCodec,
  audioKbps: h.audioKbps,
  uptimeS: h.uptimeS,
  droppedFrames: h.droppedFrames,
});

export type HealthWarning =
  | { code: "keyframe"; intervalMs: number }
  | { code: "bitrate"; kbps: number; baselineKbps: number }
  | { code: "fps"; fps: number; nominalFps: number };

/** Keyframes further apart than this make players wait and HLS segments long (IVS, Owncast: 2 s). */
export const KEYFRAME_LIMIT_MS = 2000;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2 : 0;
};
const totalKbps = (p: HealthReading) =>
  p.videoKbps === null && p.audioKbps === null ? null : (p.videoKbps ?? 0) + (p.audioKbps ?? 0);

/**
 * What is wrong with the latest reading, judged against the ones before it (ascending by time):
 * keyframes more than 2 s apart; a bitrate under half the median of the previous minute; a frame
 * rate under 60% of the announced one (or, when none was announced, of the best recent reading).
 */
export function healthWarnings(series: readonly HealthPoint[]): HealthWarning[] {
  const last = series.at(-1);
  if (!last) return [];
  const out: HealthWarning[] = [];
  if (last.keyframeIntervalMs !== null && last.keyframeIntervalMs > KEYFRAME_LIMIT_MS)
    out.push({ code: "keyframe", intervalMs: last.keyframeIntervalMs });
  const minuteBefore = series.filter(
    (p) => p !== last && p.at.getTime() >= last.at.getTime() - 60_000 && totalKbps(p) !== null,
  );
  const kbps = totalKbps(last);
  if (kbps !== null && minuteBefore.length >= 2) {
    const baseline = median(minuteBefore.map((p) => totalKbps(p)!));
    if (baseline > 0 && kbps < baseline / 2) out.push({ code: "bitrate", kbps, baselineKbps: Math.round(baseline) });
  }
  const nominal =
    last.nominalFps ?? (minuteBefore.length >= 2 ? Math.max(...minuteBefore.map((p) => p.fps ?? 0)) || null : null);
  if (last.fps !== null && nominal && last.fps < nominal * 0.6)
    out.push({ code: "fps", fps: last.fps, nominalFps: nominal });
  return out;
}

/**
 * A room's health for its host and its app's admins (FORBIDDEN for others of the app, NOT_FOUND
 * across apps): the latest reading, whether it is current, warnings, and the series of the last
 * `minutes` (one a minute for an ended room).
 */
export async function roomHealth(ctx: Ctx, ref: RoomRef, minutes = 30) {
  requireUser(ctx.actor);
  const db = dbOf(ctx);
  const room = await findManagedRoom(db, ctx.actor, ref);
  const now = ctx.clock.now();
  const newest = (
    await db
      .select({ at: streamHealth.at })
      .from(streamHealth)
      .where(eq(streamHealth.roomNum, room.num))
      .orderBy(desc(streamHealth.at))
      .limit(1)
  )[0];
  // The window ends at the newest reading (an ended room's chart still shows its last half hour).
  const until = newest?.at ?? now;
  const rows = newest
    ? await db
        .select()
        .from(streamHealth)
        .where(
          and(eq(streamHealth.roomNum, room.num), gte(streamHealth.at, new Date(until.getTime() - minutes * 60_000))),
        )
        .orderBy(asc(streamHealth.at))
        .limit(2000)
    : [];
  const series = rows.map(point);
  const latest = series.at(-1) ?? null;
  const sampleS = env().MEDIA_HEALTH_SAMPLE_S;
  // Current: the stream is on and the reading is younger than three sampling periods.
  const current = !!latest && room.streamOnline && now.getTime() - latest.at.getTime() <= sampleS * 3000 + 2000;
  return {
    room: { id: room.id, status: room.status, streamOnline: room.streamOnline },
    sampleS,
    current,
    latest,
    warnings: current ? healthWarnings(series) : [],
    series: series.map((p) => ({ at: p.at, fps: p.fps, kbps: totalKbps(p) })),
  };
}

/**
 * Ended rooms keep one reading a minute: the fine rows of up to `batch` rooms are folded (averages;
 * the longest keyframe interval, the most dropped frames) and removed. Safe on every instance: each
 * room is folded under its row lock.
 */
export async function foldEndedHealth(db: Db, batch = 50) {
  const due = await db
    .selectDistinct({ num: streamHealth.roomNum })
    .from(streamHealth)
    .innerJoin(rooms, eq(rooms.num, streamHealth.roomNum))
    .where(and(eq(streamHealth.coarse, false), eq(rooms.status, "ended")))
    .limit(batch);
  for (const { num } of due) {
    await runTransaction(db, async (tx) => {
      await tx.select({ num: rooms.num }).from(rooms).where(eq(rooms.num, num)).for("update");
      const minute = sql`FROM_UNIXTIME(FLOOR(UNIX_TIMESTAMP(${streamHealth.at}) / 60) * 60)`;
      await tx.execute(sql`
        INSERT INTO stream_health (room_num, at, source, video_codec, width, height, fps_x100, nominal_fps_x100,
          video_kbps, keyframe_interval_ms, audio_codec, audio_kbps, uptime_s, dropped_frames, coarse)
        SELECT room_num, ${minute} AS m, MAX(source), MAX(video_codec), MAX(width), MAX(height), ROUND(AVG(fps_x100)),
          MAX(nominal_fps_x100), ROUND(AVG(video_kbps)), MAX(keyframe_interval_ms), MAX(audio_codec),
          ROUND(AVG(audio_kbps)), MAX(uptime_s), MAX(dropped_frames), TRUE
        FROM stream_health WHERE room_num = ${num} AND coarse = FALSE GROUP BY room_num, m
        ON DUPLICATE KEY UPDATE source = VALUES(source), video_codec = VALUES(video_codec), width = VALUES(width),
          height = VALUES(height), fps_x100 = VALUES(fps_x100), nominal_fps_x100 = VALUES(nominal_fps_x100),
          video_kbps = VALUES(video_kbps), keyframe_interval_ms = VALUES(keyframe_interval_ms),
          audio_codec = VALUES(audio_codec), audio_kbps = VALUES(audio_kbps), uptime_s = VALUES(uptime_s),
          dropped_frames = VALUES(dropped_frames), coarse = TRUE`);
      await tx.delete(streamHealth).where(and(eq(streamHealth.roomNum, num), eq(streamHealth.coarse, false)));
    });
  }
  return due.length;
}
