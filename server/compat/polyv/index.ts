// Polyv live push for mini-programs (seed 002) on onair's domain. A Polyv "channel" is an onair
// room: channelId is the room number, and the channel password is derived for the room (shown to
// its host with the push credentials; a new stream key changes it).
//   POST /api/v2/teacher_login.json      → {url, stream}: url + stream is the room's push URL; wrong
//                                          passwords lock the channel and the client address a while
//   POST /v1/channels/{channelId}/update → {status:"success", result:"update channel successfully"}
//   GET  /front/listUsers?roomId=        → {count, userlist} from real presence: public nicks, no ids
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { and, asc, eq, isNull } from "drizzle-orm";
import type { Clock } from "../../clock";
import { safeEqual } from "../../crypto/secretbox";
import type { Db } from "../../db/client";
import { MEMBER_ROLE, roomMembers, rooms, users, type RoomStatus } from "../../db/schema";
import { AppError } from "../../errors";
import { parseAddress } from "../../http/outbound";
import { assertUnderLimits, clearHits, hit, retryAfterS } from "../../limits";
import { getPushInfo } from "../../media/access";
import { channelPassword } from "../../media/keys";
import { presenceCutoffs } from "../../presence/stats";
import { updateRoom } from "../../rooms";
import { createVendorHandler, VendorError, type Call, type Route, type VendorApi } from "../kit";

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const WINDOW_MS = 10 * 60_000;

/** Polyv answers errors with their HTTP status (code = status) and Retry-After on lockouts. */
class PolyvError extends VendorError {
  constructor(http: number, message: string, retryAfterS?: number) {
    super(http, message, http, retryAfterS);
  }
}

/** The seed's sign rules (its worked examples are test vectors). */
export const polyvSign = {
  passwd: (password: string) => md5(password),
  login: (channelId: string, passwd: string, timestamp: string) =>
    md5(`live.polyv.net${channelId}${passwd}${timestamp}`),
  channelSet: (channelId: string, name: string) =>
    md5(`APPCHANNELSET` + `channelId=${channelId}` + `name=${name}` + `APPCHANNELSET`).toUpperCase(),
};

function fresh(ts: string | undefined, now: Date) {
  if (!ts || !/^\d{13}$/.test(ts)) throw new PolyvError(400, "timestamp must be a 13-digit millisecond time");
  if (Math.abs(now.getTime() - Number(ts)) > WINDOW_MS)
    throw new PolyvError(403, "timestamp is outside the 10 minute window");
}

async function roomOfChannel(db: Db, channelId: string | undefined) {
  if (!channelId || !/^\d{1,15}$/.test(channelId)) throw new PolyvError(400, "channelId must be a channel number");
  const room = (
    await db
      .select()
      .from(rooms)
      .where(eq(rooms.num, Number(channelId)))
  )[0];
  if (!room) throw new PolyvError(404, "channel not found");
  return room;
}

/**
 * Channel passwords are 8 digits: without a limit they fall to guessing. Per window, a channel takes
 * this many attempts from anywhere (a successful login clears them) and a client address this many
 * failures across channels; past either, every login is refused, right password too, until the
 * window ends. Counters live on the shared store, so every instance counts alike.
 */
export const LOGIN_LIMITS = {
  channel: { max: 10, windowS: 15 * 60 },
  address: { max: 30, windowS: 15 * 60 },
};
/** An IPv6 client holds a whole /64, so it counts as one. */
const addressBucket = (address: string) =>
  isIP(address) === 6 ? `${Buffer.from(parseAddress(address)!.subarray(0, 8)).toString("hex")}/64` : address;
export const loginKeys = {
  channel: (num: number) => `polyv:login:channel:${num}`,
  address: (address: string) => `polyv:login:address:${addressBucket(address)}`,
};
const LOCKED = "too many wrong passwords; try again later";

const ended = (s: RoomStatus) => s === "ended";

async function teacherLogin(db: Db, clock: Clock, p: Record<string, string>, from: string) {
  const channelId = p.number ?? p.account ?? p.channelId;
  for (const k of ["passwd", "sign", "timestamp"]) if (!p[k]) throw new PolyvError(400, `${k} is required`);
  const now = clock.now();
  fresh(p.timestamp, now);
  if (!safeEqual(polyvSign.login(channelId ?? "", p.passwd!, p.timestamp!), p.sign!.toLowerCase()))
    throw new PolyvError(403, "invalid sign");
  const room = await roomOfChannel(db, channelId);
  const channelKey = loginKeys.channel(room.num);
  const addressKey = loginKeys.address(from);
  try {
    await assertUnderLimits(db, [{ key: addressKey, limit: LOGIN_LIMITS.address }], now);
  } catch (e) {
    if (e instanceof AppError && e.code === "TOO_MANY_REQUESTS")
      throw new PolyvError(429, LOCKED, Number(e.details?.retryAfterS) || LOGIN_LIMITS.address.windowS);
    throw e;
  }
  // The channel's attempt is counted before the password is compared (atomically), so concurrent
  // guesses cannot all slip in under its limit; the address limit, checked before and counted on
  // failure, can be overshot by a burst, but each channel it sprays still stops at its own.
  if ((await hit(db, channelKey, LOGIN_LIMITS.channel, now)) > LOGIN_LIMITS.channel.max)
    throw new PolyvError(429, LOCKED, await retryAfterS(db, channelKey, LOGIN_LIMITS.channel, now));
  if (!safeEqual(polyvSign.passwd(channelPassword(room)), p.passwd!.toLowerCase())) {
    await hit(db, addressKey, LOGIN_LIMITS.address, now);
    throw new PolyvError(403, "wrong channel password");
  }
  await clearHits(db, channelKey);
  if (ended(room.status)) throw new PolyvError(403, "this channel's live has ended");
  const push = await getPushInfo({ db, clock, actor: { kind: "system", appId: room.appId, via: "polyv" } }, room.id);
  return { url: `${push.server}/`, stream: push.streamKey };
}

async function updateChannel(db: Db, clock: Clock, channelId: string, p: Record<string, string>) {
  if (!p.name) throw new PolyvError(400, "name is required");
  if (!p.sign) throw new PolyvError(400, "sign is required");
  fresh(p.ptime, clock.now());
  if (!safeEqual(polyvSign.channelSet(channelId, p.name), p.sign.toUpperCase()))
    throw new PolyvError(403, "invalid sign");
  const room = await roomOfChannel(db, channelId);
  try {
    await updateRoom(
      { db, clock, actor: { kind: "system", appId: room.appId, via: "polyv" } },
      { room: room.num, title: p.name.slice(0, 256) },
    );
  } catch (e) {
    if (e instanceof AppError) throw new PolyvError(e.httpStatus, e.message);
    throw e;
  }
  return { status: "success", result: "update channel successfully" };
}

/** Public like Polyv's chat list: a count and nicks, never member ids (user ids, guest ids). */
async function listUsers(db: Db, clock: Clock, roomId: string | null) {
  const room = await roomOfChannel(db, roomId ?? undefined);
  const c = presenceCutoffs(clock.now());
  const rows = await db
    .select({
      nick: roomMembers.nick,
      username: users.username,
      role: roomMembers.role,
      seen: roomMembers.lastSeenAt,
    })
    .from(roomMembers)
    .leftJoin(users, eq(users.id, roomMembers.memberId))
    .where(and(eq(roomMembers.roomNum, room.num), isNull(roomMembers.leftAt)))
    .orderBy(asc(roomMembers.joinedAt));
  const online = ended(room.status)
    ? []
    : rows.filter((r) => r.seen >= (r.role === MEMBER_ROLE.host ? c.host : c.viewer));
  return {
    count: online.length,
    userlist: online.map((r) => ({
      // A nick nobody chose defaults to the sign-in name, which is not for the public.
      nick: r.username && r.nick.toLowerCase() === r.username.toLowerCase() ? "" : r.nick,
      pic: "",
      userType: r.role === MEMBER_ROLE.host ? "teacher" : r.role === MEMBER_ROLE.cohost ? "guest" : "student",
    })),
  };
}

/** The client's address (the front passes it on from trusted peers), IPv4-mapped forms unwrapped. */
const addressOf = (call: Call) => {
  const a = (call.addr ?? "").replace(/^::ffff:/, "");
  return isIP(a) ? a : "unknown";
};

/** Fields from the query and the body (JSON or form), every value as text. */
async function params(call: Call): Promise<Record<string, string>> {
  const body = await call.fields();
  return {
    ...Object.fromEntries(call.query),
    ...Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
  };
}

function route(method: string, path: string, query: URLSearchParams): Route | undefined {
  const update = /^\/v1\/channels\/([^/]+)\/update$/.exec(path);
  if (path === "/api/v2/teacher_login.json" && method === "POST")
    return async (call) => teacherLogin(call.db, call.clock, await params(call), addressOf(call));
  if (update && method === "POST")
    return async (call) => updateChannel(call.db, call.clock, decodeURIComponent(update[1]!), await params(call));
  if (path === "/front/listUsers" && method === "GET")
    return (call) => listUsers(call.db, call.clock, query.get("roomId"));
  return undefined;
}

export const polyvApi: VendorApi = {
  name: "polyv",
  route,
  body: { limit: 64 * 1024, form: true, notJson: () => new PolyvError(400, "body is not valid JSON") },
  ok: (data) => ({ status: 200, body: data }),
  fail(e) {
    const status = e instanceof VendorError ? e.http : e instanceof AppError ? e.httpStatus : 500;
    const retry = e instanceof VendorError ? e.retryAfterS : undefined;
    return {
      status,
      body: { status: "error", code: status, message: status >= 500 ? "server error" : (e as Error).message },
      headers: retry ? { "retry-after": String(retry) } : undefined,
      internal: status >= 500,
    };
  },
};

/** Mounted by the web process. */
export const createPolyvHandler = (opts: { db?: () => Db; clock?: Clock } = {}) => createVendorHandler(polyvApi, opts);
