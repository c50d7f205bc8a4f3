// Alibaba Cloud AUI Kits interactive-live AppServer API (seed 003), on onair's domain.
// Paths: POST /login and /api/v1/live/login, /api/v1/live/refresh_token, and with
// `Authorization: Bearer <token>` /api/v1/live/{create,get,list,update,delete,start,pause,stop,
// token,getMeetingInfo,updateMeetingInfo}. Success bodies are the seed's schemas (RoomInfo,
// MeetingInfo, TokenResponse, auth.authResponse); errors are models.Status {code, message} with the
// matching 4xx/5xx status. No rule lives here: every verb is the domain's.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import type { Actor, Ctx } from "../../actor";
import { openSession, verifyCredentials } from "../../accounts";
import { appById } from "../../apps";
import { systemClock, type Clock } from "../../clock";
import { tokenKey } from "../../crypto/keys";
import { getDb, type Db } from "../../db/client";
import { recordings, sessions, users } from "../../db/schema";
import { env } from "../../env";
import { AppError, badInput, toAppError } from "../../errors";
import { clientAddress } from "../../http/actor";
import { readJson } from "../../http/io";
import { log } from "../../log";
import { getPushInfo } from "../../media/access";
import { pullUrls } from "../../media/urls";
import { getMeetingInfo, updateMeetingInfo, meetingMember } from "../../mic";
import { roomStats } from "../../presence/stats";
import { createRoom, deleteRoom, findRoom, listRooms, transitionRoom, updateRoom, type RoomRow } from "../../rooms";
import { STATUS_CODE } from "../../rooms/status";
import {
  assertAccessNotRevoked,
  signAccessToken,
  signRoomToken,
  verifyAccessToken,
  type AccessClaims,
} from "../../tokens";
import { verifyJwt } from "../../tokens/jwt";

const PREFIX = "/api/v1/live/";

/** Go's time.Time JSON form (RFC 3339 with offset), as the reference server answers. */
const goTime = (d: Date | null | undefined) => (d ? d.toISOString().replace(/\.\d{3}Z$/, "Z") : "0001-01-01T00:00:00Z");

const loginBody = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
const createBody = z.object({
  anchor: z.string().min(1).max(64),
  anchor_nick: z.string().max(256).optional(),
  cover_url: z.string().max(1024).optional(),
  extends: z.string().max(65_536).optional(),
  mode: z.number().int().min(0).max(2).default(0),
  notice: z.string().max(1024).optional(),
  title: z.string().min(1).max(256),
});
const idBody = z.object({ id: z.string().uuid(), user_id: z.string().max(64).optional() });
const listBody = z.object({
  page_num: z.number().int().min(1).max(100_000),
  page_size: z.number().int().min(1).max(100),
  status: z.number().int().min(-1).max(2).default(-1),
  user_id: z.string().max(64),
});
const updateBody = z.object({
  id: z.string().uuid(),
  title: z.string().min(1).max(256).optional(),
  notice: z.string().max(1024).optional(),
  extends: z.string().max(65_536).optional(),
});
const tokenBody = z.object({
  device_id: z.string().min(1).max(128),
  device_type: z.string().min(1).max(16),
  user_id: z.string().max(64),
});
const meetingBody = z.object({ id: z.string().uuid(), members: z.array(meetingMember).max(64).default([]) });

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const p = schema.safeParse(body);
  if (!p.success) throw badInput(p.error.issues);
  return p.data;
}

/** RoomInfo exactly as the seed names its fields; push URLs only for the room's anchor. */
/** The room fields RoomInfo needs: a stored row or the domain's room view both carry them. */
type RoomFields = Omit<RoomRow, "streamClient" | "streamChangedAt" | "autoPaused">;

export async function roomInfo(db: Db, clock: Clock, actor: Actor, room: RoomFields) {
  const now = clock.now();
  const app = await appById(db, room.appId);
  const me = actor.kind === "user" ? actor.userId : "";
  const appArg = app
    ? { ...app.app, secret: app.secret }
    : { signScheme: "onair" as const, pushDomain: null, pullDomain: null };
  const play = signRoomToken(
    {
      scope: "play",
      app: room.appId,
      room: room.id,
      num: room.num,
      st: room.streamName,
      sub: me || "guest:aui",
      ...(me === room.hostId ? { mr: 1 } : {}),
    },
    now,
    env().PLAY_TOKEN_TTL_S,
  );
  const pull = pullUrls(room, appArg, play.token, Math.floor(play.expiresAt.getTime() / 1000));
  const isAnchor = me === room.hostId;
  const push = isAnchor ? await getPushInfo({ db, clock, actor }, room.id) : undefined;
  const m = await roomStats(db, room, now);
  const meeting = await getMeetingInfo({ db, clock, actor }, { room: room.id });
  const vods = await db
    .select()
    .from(recordings)
    .where(and(eq(recordings.roomNum, room.num), eq(recordings.status, "ready")));
  const base = env().publicUrl;
  return {
    id: room.id,
    created_at: goTime(room.createdAt),
    updated_at: goTime(room.updatedAt),
    title: room.title,
    notice: room.notice,
    cover_url: room.coverUrl,
    anchor_id: room.hostId,
    anchor_nick: room.hostNick,
    extends: room.extends,
    status: STATUS_CODE[room.status],
    mode: room.mode,
    chat_id: room.chatId,
    pk_id: room.pkId,
    meeting_id: room.meetingId,
    meeting_info: JSON.stringify(meeting.members),
    vod_id: room.vodId,
    started_at: goTime(room.startedAt),
    stopped_at: goTime(room.stoppedAt),
    metrics: { like_count: m.likes, online_count: m.online, pv: m.pv, uv: m.uv },
    pull_url_info: { flv_url: pull.flv_url, hls_url: pull.hls_url, rtmp_url: pull.rtmp_url, rts_url: pull.rts_url },
    push_url_info: push
      ? { rtmp_url: push.rtmp_url, rts_url: push.rts_url, srt_url: push.srt_url }
      : { rtmp_url: "", rts_url: "", srt_url: "" },
    link_info: {
      rtc_push_url: "",
      rtc_pull_url: "",
      cdn_pull_info: { flv_url: pull.flv_url, hls_url: pull.hls_url, rtmp_url: pull.rtmp_url, rts_url: "" },
    },
    user_status: { mute: false, mute_source: [] as string[] },
    vod_info: {
      status: vods.length ? 1 : 0,
      playlist: vods.map((v) => ({
        play_url: `${base}/vod/${v.id}.mp4`,
        format: "mp4",
        duration: (v.durationMs / 1000).toFixed(3),
        size: v.sizeBytes,
        creation_time: goTime(v.createdAt),
        status: "Normal",
        stream_type: "video",
        definition: "OD",
      })),
    },
  };
}

async function login(db: Db, clock: Clock, body: unknown, addr: string | undefined) {
  const b = parse(loginBody, body);
  const u = await verifyCredentials(db, b.username, b.password, { addr, now: clock.now() });
  // The reference AppServer's JWTs are stateless: a login on a second device leaves the first
  // signed in. Each login is its own session here (ended by logout, expiry or a disable).
  const s = await openSession(db, clock, u, `aui-${randomUUID()}`, "other");
  return { code: 200, expire: goTime(s.accessExpiresAt), token: s.accessToken };
}

/** How long after its expiry an access token may still be exchanged (gin-jwt's MaxRefresh). */
const MAX_REFRESH_AFTER_EXPIRY_S = 24 * 3600;

/**
 * A still-signed token of a session that is alive gets a fresh one, as gin-jwt's refresh does:
 * past expiry only within MAX_REFRESH_AFTER_EXPIRY_S, and never one that was revoked.
 */
async function refreshToken(db: Db, clock: Clock, bearer: string | undefined) {
  if (!bearer) throw new AppError("UNAUTHENTICATED", "Authorization: Bearer <token> is required");
  const now = clock.now();
  const c = verifyJwt<AccessClaims>(bearer, tokenKey(), now.getTime() - MAX_REFRESH_AFTER_EXPIRY_S * 1000);
  if (c.typ !== "access") throw new AppError("TOKEN_INVALID", "Not an access token");
  // Revocations (logout, disabled user or app) hold for expired tokens too: check them as of now.
  assertAccessNotRevoked(c);
  const s = (
    await db
      .select()
      .from(sessions)
      .where(and(eq(sessions.id, c.sid), isNull(sessions.revokedAt)))
  )[0];
  if (!s || s.expiresAt <= now) throw new AppError("TOKEN_EXPIRED", "Session expired; log in again");
  const u = (await db.select().from(users).where(eq(users.id, c.sub)))[0];
  if (!u || u.disabled) throw new AppError("DISABLED", "This account is disabled");
  const issued = signAccessToken({ sub: u.id, app: u.appId, role: u.role, sid: s.id }, now, env().ACCESS_TOKEN_TTL_S);
  return { code: 200, expire: goTime(issued.expiresAt), token: issued.token };
}

async function roomOf(ctx: Ctx, id: string) {
  return findRoom(ctx.db, ctx.actor, id);
}
const infoOf = async (ctx: Ctx, id: string) => roomInfo(ctx.db, ctx.clock, ctx.actor, await roomOf(ctx, id));

async function authed(ctx: Ctx, verb: string, body: unknown): Promise<unknown> {
  switch (verb) {
    case "create": {
      const b = parse(createBody, body);
      const me = ctx.actor.kind === "user" ? ctx.actor : undefined;
      // `anchor` names the host: the caller themself, or (for admins) a host of their app.
      const r = await createRoom(ctx, {
        title: b.title,
        notice: b.notice,
        coverUrl: b.cover_url,
        hostNick: b.anchor_nick,
        mode: b.mode,
        extends: b.extends,
        record: false,
        hostId: me?.role === "admin" ? b.anchor : undefined,
      });
      return infoOf(ctx, r.id);
    }
    case "get":
      return infoOf(ctx, parse(idBody, body).id);
    case "list": {
      const b = parse(listBody, body);
      const statusOf = { 0: "prepare", 1: "live", 2: "ended" } as const;
      const page = await listRooms(ctx, {
        limit: b.page_size,
        offset: (b.page_num - 1) * b.page_size,
        withMetrics: false,
        status: b.status === -1 ? undefined : statusOf[b.status as 0 | 1 | 2],
      });
      return Promise.all(page.items.map((v) => roomInfo(ctx.db, ctx.clock, ctx.actor, v)));
    }
    case "update": {
      const b = parse(updateBody, body);
      await updateRoom(ctx, { room: b.id, title: b.title, notice: b.notice, extends: b.extends });
      return infoOf(ctx, b.id);
    }
    case "delete": {
      const b = parse(idBody, body);
      const before = await infoOf(ctx, b.id);
      await deleteRoom(ctx, b.id);
      return before;
    }
    case "start":
    case "pause":
    case "stop": {
      const b = parse(idBody, body);
      const room = await roomOf(ctx, b.id);
      // Clients repeat start/stop freely: repeating the current state is not an error here.
      const already =
        (verb === "start" && room.status === "live") ||
        (verb === "pause" && room.status === "paused") ||
        (verb === "stop" && room.status === "ended");
      if (!already) await transitionRoom(ctx, b.id, verb);
      return infoOf(ctx, b.id);
    }
    case "token": {
      const b = parse(tokenBody, body);
      if (ctx.actor.kind !== "user") throw new AppError("UNAUTHENTICATED", "Sign in first");
      const u = (await ctx.db.select().from(users).where(eq(users.id, ctx.actor.userId)))[0];
      if (!u) throw new AppError("NOT_FOUND", "User not found");
      // The new device session never outlives the one whose access token asked for it.
      const origin = ctx.actor.sessionId
        ? (await ctx.db.select().from(sessions).where(eq(sessions.id, ctx.actor.sessionId)))[0]
        : undefined;
      if (!origin || origin.revokedAt) throw new AppError("TOKEN_INVALID", "Session is not valid");
      const s = await openSession(
        ctx.db,
        ctx.clock,
        u,
        b.device_id,
        ["android", "ios", "web", "win", "mac"].includes(b.device_type) ? b.device_type : "other",
        origin.expiresAt,
      );
      return { access_token: s.accessToken, refresh_token: s.refreshToken };
    }
    case "getMeetingInfo": {
      const b = parse(z.object({ id: z.string().uuid() }), body);
      return getMeetingInfo(ctx, { room: b.id });
    }
    case "updateMeetingInfo": {
      const b = parse(meetingBody, body);
      return updateMeetingInfo(ctx, { room: b.id, members: b.members });
    }
    default:
      throw new AppError("NOT_FOUND", `Unknown API ${verb}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  const s = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(s) });
  res.end(s);
}

/** Mounted by the web process: answers AUI paths, returns false for anything else. */
export function createAuiHandler(opts: { db?: () => Db; clock?: Clock } = {}) {
  const db = opts.db ?? getDb;
  const clock = opts.clock ?? systemClock;
  return function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? "").split("?")[0]!;
    const isLogin = path === "/login" || path === `${PREFIX}login`;
    if (!isLogin && !path.startsWith(PREFIX)) return false;
    (async () => {
      if (req.method !== "POST") throw new AppError("NOT_FOUND", "Use POST");
      const body = await readJson(req, 1024 * 1024);
      if (isLogin) return login(db(), clock, body, clientAddress(req));
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
      if (path === `${PREFIX}refresh_token`) return refreshToken(db(), clock, bearer);
      if (!bearer) throw new AppError("UNAUTHENTICATED", "Authorization: Bearer <token> is required");
      const c = verifyAccessToken(bearer, clock.now());
      const actor: Actor = { kind: "user", userId: c.sub, role: c.role, appId: c.app, sessionId: c.sid };
      return authed({ db: db(), clock, actor }, path.slice(PREFIX.length), body);
    })().then(
      (out) => send(res, 200, out),
      (e) => {
        const a = toAppError(e);
        if (a.code === "INTERNAL") log.error("aui adapter failed", { path, error: (e as Error).message });
        send(res, a.httpStatus, {
          code: a.httpStatus,
          message: a.message,
          ...(a.details ? { details: a.details } : {}),
        });
      },
    );
    return true;
  };
}
