// What hosts and viewers ask of the media plane: push credentials, pull URLs with a fresh play
// token, publish-key rotation and VOD playback URLs.
import { and, asc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { dbOf, type Ctx } from "../actor";
import { appById, getApp } from "../apps";
import { recordings, rooms } from "../db/schema";
import { env } from "../env";
import { AppError, forbidden, notFound } from "../errors";
import { canManageRoom, findManagedRoom, findPublicRoom, findRoom, roomRef, roomView } from "../rooms";
import { continuationOf } from "../rooms/again";
import { changeRoom, managed } from "../rooms/change";
import { assertNotKicked } from "../presence/kicked";
import { getRecording } from "../recordings";
import { signRoomToken } from "../tokens";
import { roomStats } from "../presence/figures";
import { pullUrls, pushInfo } from "./urls";
import { channelPassword } from "./keys";
import { sourceOf } from "../sources";
import { chatDuring, REPLAY_CHAT_PAGE } from "../chat";

export const pullInput = z.object({ room: roomRef, guestId: z.string().uuid().optional() });

export async function getPushInfo(ctx: Ctx, ref: z.infer<typeof roomRef>) {
  const room = await findManagedRoom(dbOf(ctx), ctx.actor, ref);
  const app = await appById(dbOf(ctx), room.appId);
  if (!app) throw notFound("App");
  const exp = Math.floor(ctx.clock.now().getTime() / 1000) + 86400;
  return {
    ...pushInfo(room, { ...app.app, secret: app.secret }, exp),
    keyVersion: room.keyVersion,
    streamName: room.streamName,
    /** For Polyv push clients: channel number and password. */
    channelId: room.num,
    channelPassword: channelPassword(room),
  };
}

/** A new publish key; the old one stops working for new publishes at once. */
export async function rotatePublishKey(ctx: Ctx, ref: z.infer<typeof roomRef>) {
  await changeRoom(ctx, managed(ref), "room.rotate_key", async (tx, room, now) => {
    await tx
      .update(rooms)
      .set({ keyVersion: room.keyVersion + 1, updatedAt: now })
      .where(eq(rooms.num, room.num));
    return { result: undefined };
  });
  return getPushInfo(ctx, ref);
}

/**
 * Pull URLs with a fresh play token. Signed-in users get one for rooms of their app; visitors who
 * are not signed in get a guest token (rooms are public to watch, as on the seed platforms).
 */
export async function getPullUrls(ctx: Ctx, input: z.infer<typeof pullInput>) {
  const now = ctx.clock.now();
  const db = dbOf(ctx);
  const room =
    ctx.actor.kind === "anonymous" ? await findPublicRoom(db, input.room) : await findRoom(db, ctx.actor, input.room);
  const app = await appById(db, room.appId);
  if (!app?.app.enabled) throw new AppError("DISABLED", "This app is disabled");
  const member = ctx.actor.kind === "user" ? ctx.actor.userId : `guest:${input.guestId ?? crypto.randomUUID()}`;
  await assertNotKicked(db, room.num, member);
  const ttl = env().PLAY_TOKEN_TTL_S;
  // The host watching their own preview is not audience: mr=1 keeps them out of the counts.
  const issued = signRoomToken(
    {
      scope: "play",
      app: room.appId,
      room: room.id,
      num: room.num,
      st: room.streamName,
      sub: member,
      ...(member === room.hostId ? { mr: 1 } : {}),
    },
    now,
    ttl,
  );
  const exp = Math.floor(issued.expiresAt.getTime() / 1000);
  return {
    room: roomView(room, await roomStats(db, room, now)),
    /** The room this broadcast went on in ("Go live again"), newest of the chain; null when none. */
    continuedIn: room.status === "ended" ? await continuationOf(db, room) : null,
    token: issued.token,
    expiresAt: issued.expiresAt,
    urls: pullUrls(room, { ...app.app, secret: app.secret }, issued.token, exp),
    /** A source feeds the room (pulled while someone plays it): players play it whatever its status says. */
    sourced: !!(await sourceOf(db, room.num, "main")),
  };
}

/** A token bound to one recording: `vod:<id>` plays it, `vod:<id>:download` also names it as an attachment. */
function vodToken(ctx: Ctx, rec: { id: string; appId: number; roomNum: number }, roomId: string, download: boolean) {
  const member = ctx.actor.kind === "user" ? ctx.actor.userId : "guest:vod";
  const st = `vod:${rec.id}${download ? ":download" : ""}`;
  const issued = signRoomToken(
    { scope: "play", app: rec.appId, room: roomId, num: rec.roomNum, st, sub: member },
    ctx.clock.now(),
    env().PLAY_TOKEN_TTL_S,
  );
  return { url: `${env().publicUrl}/vod/${rec.id}.mp4?token=${issued.token}`, expiresAt: issued.expiresAt };
}

/** A playback URL for a ready recording, with a token bound to that recording. */
export async function getVodUrl(ctx: Ctx, id: string) {
  const rec = await getRecording(ctx, id);
  if (rec.status !== "ready")
    throw new AppError("ILLEGAL_TRANSITION", "This recording is not ready yet", { status: rec.status });
  const row = (await dbOf(ctx).select({ id: rooms.id }).from(rooms).where(eq(rooms.num, rec.roomNum)))[0];
  return { ...vodToken(ctx, rec, row?.id ?? "", false), recording: rec };
}

/**
 * A download of a ready recording, for the room's host and the admins of its app: the URL serves
 * the MP4 as an attachment named after the recording (Content-Disposition), with range requests.
 * A recording a client reported with its own URL (no file here) downloads from that URL.
 */
export async function getDownloadUrl(ctx: Ctx, id: string) {
  const rec = await getRecording(ctx, id);
  const me = ctx.actor;
  if (!canManageRoom(me, rec)) throw forbidden("Only the room's host or an admin can download this recording");
  if (rec.status !== "ready")
    throw new AppError("ILLEGAL_TRANSITION", "This recording is not ready yet", { status: rec.status });
  const row = (await dbOf(ctx).select({ id: rooms.id }).from(rooms).where(eq(rooms.num, rec.roomNum)))[0];
  const hasFile = (
    await dbOf(ctx).select({ filePath: recordings.filePath }).from(recordings).where(eq(recordings.id, rec.id))
  )[0]?.filePath;
  if (!hasFile && rec.url) return { url: rec.url, expiresAt: null, recording: rec };
  return { ...vodToken(ctx, rec, row?.id ?? "", true), recording: rec };
}

export const replayInput = z.object({ room: roomRef });
/** At most this many recordings of a room are offered on its watch page. */
const REPLAY_LIMIT = 20;
/** A recording processing longer than this is not counted as pending (the page stops waiting). */
const PENDING_FOR_MS = 30 * 60_000;

/**
 * A room whose replay the caller may watch, under the room's play rules (pullUrls): public to
 * visitors, the room's tenant for signed-in users, not to a member removed from it, nothing while
 * its app is disabled.
 */
async function replayRoom(ctx: Ctx, ref: z.infer<typeof roomRef>) {
  const db = dbOf(ctx);
  const room = ctx.actor.kind === "anonymous" ? await findPublicRoom(db, ref) : await findRoom(db, ctx.actor, ref);
  const app = await appById(db, room.appId);
  if (!app?.app.enabled) throw new AppError("DISABLED", "This app is disabled");
  if (ctx.actor.kind === "user") await assertNotKicked(db, room.num, ctx.actor.userId);
  return room;
}

/**
 * An ended room's recordings for its watch page, oldest first, each with a playback URL (and when
 * its token expires), and how many are still being processed (the page looks again while any are).
 * Empty until the room has ended.
 */
export async function getReplay(ctx: Ctx, input: z.infer<typeof replayInput>) {
  const db = dbOf(ctx);
  const room = await replayRoom(ctx, input.room);
  // One reading of the clock: the answer's `now`, the pending cut-off and the tokens agree.
  const now = ctx.clock.now().getTime();
  if (room.status !== "ended") return { items: [], pending: 0, now };
  const rows = await db
    .select()
    .from(recordings)
    .where(and(eq(recordings.roomNum, room.num), inArray(recordings.status, ["ready", "processing"])))
    .orderBy(asc(recordings.createdAt), asc(recordings.id))
    .limit(REPLAY_LIMIT);
  return {
    items: rows
      .filter((rec) => rec.status === "ready")
      .map((rec) => {
        // A recording reported with its own URL plays from there; onair's own files through /vod/.
        const own = !rec.filePath && rec.url;
        const vod = own ? undefined : vodToken(ctx, rec, room.id, false);
        return {
          id: rec.id,
          name: rec.name,
          durationMs: rec.durationMs,
          createdAt: rec.createdAt,
          /** When its first frame was live (ms since the epoch); null: unknown, no chat in step with it. */
          startedAt: rec.startedAt?.getTime() ?? null,
          url: vod ? vod.url : rec.url,
          /** When the URL's token expires (ms since the epoch; null: a URL of the client's own). */
          expiresAt: vod ? vod.expiresAt.getTime() : null,
        };
      }),
    // Processing for long means it never finished (its remux was cut, or a client never gave its
    // URL): not waited for.
    pending: rows.filter((rec) => rec.status === "processing" && now - rec.createdAt.getTime() < PENDING_FOR_MS).length,
    /** The server's time (ms since the epoch): `expiresAt` against it, whatever the client's clock says. */
    now,
  };
}

/** Message times a cursor may carry: the epoch to the year 2100. */
const MAX_AT = Date.UTC(2100, 0, 1);
export const replayChatInput = z.object({
  room: roomRef,
  recording: z.string().uuid(),
  /** Messages from this far into the recording on (a viewer who seeks ahead starts there). */
  fromMs: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600 * 1000)
    .default(0),
  /** The last message of the page before (its time and id, `next` of that page): this page starts after it. */
  cursor: z.object({ at: z.number().int().min(0).max(MAX_AT), id: z.number().int().positive() }).nullish(),
});

/**
 * The chat sent while a recording of an ended room was live, oldest first, in pages of
 * REPLAY_CHAT_PAGE: a replay shows each message when the video reaches its time (`at` − the
 * recording's `startedAt`). Removed messages are left out. Under the replay's own rules.
 */
export async function getReplayChat(ctx: Ctx, input: z.infer<typeof replayChatInput>) {
  const db = dbOf(ctx);
  const room = await replayRoom(ctx, input.room);
  const rec = (
    await db
      .select()
      .from(recordings)
      .where(and(eq(recordings.id, input.recording), eq(recordings.roomNum, room.num), eq(recordings.status, "ready")))
  )[0];
  // Recordings are offered once the room has ended (getReplay); so is their chat.
  if (!rec || room.status !== "ended") throw notFound("Recording");
  if (!rec.startedAt) return { startedAt: null, items: [], next: null };
  const start = rec.startedAt.getTime();
  const from = new Date(start + Math.min(input.fromMs, rec.durationMs));
  const to = new Date(start + rec.durationMs);
  const page = await chatDuring(db, room, { from, to, after: input.cursor ?? undefined, limit: REPLAY_CHAT_PAGE + 1 });
  const items = page.slice(0, REPLAY_CHAT_PAGE);
  const last = items.at(-1);
  return {
    startedAt: start,
    items,
    next: page.length > REPLAY_CHAT_PAGE && last ? { at: last.at, id: last.id } : null,
  };
}

/** The app's signing scheme applied to a sample stream, so admins can check it against their CDN. */
export async function sampleUrls(ctx: Ctx, appId: number) {
  await getApp(ctx, appId);
  const app = (await appById(dbOf(ctx), appId))!;
  const now = ctx.clock.now();
  const issued = signRoomToken(
    { scope: "play", app: appId, room: "sample", num: 0, st: "sample", sub: "guest:sample" },
    now,
    3600,
  );
  const exp = Math.floor(issued.expiresAt.getTime() / 1000);
  const room = { streamName: "sample", keyVersion: 1 };
  return {
    scheme: app.app.signScheme,
    push: pushInfo(room, { ...app.app, secret: app.secret }, exp),
    pull: pullUrls(room, { ...app.app, secret: app.secret }, issued.token, exp),
  };
}
