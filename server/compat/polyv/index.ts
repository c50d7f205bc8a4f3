// Polyv live push for mini-programs (seed 002) on onair's domain. A Polyv "channel" is an onair
// room: channelId is the room number, and the channel password is derived for the room (shown to
// its host with the push credentials; a new stream key changes it).
//   POST /api/v2/teacher_login.json      → {url, stream}: url + stream is the room's push URL; wrong
//                                          passwords lock the channel and the client address a while
//   POST /v1/channels/{channelId}/update → {status:"success", result:"update channel successfully"}
//   GET  /front/listUsers?roomId=        → {count, userlist} from real presence: public nicks, no ids
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import { and, asc, eq, isNull } from "drizzle-orm";
import { systemClock, type Clock } from "../../clock";
import { safeEqual } from "../../crypto/secretbox";
import { getDb, type Db } from "../../db/client";
import { MEMBER_ROLE, roomMembers, rooms, users, type RoomStatus } from "../../db/schema";
import { AppError } from "../../errors";
import { readBody } from "../../http/io";
import { parseAddress } from "../../http/outbound";
import { assertUnderLimits, clearHits, hit, retryAfterS } from "../../limits";
import { log } from "../../log";
import { getPushInfo } from "../../media/access";
import { channelPassword } from "../../media/keys";
import { presenceCutoffs } from "../../presence/stats";
import { updateRoom } from "../../rooms";

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const WINDOW_MS = 10 * 60_000;

class PolyvError extends Error {
  constructor(
    public http: number,
    message: string,
    /** Sent as Retry-After (lockouts). */
    public retryAfterS?: number,
  ) {
    super(message);
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

/**
 * The client's address: the web process listens on loopback behind the front, which passes the
 * client's address on as x-forwarded-for (replacing any the client sent).
 */
function clientAddress(req: IncomingMessage) {
  const peer = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  const forwarded = String(req.headers["x-forwarded-for"] ?? "")
    .split(",")[0]!
    .trim()
    .replace(/^::ffff:/, "");
  const loopback = peer === "::1" || peer.startsWith("127.");
  return loopback && isIP(forwarded) ? forwarded : peer || "unknown";
}

function send(res: ServerResponse, status: number, body: unknown, retryAfterS?: number) {
  const s = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(s),
    ...(retryAfterS ? { "retry-after": String(retryAfterS) } : {}),
  });
  res.end(s);
}

async function params(req: IncomingMessage): Promise<Record<string, string>> {
  const text = await readBody(req, 64 * 1024);
  if (String(req.headers["content-type"] ?? "").includes("json")) {
    try {
      return Object.fromEntries(
        Object.entries(JSON.parse(text || "{}") as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      );
    } catch {
      throw new PolyvError(400, "body is not valid JSON");
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

/** Mounted by the web process. */
export function createPolyvHandler(opts: { db?: () => Db; clock?: Clock } = {}) {
  const db = opts.db ?? getDb;
  const clock = opts.clock ?? systemClock;
  return function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const [path, qs = ""] = (req.url ?? "").split("?");
    const update = /^\/v1\/channels\/([^/]+)\/update$/.exec(path!);
    let run: (() => Promise<unknown>) | undefined;
    if (path === "/api/v2/teacher_login.json" && req.method === "POST")
      run = async () =>
        teacherLogin(
          db(),
          clock,
          { ...Object.fromEntries(new URLSearchParams(qs)), ...(await params(req)) },
          clientAddress(req),
        );
    else if (update && req.method === "POST")
      run = async () =>
        updateChannel(db(), clock, decodeURIComponent(update[1]!), {
          ...Object.fromEntries(new URLSearchParams(qs)),
          ...(await params(req)),
        });
    else if (path === "/front/listUsers" && req.method === "GET")
      run = () => listUsers(db(), clock, new URLSearchParams(qs).get("roomId"));
    if (!run) return false;
    run().then(
      (out) => send(res, 200, out),
      (e) => {
        const status = e instanceof PolyvError ? e.http : e instanceof AppError ? e.httpStatus : 500;
        if (status === 500) log.error("polyv adapter failed", { path, error: (e as Error).message });
        send(
          res,
          status,
          { status: "error", code: status, message: status === 500 ? "server error" : (e as Error).message },
          e instanceof PolyvError ? e.retryAfterS : undefined,
        );
      },
    );
    return true;
  };
}
