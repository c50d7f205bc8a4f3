// Alibaba Cloud AUI Kits interactive-live AppServer API (seed 003), on onair's domain.
// Paths: POST /login and /api/v1/live/login, /api/v1/live/refresh_token, and with
// `Authorization: Bearer <token>` /api/v1/live/{create,get,list,update,delete,start,pause,stop,
// token,getMeetingInfo,updateMeetingInfo} and /api/v2/live/token. Success bodies are the seed's
// schemas (RoomInfo, MeetingInfo, TokenResponse, auth.authResponse); errors are models.Status
// {code, message} with the matching 4xx/5xx status. Users are the ids they log in with (onair
// usernames) in every field that names one. No rule lives here: every verb is the domain's.
import { randomBytes, randomUUID } from "node:crypto";
import { and, eq, inArray, isNull } from "drizzle-orm";
import { z } from "zod";
import { dbOf, type Actor, type Ctx } from "../../actor";
import { openSession, register, verifyCredentials } from "../../accounts";
import { appById } from "../../apps";
import { systemClock, type Clock } from "../../clock";
import { tokenKey } from "../../crypto/keys";
import { getDb, type Db } from "../../db/client";
import { jsonObject, type FastRoute } from "../../front/fast";
import { recordings, sessions, users } from "../../db/schema";
import { env } from "../../env";
import { AppError, badInput, errorBody, toAppError } from "../../errors";
import { bearerOf, userActorOf } from "../../http/actor";
import { takeAnswerBuffer } from "../../http/answer-buffers";
import { JsonText } from "../../http/io";
import { getPushInfo } from "../../media/access";
import { pullUrls } from "../../media/urls";
import { getMeetingInfo, meetingMember, meetingsOf, updateMeetingInfo } from "../../mic";
import { roomStats, roomStatsMany } from "../../presence/figures";
import { cacheable, sharedReads } from "../../cache";
import {
  createRoom,
  deleteRoom,
  findRoom,
  listRoomPage,
  settledRoomPage,
  transitionRoom,
  updateRoom,
  type RoomRow,
} from "../../rooms";
import { STATUS_CODE } from "../../rooms/status";
import { assertAccessNotRevoked, signAccessToken, type AccessClaims } from "../../tokens";
import { reusedRoomToken } from "../../tokens/reuse";
import { verifyJwt } from "../../tokens/jwt";
import {
  createVendorHandler,
  memberIdsOf,
  parseOr,
  userIdOf,
  vendorApp,
  vendorIds,
  type Call,
  type Route,
  type VendorApi,
} from "../kit";

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
/** The current Web client's token call (/api/v2/live/token): the IM services it wants tokens for. */
const tokenV2Body = tokenBody.extend({
  role: z.string().max(32).optional(),
  im_server: z
    .array(z.enum(["aliyun_old", "aliyun_new"]))
    .min(1)
    .max(2)
    .default(["aliyun_old"]),
});
const meetingBody = z.object({ id: z.string().uuid(), members: z.array(meetingMember).max(64).default([]) });

const statisticsBody = z.object({ chatroom_id: z.string().uuid() });
const meetingIdBody = z.object({ id: z.string().uuid() });
const parse = <T extends z.ZodType>(schema: T, body: unknown): z.infer<T> =>
  parseOr(schema, body, (_m, issues) => badInput(issues));

/** The room fields RoomInfo needs: a stored row or the domain's room view both carry them. */
type RoomFields = Omit<RoomRow, "streamClient" | "streamChangedAt" | "autoPaused" | "clientAppId">;

/** Meeting members as AUI clients know them: `user_id` is the id each logged in with (or the RTC id sent). */
async function meetingAsSent(db: Db, members: Array<{ user_id: string }>) {
  const idOf = await vendorIds(
    db,
    members.map((m) => m.user_id),
  );
  return { members: members.map((m) => ({ ...m, user_id: idOf(m.user_id) })) };
}

/** RoomInfo exactly as the seed names its fields; push URLs only for the room's anchor. */
export async function roomInfo(db: Db, clock: Clock, actor: Actor, room: RoomFields) {
  return new JsonText(joinRooms(await roomInfoParts(db, clock, actor, [room]), false));
}

/** The facts of a page of rooms that are the same for every caller: one query each. */
async function pageFacts(db: Db, list: RoomFields[], now: Date) {
  const nums = list.map((r) => r.num);
  const appIds = [...new Set(list.map((r) => r.appId))];
  const [appRows, stats, meetings, vods] = await Promise.all([
    Promise.all(appIds.map(async (id) => [id, await appById(db, id)] as const)),
    roomStatsMany(db, list, now),
    meetingsOf(db, nums),
    nums.length
      ? db
          .select()
          .from(recordings)
          .where(and(inArray(recordings.roomNum, nums), eq(recordings.status, "ready")))
      : Promise.resolve([]),
  ]);
  const idOf = await vendorIds(db, [
    ...list.map((r) => r.hostId),
    ...[...meetings.values()].flat().map((m) => m.user_id),
  ]);
  return { apps: new Map(appRows), stats, meetings, vods, idOf };
}
type PageFacts = Awaited<ReturnType<typeof pageFacts>>;
const sharedFacts = sharedReads<PageFacts>();

/**
 * A room's RoomInfo as JSON text around the caller's own parts (pull, push and link URLs): `head`
 * holds the fields before them, `tail` the fields after. It is a function of the room row and the
 * page's facts only, so it is made once per pair (both are shared for a second, never changed).
 */
interface SharedText {
  facts: PageFacts;
  base: string;
  /** The fields before the caller's pull URLs, up to `"pull_url_info":` (bytes, made once). */
  head: Buffer;
  /** From the end of the link info's pull URLs to the end of the RoomInfo (bytes, made once). */
  tail: Buffer;
  app: Parameters<typeof pullUrls>[1];
  /**
   * With onair's signing scheme the caller's play token is the only caller part of the pull URLs:
   * their JSON text split where the token goes, as bytes (undefined for vendor schemes, signed per call).
   */
  pullAround?: [Buffer, Buffer, Buffer, Buffer];
}
const sharedTexts = new WeakMap<RoomFields, SharedText>();

function sharedText(room: RoomFields, facts: PageFacts, base: string): SharedText {
  const made = sharedTexts.get(room);
  if (made?.facts === facts && made.base === base) return made;
  const { apps, stats, meetings, vods, idOf } = facts;
  const app = apps.get(room.appId);
  const m = stats.get(room.num)!;
  const members = (meetings.get(room.num) ?? []).map((x) => ({ ...x, user_id: idOf(x.user_id) }));
  const ready = vods.filter((v) => v.roomNum === room.num);
  const head = JSON.stringify({
    id: room.id,
    created_at: goTime(room.createdAt),
    updated_at: goTime(room.updatedAt),
    title: room.title,
    notice: room.notice,
    cover_url: room.coverUrl,
    anchor_id: idOf(room.hostId),
    anchor_nick: room.hostNick,
    extends: room.extends,
    status: STATUS_CODE[room.status],
    mode: room.mode,
    chat_id: room.chatId,
    pk_id: room.pkId,
    meeting_id: room.meetingId,
    meeting_info: JSON.stringify(members),
    vod_id: room.vodId,
    started_at: goTime(room.startedAt),
    stopped_at: goTime(room.stoppedAt),
    metrics: { like_count: m.likes, online_count: m.online, pv: m.pv, uv: m.uv },
  });
  const tail = JSON.stringify({
    user_status: { mute: false, mute_source: [] as string[] },
    vod_info: {
      status: ready.length ? 1 : 0,
      playlist: ready.map((v) => ({
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
  });
  const appArg: SharedText["app"] = app
    ? { ...app.app, secret: app.secret }
    : { signScheme: "onair", pushDomain: null, pullDomain: null };
  const around = pullInfoText(pullUrls(room, appArg, TOKEN_SLOT, 0)).split(TOKEN_SLOT);
  const text: SharedText = {
    facts,
    base,
    head: Buffer.from(`${head.slice(0, -1)},"pull_url_info":`),
    tail: Buffer.from(`},${tail.slice(1)}`),
    app: appArg,
    // The slot is in each of the three URLs only when the token is all the URLs are signed with.
    pullAround:
      appArg.signScheme === "onair" && around.length === 4
        ? (around.map((p) => Buffer.from(p)) as [Buffer, Buffer, Buffer, Buffer])
        : undefined,
  };
  sharedTexts.set(room, text);
  return text;
}

/** Where a play token goes in a pull URL template: URL-safe as tokens are (base64url and "."). */
const TOKEN_SLOT = "0nairT0kenSl0t";
const pullInfoText = (pull: ReturnType<typeof pullUrls>) =>
  JSON.stringify({ flv_url: pull.flv_url, hls_url: pull.hls_url, rtmp_url: pull.rtmp_url, rts_url: pull.rts_url });

/** Between the two copies of the pull URLs: the push URLs (the anchor's own) and the link info's start. */
const middleText = (pushInfo: string) =>
  `,"push_url_info":${pushInfo},"link_info":{"rtc_push_url":"","rtc_pull_url":"","cdn_pull_info":`;
const MIDDLE_NO_PUSH = Buffer.from(middleText(JSON.stringify({ rtmp_url: "", rts_url: "", srt_url: "" })));

/**
 * RoomInfo of a page of rooms the actor may see (found or listed for them), as JSON text: figures,
 * meetings, people and recordings each in one query for the whole page.
 */
export async function roomInfos(db: Db, clock: Clock, actor: Actor, list: RoomFields[]) {
  return new JsonText(joinRooms(await roomInfoParts(db, clock, actor, list), true));
}

/** A room's RoomInfo: its shared parts (bytes, made once) around the caller's own. */
interface RoomParts {
  shared: SharedText;
  /** The caller's play token (ASCII: base64url and "."), where `shared.pullAround` places it. */
  token: string;
  /** The pull URLs' JSON text as bytes, for vendor schemes (they sign the URLs themselves). */
  pull?: Buffer;
  middle: Buffer;
}

/**
 * The rooms' RoomInfo texts written into one buffer (as a JSON array when `array`): each room's
 * shared bytes copied, the caller's token written between them, the pull URLs' text copied to where
 * they are repeated (link_info.cdn_pull_info): no shared text is made or encoded again per call.
 */
function joinRooms(rooms: RoomParts[], array: boolean): Buffer {
  const pullLength = (r: RoomParts) => {
    const a = r.shared.pullAround;
    return a ? a[0].length + a[1].length + a[2].length + a[3].length + 3 * r.token.length : r.pull!.length;
  };
  // Brackets, and commas between rooms.
  let n = array ? 2 + Math.max(0, rooms.length - 1) : 0;
  for (const r of rooms) n += r.shared.head.length + r.middle.length + r.shared.tail.length + 2 * pullLength(r);
  // Given back by whoever writes it (server/http/answer-buffers.ts).
  const out = takeAnswerBuffer(n);
  let at = 0;
  const put = (b: Buffer) => {
    out.set(b, at);
    at += b.length;
  };
  if (array) out[at++] = 0x5b; // [
  for (const [i, r] of rooms.entries()) {
    if (i) out[at++] = 0x2c; // ,
    put(r.shared.head);
    const pullAt = at;
    const a = r.shared.pullAround;
    if (a) {
      for (let k = 0; k < 3; k++) {
        put(a[k]!);
        at += out.write(r.token, at, "latin1");
      }
      put(a[3]);
    } else put(r.pull!);
    const pullEnd = at;
    put(r.middle);
    out.copyWithin(at, pullAt, pullEnd);
    at += pullEnd - pullAt;
    put(r.shared.tail);
  }
  if (array) out[at++] = 0x5d; // ]
  if (at !== n) throw new Error(`RoomInfo text of ${at} bytes where ${n} were counted`);
  return out;
}

/** The facts key of a listed page (a page's row array is shared for a second: made once per array). */
const pageKeys = new WeakMap<RoomFields[], string>();
const pageKeyOf = (list: RoomFields[]) => {
  let key = pageKeys.get(list);
  if (key === undefined) {
    key = list.map((r) => `${r.num}:${r.appId}:${r.hostId}:${r.status}`).join(",");
    pageKeys.set(list, key);
  }
  return key;
};

async function roomInfoParts(db: Db, clock: Clock, actor: Actor, list: RoomFields[]): Promise<RoomParts[]> {
  const now = clock.now();
  const me = actor.kind === "user" ? actor.userId : "";
  // What does not depend on who asks is read once a second for everybody listing the same page
  // and serialised once; play tokens (reused for a while, see tokens/reuse.ts) and push addresses
  // are the caller's own.
  const key = pageKeyOf(list);
  const facts = await (cacheable(db) ? sharedFacts(key, () => pageFacts(db, list, now)) : pageFacts(db, list, now));
  // Push addresses only for the caller's own rooms (their anchor's): read before the page is put together.
  const pushes = new Map(
    await Promise.all(
      list
        .filter((room) => me && me === room.hostId)
        .map(async (room) => [room.id, await getPushInfo({ db, clock, actor }, room.id)] as const),
    ),
  );
  return partsOf(list, facts, pushes, me, now);
}

/** The rooms' parts for caller `me` ("" for none), with the push addresses of those that are theirs. */
function partsOf(
  list: RoomFields[],
  facts: PageFacts,
  pushes: Map<string, { rtmp_url: string; rts_url: string; srt_url: string }>,
  me: string,
  now: Date,
): RoomParts[] {
  const base = env().publicUrl;
  const ttlS = env().PLAY_TOKEN_TTL_S;
  return list.map((room): RoomParts => {
    const shared = sharedText(room, facts, base);
    const play = reusedRoomToken(
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
      ttlS,
    );
    const push = pushes.get(room.id);
    const middle = push
      ? Buffer.from(
          middleText(JSON.stringify({ rtmp_url: push.rtmp_url, rts_url: push.rts_url, srt_url: push.srt_url })),
        )
      : MIDDLE_NO_PUSH;
    // Pull URLs have no RTS address: cdn_pull_info (whose rts_url is always empty) is the same text.
    return {
      shared,
      token: play.token,
      middle,
      pull: shared.pullAround
        ? undefined
        : Buffer.from(
            pullInfoText(pullUrls(room, shared.app, play.token, Math.floor(play.expiresAt.getTime() / 1000))),
          ),
    };
  });
}

/** Demo user ids: what the demo Web client allows (letters and digits), and a little more. */
const demoUserId = /^[\p{L}\p{N}_.@-]{1,64}$/u;

/**
 * The demo AppServer's rule, for apps that turned it on: password = user id, and the account is
 * made on first login (with the app's sign-up role). Existing accounts keep their own passwords.
 */
async function demoSignUp(db: Db, clock: Clock, username: string, password: string) {
  if (username !== password || !demoUserId.test(username)) return;
  const app = await vendorApp(db, env().COMPAT_AUI_APP_ID);
  if (!app?.auiDemoLogin || !app.enabled) return;
  const taken = await db.select({ id: users.id }).from(users).where(eq(users.username, username));
  if (taken.length) return;
  try {
    await register(
      { db, clock, actor: { kind: "system", appId: app.id, via: "aui-demo" } },
      { appKey: app.accessKey, username, password },
      app.signupRole,
    );
  } catch (e) {
    // Two first logins at once: the other one made the account.
    if (!(e instanceof AppError && e.code === "CONFLICT")) throw e;
  }
}

async function login(call: Call) {
  const b = parse(loginBody, await call.fields());
  await demoSignUp(call.db, call.clock, b.username, b.password);
  const u = await verifyCredentials(call.db, b.username, b.password, { addr: call.addr, now: call.clock.now() });
  // The reference AppServer's JWTs are stateless: a login on a second device leaves the first
  // signed in. Each login is its own session here (ended by logout, expiry or a disable).
  const s = await openSession(call.db, call.clock, u, `aui-${randomUUID()}`, "other");
  return { code: 200, expire: goTime(s.accessExpiresAt), token: s.accessToken };
}

/** How long after its expiry an access token may still be exchanged (gin-jwt's MaxRefresh). */
const MAX_REFRESH_AFTER_EXPIRY_S = 24 * 3600;

/**
 * A still-signed token of a session that is alive gets a fresh one, as gin-jwt's refresh does:
 * past expiry only within MAX_REFRESH_AFTER_EXPIRY_S, and never one that was revoked.
 */
async function refreshToken(call: Call) {
  const bearer = bearerOf(call.req.headers);
  if (!bearer) throw new AppError("UNAUTHENTICATED", "Authorization: Bearer <token> is required");
  const { db } = call;
  const now = call.clock.now();
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

const infoOf = async (ctx: Ctx, id: string) =>
  roomInfo(ctx.db, ctx.clock, ctx.actor, await findRoom(dbOf(ctx), ctx.actor, id));

/** The caller's account id (what AUI calls the user id). */
async function myUsername(ctx: Ctx) {
  if (ctx.actor.kind !== "user") throw new AppError("UNAUTHENTICATED", "Sign in first");
  const u = (await dbOf(ctx).select().from(users).where(eq(users.id, ctx.actor.userId)))[0];
  if (!u) throw new AppError("NOT_FOUND", "User not found");
  return u;
}

/** A device session for the IM SDK, never outliving the session whose access token asked for it. */
async function deviceTokens(ctx: Ctx, b: z.infer<typeof tokenBody>) {
  const u = await myUsername(ctx);
  if (b.user_id && b.user_id.toLowerCase() !== u.username.toLowerCase())
    throw new AppError("FORBIDDEN", "user_id must be the signed-in user's id");
  const origin =
    ctx.actor.kind === "user" && ctx.actor.sessionId
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
  return { user: u, access_token: s.accessToken, refresh_token: s.refreshToken, expiresAt: s.accessExpiresAt };
}

/** The verbs behind a bearer token, by path after /api/v1/live/. */
const verbs: Record<string, (ctx: Ctx, body: Record<string, unknown>) => Promise<unknown>> = {
  async create(ctx, body) {
    const b = parse(createBody, body);
    const me = await myUsername(ctx);
    // `anchor` names the host by the id they log in with: the caller themself, or (for admins) a
    // host of their app.
    const anchor = await userIdOf(ctx, me.appId, b.anchor);
    if (me.role === "admin" && !anchor) throw new AppError("NOT_FOUND", "No such anchor in this app");
    if (me.role !== "admin" && anchor !== me.id)
      throw new AppError("FORBIDDEN", "anchor must be your own user id (hosts create rooms for themselves)");
    const r = await createRoom(ctx, {
      title: b.title,
      notice: b.notice,
      coverUrl: b.cover_url,
      hostNick: b.anchor_nick,
      mode: b.mode,
      extends: b.extends,
      record: false,
      hostId: me.role === "admin" ? anchor : undefined,
    });
    return infoOf(ctx, r.id);
  },
  get: async (ctx, body) => infoOf(ctx, parse(idBody, body).id),
  /** The mobile clients' room figures: {chatroom_id: <room id>} → {code:200, metrics}. */
  async getStatistics(ctx, body) {
    const b = parse(statisticsBody, body);
    const room = await findRoom(dbOf(ctx), ctx.actor, b.chatroom_id);
    const m = await roomStats(ctx.db, room, ctx.clock.now());
    return { code: 200, metrics: { like_count: m.likes, online_count: m.online, pv: m.pv, uv: m.uv } };
  },
  list: (ctx, body) => listPage(ctx, parse(listBody, body)),
  async update(ctx, body) {
    const b = parse(updateBody, body);
    await updateRoom(ctx, { room: b.id, title: b.title, notice: b.notice, extends: b.extends });
    return infoOf(ctx, b.id);
  },
  async delete(ctx, body) {
    const b = parse(idBody, body);
    const before = await infoOf(ctx, b.id);
    await deleteRoom(ctx, b.id);
    return before;
  },
  start: (ctx, body) => lifecycle(ctx, "start", body),
  pause: (ctx, body) => lifecycle(ctx, "pause", body),
  stop: (ctx, body) => lifecycle(ctx, "stop", body),
  async token(ctx, body) {
    const t = await deviceTokens(ctx, parse(tokenBody, body));
    return { access_token: t.access_token, refresh_token: t.refresh_token };
  },
  async getMeetingInfo(ctx, body) {
    const b = parse(meetingIdBody, body);
    return meetingAsSent(ctx.db, (await getMeetingInfo(ctx, { room: b.id })).members);
  },
  async updateMeetingInfo(ctx, body) {
    const b = parse(meetingBody, body);
    const room = await findRoom(dbOf(ctx), ctx.actor, b.id);
    // Members are named by the ids the host's client knows: people of the app by the id they log
    // in with, others (RTC-layer ids) kept as sent.
    const idOf = await memberIdsOf(
      ctx.db,
      room.appId,
      b.members.map((m) => m.user_id),
    );
    const out = await updateMeetingInfo(ctx, {
      room: room.id,
      members: b.members.map((m) => ({ ...m, user_id: idOf(m.user_id) })),
    });
    return meetingAsSent(ctx.db, out.members);
  },
};

/** Clients repeat start/stop freely: repeating the current state is not an error here. */
async function lifecycle(ctx: Ctx, verb: "start" | "pause" | "stop", body: Record<string, unknown>) {
  const b = parse(idBody, body);
  const room = await findRoom(dbOf(ctx), ctx.actor, b.id);
  const already =
    (verb === "start" && room.status === "live") ||
    (verb === "pause" && room.status === "paused") ||
    (verb === "stop" && room.status === "ended");
  if (!already) await transitionRoom(ctx, b.id, verb);
  return infoOf(ctx, b.id);
}

/**
 * /api/v2/live/token as the reference (Java) AppServer answers it: per IM service asked for,
 * `aliyun_old_im` {access_token, refresh_token} and `aliyun_new_im` {app_id, app_sign, app_token,
 * auth}. onair has no Alibaba IM behind it: both carry onair's own device tokens (also at the top
 * level, as /token answers), app_id is the app's access key and app_sign is empty.
 */
async function tokenV2(ctx: Ctx, body: Record<string, unknown>) {
  const b = parse(tokenV2Body, body);
  const t = await deviceTokens(ctx, b);
  const app = t.user.appId === null ? undefined : await appById(ctx.db, t.user.appId);
  return {
    code: 200,
    access_token: t.access_token,
    refresh_token: t.refresh_token,
    ...(b.im_server.includes("aliyun_old")
      ? { aliyun_old_im: { access_token: t.access_token, refresh_token: t.refresh_token } }
      : {}),
    ...(b.im_server.includes("aliyun_new")
      ? {
          aliyun_new_im: {
            app_id: app?.app.accessKey ?? "",
            app_sign: "",
            app_token: t.access_token,
            auth: {
              user_id: t.user.username,
              nonce: randomBytes(8).toString("hex"),
              timestamp: Math.floor(t.expiresAt.getTime() / 1000),
              role: b.role ?? "",
            },
          },
        }
      : {}),
  };
}

const LIST_STATUS = { 0: "prepare", 1: "live", 2: "ended" } as const;
/** The page of rooms a `list` body asks for. */
const pageOf = (b: z.infer<typeof listBody>) => ({
  limit: b.page_size,
  offset: (b.page_num - 1) * b.page_size,
  withMetrics: false,
  status: b.status === -1 ? undefined : LIST_STATUS[b.status as 0 | 1 | 2],
});

/**
 * `list` on the front's fast path (server/front/fast.ts), with the route's answer byte for byte (a
 * reused play token is the one the route would hand out): at once when all it needs is at hand —
 * the caller's page and its facts read for everybody and still fresh, and no room of the caller's
 * own on it (their push addresses are read per call) — else once read, as the route reads it.
 * Undefined for anything else, errors too: the route answers those, from the start.
 */
function fastList(db: Db, clock: Clock, body: string, authorization: string | undefined) {
  const bearer = bearerOf({ authorization });
  if (!bearer) return undefined;
  const parsed = listBody.safeParse(jsonObject(body));
  if (!parsed.success) return undefined;
  const b = parsed.data;
  const now = clock.now();
  let ctx: Ctx;
  try {
    const actor = userActorOf(bearer, now);
    const me = actor.userId;
    ctx = { db, clock, actor };
    const list = settledRoomPage(ctx, pageOf(b))?.items;
    const facts = list && sharedFacts.settled(pageKeyOf(list), () => pageFacts(db, list, now))?.value;
    if (list && facts && !list.some((room) => room.hostId === me))
      return { status: 200, json: joinRooms(partsOf(list, facts, new Map(), me, now), true) };
  } catch {
    return undefined;
  }
  return listPage(ctx, b).then(
    (text) => ({ status: 200, json: text.bytes }),
    () => undefined,
  );
}

/** The caller's page of rooms as RoomInfo (the route's `list`). */
async function listPage(ctx: Ctx, b: z.infer<typeof listBody>) {
  const page = await listRoomPage(ctx, pageOf(b));
  return roomInfos(ctx.db, ctx.clock, ctx.actor, page.items);
}

/** Runs a verb for the bearer token's user. */
const withBearer =
  (verb: (ctx: Ctx, body: Record<string, unknown>) => Promise<unknown>): Route =>
  async (call) => {
    const bearer = bearerOf(call.req.headers);
    if (!bearer) throw new AppError("UNAUTHENTICATED", "Authorization: Bearer <token> is required");
    const actor = userActorOf(bearer, call.clock.now());
    return verb({ db: call.db, clock: call.clock, actor }, await call.fields());
  };

const routes: Record<string, Route> = {
  "/login": login,
  [`${PREFIX}login`]: login,
  [`${PREFIX}refresh_token`]: refreshToken,
  "/api/v2/live/token": withBearer(tokenV2),
  // The iOS and Android clients create rooms at v2 (with im_server besides the seed's fields).
  "/api/v2/live/create": withBearer(verbs.create!),
  ...Object.fromEntries(Object.entries(verbs).map(([name, verb]) => [`${PREFIX}${name}`, withBearer(verb)])),
};

/** Every path this adapter answers (the OpenAPI document must list each). */
export const AUI_PATHS = Object.keys(routes);

export const auiApi: VendorApi = {
  name: "aui",
  route(method, path) {
    const route = routes[path];
    if (route) return method === "POST" ? route : () => Promise.reject(new AppError("NOT_FOUND", "Use POST"));
    return path.startsWith(PREFIX) ? () => Promise.reject(new AppError("NOT_FOUND", `Unknown API ${path}`)) : undefined;
  },
  body: { limit: 1024 * 1024, notJson: () => new AppError("BAD_REQUEST", "Body is not valid JSON") },
  ok: (data) => ({ status: 200, body: data }),
  fail(e) {
    const a = toAppError(e);
    const { error } = errorBody(a);
    return {
      status: a.httpStatus,
      body: { code: a.httpStatus, message: error.message, ...(error.details ? { details: error.details } : {}) },
      internal: a.code === "INTERNAL",
    };
  },
};

export function createAuiHandler(opts: { db?: () => Db; clock?: Clock } = {}) {
  const db = opts.db ?? getDb;
  const clock = opts.clock ?? systemClock;
  return Object.assign(createVendorHandler(auiApi, { db, clock }), {
    /** Requests answered from the connection's bytes when they can be (server/front/fast.ts). */
    fast: {
      [`POST ${PREFIX}list`]: (body, _query, authorization) => fastList(db(), clock, body, authorization),
    } satisfies Record<string, FastRoute>,
  });
}
