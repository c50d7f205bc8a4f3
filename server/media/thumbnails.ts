// Live thumbnails: a small JPEG of each live room every MEDIA_THUMB_INTERVAL_S, grabbed by ffmpeg
// from the stream where it is published (the embedded node that holds it, or the instance whose
// turn it is to poll SRS / nginx-rtmp), kept in MySQL so any instance serves it, and served with the
// room's play rules: a play token for the stream (or the app's play signature), as for playing.
import { spawn } from "node:child_process";
import { and, eq, inArray } from "drizzle-orm";
import { dbOf, requireUser, tenantFilter, type Ctx } from "../actor";
import { appById } from "../apps";
import type { Clock } from "../clock";
import type { Db } from "../db/client";
import { roomThumbnails, rooms } from "../db/schema";
import { env } from "../env";
import { AppError } from "../errors";
import { errorText, log } from "../log";
import { signRoomToken } from "../tokens";
import { redactUrls } from "./ffmpeg";
import { pullUrls } from "./urls";

export const THUMB_WIDTH = 320;
const MAX_JPEG_BYTES = 2 * 1024 * 1024;

/** The size a JPEG says it has (its first SOFn marker). */
export function jpegSize(jpeg: Buffer): { width: number; height: number } | undefined {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 9 < jpeg.length) {
    if (jpeg[i] !== 0xff) return undefined;
    const marker = jpeg[i + 1]!;
    const len = jpeg.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker))
      return { height: jpeg.readUInt16BE(i + 5), width: jpeg.readUInt16BE(i + 7) };
    i += 2 + len;
  }
  return undefined;
}

/** One frame of `input` as a JPEG THUMB_WIDTH wide (ffmpeg waits for the next keyframe at most `timeoutMs`). */
export function grabFrame(input: string, timeoutMs = 12_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const args = [
      ...["-hide_banner", "-loglevel", "error", "-rw_timeout", String(timeoutMs * 1000), "-i", input],
      ...["-an", "-frames:v", "1", "-vf", `scale=${THUMB_WIDTH}:-2`, "-q:v", "6", "-f", "image2pipe", "-c:v", "mjpeg"],
      "pipe:1",
    ];
    const p = spawn(env().FFMPEG_PATH, args, { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let size = 0;
    let err = "";
    p.stdout.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_JPEG_BYTES) p.kill("SIGKILL");
      else chunks.push(c);
    });
    p.stderr.on("data", (d) => (err = (err + d).slice(-1000)));
    const killer = setTimeout(() => p.kill("SIGKILL"), timeoutMs + 3000);
    p.on("error", (e) => {
      clearTimeout(killer);
      reject(e);
    });
    p.on("close", (code) => {
      clearTimeout(killer);
      const jpeg = Buffer.concat(chunks);
      if (code === 0 && jpegSize(jpeg)) resolve(jpeg);
      else reject(new Error(`no frame (ffmpeg ${code}): ${redactUrls(err).trim().slice(-200)}`));
    });
  });
}

/** Keeps a frame as its room's thumbnail, while the room is live or paused. */
export async function storeThumbnail(db: Db, stream: string, jpeg: Buffer, at: Date) {
  const size = jpegSize(jpeg);
  if (!size) throw new Error("not a JPEG");
  const room = (
    await db.select({ num: rooms.num, status: rooms.status }).from(rooms).where(eq(rooms.streamName, stream))
  )[0];
  if (!room || (room.status !== "live" && room.status !== "paused")) return false;
  const row = { jpeg, width: size.width, height: size.height, takenAt: at };
  await db
    .insert(roomThumbnails)
    .values({ roomNum: room.num, ...row })
    .onDuplicateKeyUpdate({ set: row });
  return true;
}

/** The streams among `streams` whose thumbnail is older than the interval (or missing). */
async function due(db: Db, streams: string[], now: Date) {
  if (!streams.length) return [];
  const rows = await db
    .select({ stream: rooms.streamName, takenAt: roomThumbnails.takenAt })
    .from(rooms)
    .leftJoin(roomThumbnails, eq(roomThumbnails.roomNum, rooms.num))
    .where(and(inArray(rooms.streamName, streams), inArray(rooms.status, ["live", "paused"])));
  // A little early is fine: a grab takes a moment, and the next tick would be a whole period late.
  const cutoff = now.getTime() - env().MEDIA_THUMB_INTERVAL_S * 1000 + 1500;
  return rows.filter((r) => !r.takenAt || r.takenAt.getTime() <= cutoff).map((r) => r.stream);
}

/**
 * Grabs thumbnails of the streams it is shown, at most MEDIA_THUMB_CONCURRENCY ffmpeg at once; a
 * stream still being grabbed is not grabbed twice. `inputOf` says where this process reads a stream.
 */
export class Thumbnailer {
  private busy = new Set<string>();
  private queue: string[] = [];
  private running = 0;
  constructor(
    private db: Db,
    private clock: Clock,
    private inputOf: (stream: string) => Promise<string | undefined>,
  ) {}

  /** Queues the due ones among the streams this process is responsible for now. */
  async tick(streams: string[]) {
    if (env().MEDIA_THUMB_INTERVAL_S === 0 || !streams.length) return;
    for (const s of await due(this.db, streams, this.clock.now()))
      if (!this.busy.has(s)) {
        this.busy.add(s);
        this.queue.push(s);
      }
    this.drain();
  }

  private drain() {
    while (this.running < env().MEDIA_THUMB_CONCURRENCY && this.queue.length) {
      const stream = this.queue.shift()!;
      this.running++;
      void this.shoot(stream).finally(() => {
        this.running--;
        this.busy.delete(stream);
        this.drain();
      });
    }
  }

  private async shoot(stream: string) {
    try {
      const input = await this.inputOf(stream);
      if (!input) return;
      await storeThumbnail(this.db, stream, await grabFrame(input), this.clock.now());
    } catch (e) {
      log.info("thumbnail not taken", { stream, error: errorText(e) });
    }
  }

  /** Resolves once nothing is being grabbed (tests, shutdown). */
  async idle() {
    while (this.running || this.queue.length) await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Where onair reads a stream an external server (SRS, nginx-rtmp) publishes: the app's RTMP play
 * URL, with a play token marked as the host's (mr=1, so it is no viewer), for a minute.
 */
export async function externalInput(db: Db, stream: string, now: Date): Promise<string | undefined> {
  const room = (await db.select().from(rooms).where(eq(rooms.streamName, stream)))[0];
  const app = room && (await appById(db, room.appId));
  if (!room || !app) return undefined;
  const issued = signRoomToken(
    { scope: "play", app: room.appId, room: room.id, num: room.num, st: stream, sub: room.hostId, mr: 1 },
    now,
    60,
  );
  return pullUrls(room, { ...app.app, secret: app.secret }, issued.token, Math.floor(now.getTime() / 1000) + 60)
    .rtmp_url;
}

/** A room's thumbnail for the front, by stream name. */
export async function thumbnailOf(db: Db, stream: string) {
  const row = (
    await db
      .select({ jpeg: roomThumbnails.jpeg, takenAt: roomThumbnails.takenAt, status: rooms.status })
      .from(roomThumbnails)
      .innerJoin(rooms, eq(rooms.num, roomThumbnails.roomNum))
      .where(eq(rooms.streamName, stream))
  )[0];
  if (!row || (row.status !== "live" && row.status !== "paused"))
    throw new AppError("NOT_FOUND", "This room has no live thumbnail");
  return row;
}

/**
 * What lists show for each room: its cover where set, else its live thumbnail (a URL with a play
 * token for the caller, bound to that room's stream), else nothing. Rooms of other apps are left out.
 */
export async function roomPictures(ctx: Ctx, ids: string[]) {
  const me = requireUser(ctx.actor);
  if (!ids.length) return {};
  const db = dbOf(ctx);
  const rows = await db
    .select({
      id: rooms.id,
      num: rooms.num,
      appId: rooms.appId,
      streamName: rooms.streamName,
      status: rooms.status,
      coverUrl: rooms.coverUrl,
      takenAt: roomThumbnails.takenAt,
    })
    .from(rooms)
    .leftJoin(roomThumbnails, eq(roomThumbnails.roomNum, rooms.num))
    .where(and(inArray(rooms.id, ids), tenantFilter(ctx.actor, rooms.appId)));
  // Tokens signed at a 30-s step keep each URL the same across a list's refreshes (the browser's
  // cache then holds the picture until the next thumbnail changes `v`).
  const ttl = env().PLAY_TOKEN_TTL_S;
  const now = ctx.clock.now();
  const signedAt = ttl >= 120 ? new Date(Math.floor(now.getTime() / 30_000) * 30_000) : now;
  const out: Record<string, { kind: "cover" | "live"; url: string } | null> = {};
  for (const r of rows) {
    if (r.coverUrl) out[r.id] = { kind: "cover", url: r.coverUrl };
    else if (r.takenAt && (r.status === "live" || r.status === "paused")) {
      const { token } = signRoomToken(
        { scope: "play", app: r.appId, room: r.id, num: r.num, st: r.streamName, sub: me.userId },
        signedAt,
        ttl,
      );
      out[r.id] = {
        kind: "live",
        url: `${env().publicUrl}/live/${r.streamName}/thumb.jpg?token=${token}&v=${r.takenAt.getTime()}`,
      };
    } else out[r.id] = null;
  }
  return out;
}
