// 随心播 (Tencent interactive-live demo business server, seed 001) on onair's domain:
// POST /sxb/index.php?svc=…&cmd=… (and /index.php?…) with JSON bodies, answered with HTTP 200 and
// the {errorCode, errorInfo, data} envelope and the seed's codes. Accounts register into the app
// named by COMPAT_SXB_APP_ID (default: the first enabled app) as hosts, as every 随心播 user may go
// live. `heartbeat` is a hot path and is answered by the front process (see heartbeat() below).
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { and, asc, count, desc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { dbOf, transaction, type Actor, type Ctx } from "../../actor";
import { logout, openSession, register, verifyCredentials } from "../../accounts";
import { appById } from "../../apps";
import { systemClock, type Clock } from "../../clock";
import { getDb, type Db } from "../../db/client";
import { apps, MEMBER_ROLE, recordings, roomMembers, rooms, users } from "../../db/schema";
import { env } from "../../env";
import { AppError, type ErrorCode } from "../../errors";
import { clientAddress } from "../../http/actor";
import { readBody } from "../../http/io";
import { log } from "../../log";
import { open, safeEqual } from "../../crypto/secretbox";
import { reportMic, requestMic } from "../../mic";
import { joinRoom, leaveRoom } from "../../presence";
import type { PresenceBuffer } from "../../presence/buffer";
import { onlineWhere } from "../../presence/stats";
import { getVodUrl } from "../../media/access";
import { createRecording, listRecordings } from "../../recordings";
import { createRoom, findRoom, listRooms, transitionRoom, updateRoom, type RoomRow } from "../../rooms";
import { memberSubject, signRoomToken, verifyAccessToken } from "../../tokens";
import { revocationSet } from "../../tokens/revocations";
import { firstUse } from "../../limits";
import { pullUrls, vendorKeys } from "../../media/urls";
import { roomByStream, streamStarted, streamStopped } from "../../media/streams";

/** The seed's error codes. */
export const SXB = {
  OK: 0,
  BAD_REQUEST: 10001,
  BAD_JSON: 10002,
  BAD_DATA: 10003,
  USER_EXISTS: 10004,
  NO_USER: 10005,
  BAD_PASSWORD: 10006,
  RELOGIN: 10007,
  RELOGOUT: 10008,
  TOKEN_EXPIRED: 10009,
  NO_ROOM: 10010,
  NO_AV_ROOM: 20001,
  NOT_LIVE: 20002,
  INTERNAL: 90000,
} as const;

class SxbError extends Error {
  constructor(
    public code: number,
    message: string,
  ) {
    super(message);
  }
}

/** One mapping from domain errors to the seed's codes. */
function codeOf(e: unknown): { code: number; info: string } {
  if (e instanceof SxbError) return { code: e.code, info: e.message };
  if (e instanceof AppError) {
    const map: Partial<Record<ErrorCode, number>> = {
      BAD_REQUEST: SXB.BAD_DATA,
      UNAUTHENTICATED: SXB.TOKEN_EXPIRED,
      TOKEN_INVALID: SXB.TOKEN_EXPIRED,
      TOKEN_EXPIRED: SXB.TOKEN_EXPIRED,
      BAD_CREDENTIALS: SXB.BAD_PASSWORD,
      CONFLICT: SXB.USER_EXISTS,
      NOT_FOUND: SXB.NO_ROOM,
      FORBIDDEN: SXB.BAD_REQUEST,
      DISABLED: SXB.BAD_REQUEST,
      ILLEGAL_TRANSITION: SXB.NOT_LIVE,
      MIC_REFUSED: SXB.BAD_REQUEST,
      PAYLOAD_TOO_LARGE: SXB.BAD_REQUEST,
    };
    return { code: map[e.code] ?? SXB.INTERNAL, info: e.message };
  }
  return { code: SXB.INTERNAL, info: "server error" };
}

const b64 = (s: string) => {
  const text = Buffer.from(s, "base64").toString("utf8");
  if (!text) throw new SxbError(SXB.BAD_DATA, "pwd must be base64");
  return text;
};

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const p = schema.safeParse(body);
  if (!p.success)
    throw new SxbError(SXB.BAD_DATA, p.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return p.data;
}

const tokenOnly = z.object({ token: z.string().min(10).max(4096) }).passthrough();
const num = z.coerce.number().int().positive();
const page = {
  index: z.coerce.number().int().min(0).max(1_000_000).default(0),
  size: z.coerce.number().int().min(1).max(100).default(10),
};

async function defaultApp(db: Db) {
  const want = env().COMPAT_SXB_APP_ID;
  const row = (
    await db
      .select()
      .from(apps)
      .where(want ? eq(apps.id, want) : eq(apps.enabled, true))
      .orderBy(asc(apps.id))
      .limit(1)
  )[0];
  if (!row) throw new SxbError(SXB.INTERNAL, "no app is set up for 随心播 clients (COMPAT_SXB_APP_ID)");
  return row;
}

function actorOf(token: string, clock: Clock): Actor & { kind: "user" } {
  const c = verifyAccessToken(token, clock.now());
  return { kind: "user", userId: c.sub, role: c.role, appId: c.app, sessionId: c.sid };
}

/** A userSig for the IM SDK: onair signs the user id (document: not Tencent's TLS signature). */
const userSig = (userId: string) =>
  createHash("sha256").update(`usersig:${userId}:${env().AUTH_SECRET}`).digest("base64url");

async function roomByNum(ctx: Ctx, n: number): Promise<RoomRow> {
  try {
    return await findRoom(dbOf(ctx), ctx.actor, n);
  } catch {
    throw new SxbError(SXB.NO_ROOM, "直播房间不存在");
  }
}

function playAddresses(
  ctx: Ctx,
  room: Pick<RoomRow, "appId" | "id" | "num" | "streamName">,
  app: Parameters<typeof pullUrls>[1],
) {
  const me = ctx.actor.kind === "user" ? ctx.actor.userId : "guest:sxb";
  const issued = signRoomToken(
    { scope: "play", app: room.appId, room: room.id, num: room.num, st: room.streamName, sub: me },
    ctx.clock.now(),
    env().PLAY_TOKEN_TTL_S,
  );
  const u = pullUrls(room, app, issued.token, Math.floor(issued.expiresAt.getTime() / 1000));
  return { address: u.flv_url, address2: u.hls_url, address3: u.rtmp_url };
}

async function appArg(db: Db, appId: number) {
  const a = await appById(db, appId);
  return a ? { ...a.app, secret: a.secret } : { signScheme: "onair" as const, pushDomain: null, pullDomain: null };
}

type Handler = (ctx: Ctx, body: Record<string, unknown>) => Promise<unknown>;

/**
 * 随心播 clients know people by the id they registered (`regist.id`, onair's username), never by
 * onair's internal user ids: every id an answer carries is mapped back (unknown ids pass as they are).
 */
const hostIds = (rows: Array<{ hostId: string }>) => rows.map((r) => r.hostId);

async function accountIds(ctx: Ctx, userIds: string[]): Promise<(id: string) => string> {
  const wanted = [...new Set(userIds)].filter((id) => !id.startsWith("guest:"));
  const rows = wanted.length
    ? await dbOf(ctx).select({ id: users.id, username: users.username }).from(users).where(inArray(users.id, wanted))
    : [];
  const names = new Map(rows.map((r) => [r.id, r.username]));
  return (id) => names.get(id) ?? id;
}

const account: Record<
  string,
  (db: Db, clock: Clock, body: Record<string, unknown>, addr: string | undefined) => Promise<unknown>
> = {
  async regist(db, clock, body) {
    const b = parse(z.object({ id: z.string().min(1).max(64), pwd: z.string().min(1).max(512) }), body);
    const app = await defaultApp(db);
    try {
      await register(
        { db, clock, actor: { kind: "system", appId: app.id, via: "sxb" } },
        { appKey: app.accessKey, username: b.id, password: b64(b.pwd) },
        // The app's documented choice (console: Apps → "Vendor sign-ups become"); viewer by default.
        app.signupRole,
      );
    } catch (e) {
      if (e instanceof AppError && e.code === "CONFLICT") throw new SxbError(SXB.USER_EXISTS, "用户已经注册");
      throw e;
    }
    return undefined;
  },
  async login(db, clock, body, addr) {
    const b = parse(z.object({ id: z.string().min(1).max(64), pwd: z.string().min(1).max(512) }), body);
    let u;
    try {
      u = await verifyCredentials(db, b.id, b64(b.pwd), { addr, now: clock.now() });
    } catch (e) {
      if (e instanceof AppError && e.code === "BAD_CREDENTIALS") {
        const exists = (await db.select({ id: users.id }).from(users).where(eq(users.username, b.id))).length > 0;
        throw new SxbError(exists ? SXB.BAD_PASSWORD : SXB.NO_USER, exists ? "密码有误" : "用户不存在");
      }
      throw e;
    }
    const s = await openSession(db, clock, u, "sxb", "other");
    return { userSig: userSig(u.id), token: s.accessToken };
  },
  async logout(db, clock, body) {
    const b = parse(tokenOnly, body);
    let actor;
    try {
      actor = actorOf(b.token, clock);
    } catch (e) {
      // A token already revoked by an earlier logout is a repeated logout.
      if (e instanceof AppError && e.code === "TOKEN_INVALID") throw new SxbError(SXB.RELOGOUT, "重复退出");
      throw e;
    }
    await logout({ db, clock, actor });
    return undefined;
  },
};

const live: Record<string, Handler> = {
  async create(ctx, body) {
    parse(tokenOnly.extend({ type: z.string().max(16).default("live") }), body);
    const r = await createRoom(ctx, { title: "live", mode: 0, record: false });
    return { roomnum: r.num, groupid: r.chatId };
  },
  async reportroom(ctx, body) {
    const b = parse(
      tokenOnly.extend({
        room: z.object({
          title: z.string().max(256).optional(),
          roomnum: num,
          type: z.string().max(16).optional(),
          groupid: z.string().max(256).optional(),
          cover: z.string().max(1024).optional(),
          appid: z.coerce.number().optional(),
          device: z.coerce.number().optional(),
          videotype: z.coerce.number().optional(),
          host: z.string().optional(),
        }),
      }),
      body,
    );
    // One transaction: the room is renamed and started, or neither.
    await transaction(ctx, async (_tx, inner) => {
      const room = await roomByNum(inner, b.room.roomnum);
      await updateRoom(inner, {
        room: room.num,
        title: b.room.title || room.title,
        coverUrl: b.room.cover && /^https?:\/\//.test(b.room.cover) ? b.room.cover : undefined,
      });
      // The room was created on the client's side: it is live now.
      if (room.status === "prepare" || room.status === "paused") await transitionRoom(inner, room.num, "start");
    });
    return undefined;
  },
  async roomlist(ctx, body) {
    const b = parse(
      // The Web demo sends `type` as the number 1.
      tokenOnly.extend({
        type: z.union([z.string().max(16), z.number()]).optional(),
        appid: z.coerce.number().optional(),
        ...page,
      }),
      body,
    );
    const listed = await listRooms(ctx, {
      status: "live",
      appId: b.appid,
      limit: b.size,
      offset: b.index,
      withMetrics: true,
    });
    const accountOf = await accountIds(ctx, hostIds(listed.items));
    return {
      total: listed.total,
      rooms: listed.items.map((r) => ({
        uid: accountOf(r.hostId),
        info: {
          title: r.title,
          roomnum: r.num,
          type: "live",
          groupid: r.chatId,
          cover: r.coverUrl,
          thumbup: r.metrics?.likes ?? 0,
          memsize: r.metrics?.online ?? 0,
        },
      })),
    };
  },
  async reportmemid(ctx, body) {
    const b = parse(
      tokenOnly.extend({
        id: z.string().max(64).optional(),
        roomnum: num,
        role: z.coerce.number().int().min(0).max(2).default(0),
        operate: z.coerce.number().int().min(0).max(1).default(0),
      }),
      body,
    );
    const room = await roomByNum(ctx, b.roomnum);
    const j = await joinRoom(ctx, { room: room.id });
    if (b.operate === 1) await leaveRoom(ctx.db, { token: j.presenceToken }, ctx.clock.now());
    return undefined;
  },
  async roomidlist(ctx, body) {
    const b = parse(tokenOnly.extend({ roomnum: num, ...page }), body);
    const room = await roomByNum(ctx, b.roomnum);
    const online = and(eq(roomMembers.roomNum, room.num), onlineWhere(ctx.clock.now()));
    const [rows, total] = await Promise.all([
      ctx.db
        .select({ id: roomMembers.memberId, role: roomMembers.role })
        .from(roomMembers)
        .where(online)
        .orderBy(desc(roomMembers.role), asc(roomMembers.joinedAt))
        .limit(b.size)
        .offset(b.index),
      ctx.db.select({ n: count() }).from(roomMembers).where(online),
    ]);
    const accountOf = await accountIds(
      ctx,
      rows.map((r) => r.id),
    );
    return { total: total[0]?.n ?? 0, idlist: rows.map((r) => ({ id: accountOf(r.id), role: r.role })) };
  },
  async request(ctx, body) {
    const b = parse(tokenOnly.extend({ roomnum: num }), body);
    await requestMic(ctx, { room: (await roomByNum(ctx, b.roomnum)).num });
    return undefined;
  },
  async reportstatus(ctx, body) {
    const b = parse(tokenOnly.extend({ roomnum: num, status: z.enum(["on", "off"]) }), body);
    // Hosts approve co-hosts over the clients' IM, which the server never sees.
    await reportMic(
      ctx,
      { room: (await roomByNum(ctx, b.roomnum)).num, status: b.status },
      { approvedElsewhere: true },
    );
    return undefined;
  },
  async reportrecord(ctx, body) {
    const b = parse(
      tokenOnly.extend({
        roomnum: num,
        uid: z.string().max(64).optional(),
        name: z.string().min(1).max(256),
        type: z.coerce.number().int().min(0).max(1000).default(0),
        cover: z.string().max(1024).optional(),
      }),
      body,
    );
    const room = await roomByNum(ctx, b.roomnum);
    await createRecording(ctx, {
      room: room.num,
      name: b.name,
      type: b.type,
      coverUrl: b.cover && /^https?:\/\//.test(b.cover) ? b.cover : "",
      url: "",
      durationMs: 0,
      sizeBytes: 0,
    });
    return undefined;
  },
  async exitroom(ctx, body) {
    const b = parse(tokenOnly.extend({ roomnum: num, type: z.string().max(16).optional() }), body);
    const room = await roomByNum(ctx, b.roomnum);
    const me = ctx.actor.kind === "user" ? ctx.actor.userId : "";
    if (me === room.hostId) {
      if (room.status !== "ended") await transitionRoom(ctx, room.num, "stop");
    } else {
      const j = await joinRoom(ctx, { room: room.id });
      await leaveRoom(ctx.db, { token: j.presenceToken }, ctx.clock.now());
    }
    return undefined;
  },
  async recordlist(ctx, body) {
    const b = parse(tokenOnly.extend({ type: z.coerce.number().int().optional(), ...page }), body);
    const listed = await listRecordings(ctx, { status: "ready", type: b.type, limit: b.size, offset: b.index });
    const accountOf = await accountIds(ctx, hostIds(listed.items));
    const videos = await Promise.all(
      listed.items.map(async (r) => ({
        uid: accountOf(r.hostId),
        cover: r.coverUrl,
        videoId: r.id,
        playid: r.id,
        playurl: r.url || (await getVodUrl(ctx, r.id)).url,
      })),
    );
    return { total: listed.total, videos };
  },
  async livestreamlist(ctx, body) {
    const b = parse(tokenOnly.extend(page), body);
    const listed = await listRooms(ctx, { status: "live", limit: b.size, offset: b.index, withMetrics: false });
    const accountOf = await accountIds(ctx, hostIds(listed.items));
    const videos = await Promise.all(
      listed.items.map(async (r) => ({
        uid: accountOf(r.hostId),
        cover: r.coverUrl,
        ...playAddresses(ctx, r, await appArg(ctx.db, r.appId)),
      })),
    );
    return { total: listed.total, videos };
  },
  async getroomplayurl(ctx, body) {
    const b = parse(tokenOnly.extend({ roomnum: num.optional(), room: num.optional() }), body);
    const n = b.roomnum ?? b.room;
    if (!n) throw new SxbError(SXB.BAD_DATA, "roomnum is required");
    const room = await roomByNum(ctx, n);
    if (room.status !== "live") throw new SxbError(SXB.NOT_LIVE, "用户没有在直播");
    return { cover: room.coverUrl, ...playAddresses(ctx, room, await appArg(ctx.db, room.appId)) };
  },
};

/**
 * Tencent Cloud live callbacks (event_type 1 push, 0 stop, 100 record), `sign = md5(key + t)`
 * with `t` (unix seconds) no older than 10 minutes; key = the app's callback key (see README).
 */
async function callback(db: Db, clock: Clock, body: Record<string, unknown>) {
  const b = parse(
    z
      .object({
        event_type: z.coerce.number().int(),
        t: z.coerce.number().int(),
        sign: z.string().min(32).max(64),
        stream_id: z.string().max(128).optional(),
        channel_id: z.string().max(128).optional(),
        video_url: z.string().max(2048).optional(),
        duration: z.coerce.number().optional(),
        file_size: z.coerce.number().optional(),
        file_id: z.string().max(128).optional(),
      })
      .passthrough(),
    body,
  );
  const stream = b.stream_id ?? b.channel_id ?? "";
  const row = await roomByStream(db, stream);
  if (!row) throw new SxbError(SXB.NO_ROOM, "直播房间不存在");
  const key = vendorKeys(open(row.app.secretEnc)).callbackKey;
  const nowS = Math.floor(clock.now().getTime() / 1000);
  if (!safeEqual(createHash("md5").update(`${key}${b.t}`).digest("hex"), b.sign.toLowerCase()))
    throw new SxbError(SXB.BAD_REQUEST, "bad sign");
  if (Math.abs(nowS - b.t) > 600) throw new SxbError(SXB.BAD_REQUEST, "t is outside the 10 minute window");
  // The seed's sign covers neither the event nor the stream: each (t, sign) is honoured once, on
  // every instance, for as long as it would verify.
  const replayUntil = new Date((b.t + 600) * 1000);
  if (!(await firstUse(db, "sxb:tencent", `${row.app.id}:${b.t}:${b.sign.toLowerCase()}`, replayUntil)))
    throw new SxbError(SXB.BAD_REQUEST, "callback already received (replay)");
  const client = `tencent:${stream}`;
  if (b.event_type === 1) await streamStarted(db, clock, stream, client, { trusted: true, via: "tencent" });
  else if (b.event_type === 0) await streamStopped(db, clock, stream, undefined, "tencent");
  else if (b.event_type === 100) {
    if (!b.video_url) throw new SxbError(SXB.BAD_DATA, "video_url is required");
    const ctx = { db, clock, actor: { kind: "system" as const, appId: row.room.appId, via: "tencent" } };
    // A recording the client reported (reportrecord) is completed; otherwise a new one is made.
    const pending = (
      await db
        .select()
        .from(recordings)
        .where(and(eq(recordings.roomNum, row.room.num), eq(recordings.status, "processing")))
        .orderBy(desc(recordings.createdAt))
        .limit(1)
    )[0];
    const fields = {
      url: b.video_url,
      durationMs: Math.round((b.duration ?? 0) * 1000),
      sizeBytes: Math.round(b.file_size ?? 0),
      status: "ready" as const,
      updatedAt: clock.now(),
    };
    if (pending) await db.update(recordings).set(fields).where(eq(recordings.id, pending.id));
    else
      await createRecording(ctx, {
        room: row.room.id,
        name: `${row.room.title}`,
        type: 0,
        coverUrl: row.room.coverUrl,
        url: b.video_url,
        durationMs: fields.durationMs,
        sizeBytes: fields.sizeBytes,
      });
  }
  return undefined;
}

function send(res: ServerResponse, errorCode: number, errorInfo: string, data?: unknown) {
  const s = JSON.stringify(data === undefined ? { errorCode, errorInfo } : { errorCode, errorInfo, data });
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(s) });
  res.end(s);
}

const isSxbPath = (p: string) => p === "/sxb/index.php" || p === "/index.php";

/**
 * The hot path, answered by the front process: `heartbeat` {token, roomnum, role, thumbup}. The
 * token is checked in memory; the room number through a one-second cache of the shared store.
 */
export function createSxbHeartbeat(buffer: PresenceBuffer, clock: Clock = systemClock) {
  type RoomOfBeat = { at: number; appId: number; ok: boolean; hostId: string; secret?: string };
  const cache = new Map<number, RoomOfBeat>();
  return async function heartbeat(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<boolean> {
    if (query.get("svc") !== "live" || query.get("cmd") !== "heartbeat") return false;
    try {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(await readBody(req, 16 * 1024)) as Record<string, unknown>;
      } catch (e) {
        if (e instanceof AppError) throw e;
        throw new SxbError(SXB.BAD_JSON, "请求json错误");
      }
      const b = parse(
        tokenOnly.extend({
          roomnum: num,
          role: z.coerce.number().int().min(0).max(2).default(0),
          thumbup: z.coerce.number().int().min(0).max(2_000_000_000).default(0),
        }),
        body,
      );
      const me = actorOf(b.token, clock);
      const now = clock.now();
      let r = cache.get(b.roomnum);
      if (!r || now.getTime() - r.at > 1000) {
        const row = (
          await getDb()
            .select({
              appId: rooms.appId,
              status: rooms.status,
              hostId: rooms.hostId,
              sxbSign: apps.sxbSign,
              secretEnc: apps.secretEnc,
            })
            .from(rooms)
            .innerJoin(apps, eq(apps.id, rooms.appId))
            .where(eq(rooms.num, b.roomnum))
        )[0];
        r = {
          at: now.getTime(),
          appId: row?.appId ?? 0,
          ok: !!row && row.status !== "ended",
          hostId: row?.hostId ?? "",
          secret: row?.sxbSign ? open(row.secretEnc) : undefined,
        };
        cache.set(b.roomnum, r);
        if (cache.size > 100_000) cache.clear();
      }
      if (!r.ok || (me.appId !== null && r.appId !== me.appId)) throw new SxbError(SXB.NO_ROOM, "直播房间不存在");
      // The same anti-tamper rule as every other command of the app, here on the front.
      if (r.secret !== undefined) assertSigned(r.secret, req.url ?? "", "live", "heartbeat", query, body, now);
      // A member removed from the room stays out (the kick revoked them in memory on every instance).
      if (revocationSet.revokedBefore("member", memberSubject(b.roomnum, me.userId)) > 0)
        throw new SxbError(SXB.BAD_REQUEST, "您已被移出该房间");
      buffer.record({
        roomNum: b.roomnum,
        appId: r.appId,
        memberId: me.userId,
        // The role is the server's: the host of record, everybody else joins as audience.
        role: me.userId === r.hostId ? MEMBER_ROLE.host : MEMBER_ROLE.viewer,
        seenAt: now.getTime(),
        likes: b.thumbup,
      });
      send(res, SXB.OK, "");
    } catch (e) {
      const c = codeOf(e);
      send(res, c.code, c.info);
    }
    return true;
  };
}

/**
 * The anti-tamper check, for apps with `sxbSign` on:
 *   sign = md5("<path>?svc=<svc>&cmd=<cmd>&timeStamp=<timeStamp>" + <app secret>)
 * (path as requested, e.g. /sxb/index.php), timeStamp in unix seconds within 5 minutes; both may
 * come in the query or the JSON body. A missing or wrong sign answers 10001.
 */
export function sxbSignature(path: string, svc: string, cmd: string, timeStamp: string, secret: string) {
  return createHash("md5").update(`${path}?svc=${svc}&cmd=${cmd}&timeStamp=${timeStamp}${secret}`).digest("hex");
}

/** A JSON scalar as text (a number or string the client sent); anything else is empty. */
const scalarText = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v) : "");

async function checkSign(
  db: Db,
  clock: Clock,
  appId: number | null,
  path: string,
  svc: string,
  cmd: string,
  q: URLSearchParams,
  body: Record<string, unknown>,
) {
  const app = appId === null ? undefined : (await db.select().from(apps).where(eq(apps.id, appId)))[0];
  if (!app?.sxbSign) return;
  assertSigned(open(app.secretEnc), path, svc, cmd, q, body, clock.now());
}

/** The pure sign check: timeStamp within 5 minutes and the md5 sign over path, svc, cmd and it. */
function assertSigned(
  secret: string,
  url: string,
  svc: string,
  cmd: string,
  q: URLSearchParams,
  body: Record<string, unknown>,
  now: Date,
) {
  const path = url.split("?")[0]!;
  const ts = q.get("timeStamp") ?? scalarText(body.timeStamp);
  const sign = q.get("sign") ?? scalarText(body.sign);
  if (!/^\d{1,12}$/.test(ts) || Math.abs(Math.floor(now.getTime() / 1000) - Number(ts)) > 300)
    throw new SxbError(SXB.BAD_REQUEST, "请求有误: timeStamp missing or outside 5 minutes");
  if (!safeEqual(sxbSignature(path, svc, cmd, ts, secret), sign.toLowerCase()))
    throw new SxbError(SXB.BAD_REQUEST, "请求有误: bad sign");
}

/** Mounted by the web process. */
export function createSxbHandler(opts: { db?: () => Db; clock?: Clock } = {}) {
  const db = opts.db ?? getDb;
  const clock = opts.clock ?? systemClock;
  return function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const [path, qs = ""] = (req.url ?? "").split("?");
    if (!isSxbPath(path!)) return false;
    const q = new URLSearchParams(qs);
    const svc = q.get("svc") ?? "";
    const cmd = q.get("cmd") ?? "";
    (async () => {
      let body: Record<string, unknown>;
      try {
        const text = await readBody(req, 1024 * 1024);
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        if (!body || typeof body !== "object" || Array.isArray(body)) throw new Error();
      } catch (e) {
        if (e instanceof AppError) throw e;
        throw new SxbError(SXB.BAD_JSON, "请求json错误");
      }
      if (svc === "account" && account[cmd]) {
        await checkSign(db(), clock, (await defaultApp(db())).id, path, svc, cmd, q, body);
        return account[cmd](db(), clock, body, clientAddress(req));
      }
      if (svc === "live" && cmd === "callback") return callback(db(), clock, body);
      if (svc === "live" && live[cmd]) {
        const token = typeof body.token === "string" ? body.token : "";
        if (!token) throw new SxbError(SXB.TOKEN_EXPIRED, "token过期");
        const actor = actorOf(token, clock);
        await checkSign(db(), clock, actor.appId, path, svc, cmd, q, body);
        return live[cmd]({ db: db(), clock, actor }, body);
      }
      throw new SxbError(SXB.BAD_REQUEST, `unknown svc/cmd: ${svc}/${cmd}`);
    })().then(
      (data) => send(res, SXB.OK, "", data),
      (e) => {
        const c = codeOf(e);
        if (c.code === SXB.INTERNAL) log.error("sxb adapter failed", { svc, cmd, error: (e as Error).message });
        send(res, c.code, c.info);
      },
    );
    return true;
  };
}
