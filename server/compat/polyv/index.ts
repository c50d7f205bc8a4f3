// Polyv live push for mini-programs (seed 002) on onair's domain. A Polyv "channel" is an onair
// room: channelId is the room number, and the channel password is derived for the room (shown to
// its host with the push credentials; a new stream key changes it).
//   POST /api/v2/teacher_login.json      → {url, stream}: url + stream is the room's push URL
//   POST /v1/channels/{channelId}/update → {status:"success", result:"update channel successfully"}
//   GET  /front/listUsers?roomId=        → {count, userlist} from real presence
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { and, asc, eq, isNull } from "drizzle-orm";
import { systemClock, type Clock } from "../../clock";
import { safeEqual } from "../../crypto/secretbox";
import { getDb, type Db } from "../../db/client";
import { MEMBER_ROLE, roomMembers, rooms, type RoomStatus } from "../../db/schema";
import { AppError } from "../../errors";
import { readBody } from "../../http/io";
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

const ended = (s: RoomStatus) => s === "ended";

async function teacherLogin(db: Db, clock: Clock, p: Record<string, string>) {
  const channelId = p.number ?? p.account ?? p.channelId;
  for (const k of ["passwd", "sign", "timestamp"]) if (!p[k]) throw new PolyvError(400, `${k} is required`);
  const now = clock.now();
  fresh(p.timestamp, now);
  if (!safeEqual(polyvSign.login(channelId ?? "", p.passwd!, p.timestamp!), p.sign!.toLowerCase()))
    throw new PolyvError(403, "invalid sign");
  const room = await roomOfChannel(db, channelId);
  if (!safeEqual(polyvSign.passwd(channelPassword(room)), p.passwd!.toLowerCase()))
    throw new PolyvError(403, "wrong channel password");
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

async function listUsers(db: Db, clock: Clock, roomId: string | null) {
  const room = await roomOfChannel(db, roomId ?? undefined);
  const c = presenceCutoffs(clock.now());
  const rows = await db
    .select({ id: roomMembers.memberId, nick: roomMembers.nick, role: roomMembers.role, seen: roomMembers.lastSeenAt })
    .from(roomMembers)
    .where(and(eq(roomMembers.roomNum, room.num), isNull(roomMembers.leftAt)))
    .orderBy(asc(roomMembers.joinedAt));
  const online = ended(room.status)
    ? []
    : rows.filter((r) => r.seen >= (r.role === MEMBER_ROLE.host ? c.host : c.viewer));
  return {
    count: online.length,
    userlist: online.map((r) => ({
      userId: r.id,
      nick: r.nick,
      pic: "",
      userType: r.role === MEMBER_ROLE.host ? "teacher" : r.role === MEMBER_ROLE.cohost ? "guest" : "student",
    })),
  };
}

function send(res: ServerResponse, status: number, body: unknown) {
  const s = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(s) });
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
        teacherLogin(db(), clock, { ...Object.fromEntries(new URLSearchParams(qs)), ...(await params(req)) });
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
        send(res, status, {
          status: "error",
          code: status,
          message: status === 500 ? "server error" : (e as Error).message,
        });
      },
    );
    return true;
  };
}
