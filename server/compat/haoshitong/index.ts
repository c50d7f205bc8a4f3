// Haoshitong cloud live REST API (seed 004) on onair's domain. A "group" is the set of an app's
// rooms sharing one chat/group id (AUI chat_id, 随心播 groupid); its publishers are those rooms'
// live streams. /v1/live/start runs a real server-side mix: ffmpeg pulls the group's streams from
// the embedded media server, composes them on one canvas (size, frame rate, crop mode, bitrate by
// quality level) and publishes the result as a new room's stream, whose URLs it answers.
//   POST /v1/access_token {app_id: <access key>, app_secret}  → {code:0, msg:"OK", result:{timeout, access_token}}
//   POST /v1/live/start?access_token=…  GET /v1/live/list?app_id=…&access_token=…  POST /v1/live/stop?access_token=…
import { spawn, type ChildProcess } from "node:child_process";
import { hostname } from "node:os";
import { and, asc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { appByAccessKey, secretVersionOf } from "../../apps";
import type { Clock } from "../../clock";
import { tokenKey } from "../../crypto/keys";
import { safeEqual } from "../../crypto/secretbox";
import { getDb, type Db } from "../../db/client";
import { apps, mixTasks, rooms } from "../../db/schema";
import { env } from "../../env";
import { AppError } from "../../errors";
import { log } from "../../log";
import { nmsInternalSecret, publishKey } from "../../media/keys";
import { liveH264Args, redactUrls } from "../../media/ffmpeg";
import { nms } from "../../media/signers";
import { pullUrls } from "../../media/urls";
import { createRoom, transitionRoom } from "../../rooms";
import { assertAppLive, signRoomToken } from "../../tokens";
import { signCompact, verifyCompact } from "../../tokens/jwt";
import { bearerOf } from "../../http/actor";
import {
  createVendorHandler,
  parseOr,
  routeTable,
  vendorCode,
  VendorError,
  type Call,
  type Route,
  type VendorApi,
} from "../kit";

/** The seed's codes (ten digits: kept as JSON numbers, not int32). */
export const HST = {
  OK: 0,
  TOKEN_TIMEOUT: 606000001,
  FAILED: 6050030000,
  NO_CONTEXT: 6050030001,
  BAD_PARAMS: 6050030003,
  JSON: 6050030005,
  NOT_LOGGED_IN: 6050030006,
  AUTH_FAILED: 6050030007,
  EXISTS: 6050030012,
  NO_INPUT: 6050030022,
} as const;

class HstError extends VendorError {}

const TOKEN_TTL_S = 7200;
const owner = `${hostname()}:${process.pid}`;
const running = new Map<number, ChildProcess>();

interface HstToken {
  k: "h";
  a: number;
  /** The app secret's version when issued (see secretVersionOf). */
  v: string;
  e: number;
}

// The CloudLiveDemo console sends `qulity_level` (sic) besides the seed's `quality_level`: both count.
const startBody = z.preprocess(
  (b) =>
    b && typeof b === "object" && !("quality_level" in b) && "qulity_level" in b
      ? { ...b, quality_level: b.qulity_level }
      : b,
  z.object({
    app_id: z.string().min(1).max(64),
    group_id: z.string().min(1).max(256),
    width: z.number().int().min(1).max(1920).default(1920),
    height: z.number().int().min(1).max(1080).default(1080),
    crop_mode: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(2),
    frame_rate: z.number().int().min(1).max(30).default(30),
    quality_level: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(2),
  }),
);
type StartParams = z.infer<typeof startBody>;

const accessTokenBody = z.object({ app_id: z.string().min(1).max(64), app_secret: z.string().min(1).max(256) });
const generateTokenBody = z.object({ appId: z.string().min(1).max(64), appSecret: z.string().min(1).max(256) });
const groupBody = z.object({ app_id: z.string().min(1).max(64), group_id: z.string().min(1).max(256) });
const parse = <T extends z.ZodType>(schema: T, body: unknown): z.infer<T> =>
  parseOr(schema, body, (message) => new HstError(HST.BAD_PARAMS, `参数错误: ${message}`));

/** Checks an app's access key and secret; the app they name. */
async function appOfSecret(db: Db, accessKey: string, secret: string) {
  const found = await appByAccessKey(db, accessKey);
  if (!found || !safeEqual(found.secret(), secret)) throw new HstError(HST.AUTH_FAILED, "鉴权失败");
  if (!found.app.enabled) throw new HstError(HST.AUTH_FAILED, "app disabled");
  return found;
}

const issueAccessToken = (clock: Clock, app: { id: number }, secretVersion: string) => {
  const e = Math.floor(clock.now().getTime() / 1000) + TOKEN_TTL_S;
  return {
    timeout: TOKEN_TTL_S,
    access_token: signCompact({ k: "h", a: app.id, v: secretVersion, e } satisfies HstToken, tokenKey()),
  };
};

async function accessToken(db: Db, clock: Clock, body: Record<string, unknown>) {
  const b = parse(accessTokenBody, body);
  const found = await appOfSecret(db, b.app_id, b.app_secret);
  return issueAccessToken(clock, found.app, found.secretVersion);
}

/**
 * The CloudLiveDemo console's sign-in, in three steps (src/views/Login.vue): POST /generate/token
 * {appId, appSecret} → {code:0, result: <developer token>}; GET /server/address?appType=10 →
 * {code:0, result: <business gateway URL>}; GET /access/token with `Authorization: <appId>.<developer
 * token>` → the same {timeout, access_token} as /v1/access_token. The developer token lives 10 minutes.
 */
const DEVELOPER_TOKEN_TTL_S = 600;
interface DeveloperToken {
  k: "hd";
  a: number;
  v: string;
  e: number;
}

async function developerToken(db: Db, clock: Clock, body: Record<string, unknown>) {
  const b = parse(generateTokenBody, body);
  const found = await appOfSecret(db, b.appId, b.appSecret);
  const e = Math.floor(clock.now().getTime() / 1000) + DEVELOPER_TOKEN_TTL_S;
  return signCompact({ k: "hd", a: found.app.id, v: found.secretVersion, e } satisfies DeveloperToken, tokenKey());
}

async function accessTokenOfDeveloper(db: Db, clock: Clock, authorization: string | undefined) {
  const value = authorization ?? "";
  const dot = value.indexOf(".");
  if (dot <= 0) throw new HstError(HST.NOT_LOGGED_IN, "未登录: Authorization: <appId>.<token> is required");
  const accessKey = value.slice(0, dot);
  let claims: DeveloperToken;
  try {
    claims = verifyCompact<DeveloperToken>(value.slice(dot + 1), tokenKey(), clock.now().getTime());
  } catch (e) {
    if (e instanceof AppError && e.code === "TOKEN_EXPIRED") throw new HstError(HST.TOKEN_TIMEOUT, "token timeout");
    throw new HstError(HST.AUTH_FAILED, "鉴权失败");
  }
  const found = await appByAccessKey(db, accessKey);
  if (claims.k !== "hd" || !found || found.app.id !== claims.a || found.secretVersion !== claims.v)
    throw new HstError(HST.AUTH_FAILED, "鉴权失败");
  if (!found.app.enabled) throw new HstError(HST.AUTH_FAILED, "app disabled");
  return issueAccessToken(clock, found.app, found.secretVersion);
}

/** The app an access token is for: valid signature and expiry, app live, issued under the current secret. */
async function appOfToken(db: Db, token: string | null, clock: Clock): Promise<number> {
  if (!token) throw new HstError(HST.NOT_LOGGED_IN, "未登录");
  let claims: HstToken;
  try {
    claims = verifyCompact<HstToken>(token, tokenKey(), clock.now().getTime());
    if (claims.k !== "h") throw new AppError("TOKEN_INVALID", "not a Haoshitong token");
    assertAppLive(claims.a);
  } catch (e) {
    if (e instanceof AppError && e.code === "TOKEN_EXPIRED")
      throw new HstError(HST.TOKEN_TIMEOUT, "access_token timeout");
    throw new HstError(HST.AUTH_FAILED, "鉴权失败");
  }
  const row = (await db.select({ secretEnc: apps.secretEnc }).from(apps).where(eq(apps.id, claims.a)))[0];
  if (!row || secretVersionOf(row.secretEnc) !== claims.v) throw new HstError(HST.AUTH_FAILED, "鉴权失败");
  return claims.a;
}

async function checkAppId(db: Db, appId: number, given: string) {
  const row = (await db.select({ id: apps.id, accessKey: apps.accessKey }).from(apps).where(eq(apps.id, appId)))[0];
  if (!row || (given !== row.accessKey && given !== String(row.id)))
    throw new HstError(HST.AUTH_FAILED, "app_id does not match the access_token");
}

/** The ffmpeg filter graph: a grid of N tiles on a W×H canvas, each tile fitted by crop mode. */
export function mixFilter(n: number, p: Pick<StartParams, "width" | "height" | "crop_mode" | "frame_rate">) {
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const even = (x: number) => Math.max(2, Math.floor(x / 2) * 2);
  const w = even(p.width / cols);
  const h = even(p.height / rows);
  const fit =
    p.crop_mode === 1
      ? `scale=${w}:${h}`
      : p.crop_mode === 2
        ? `scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h}`
        : `scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2`;
  const parts = Array.from({ length: n }, (_, i) => `[${i}:v]${fit},setsar=1,fps=${p.frame_rate}[v${i}]`);
  const layout = Array.from({ length: n }, (_, i) => `${(i % cols) * w}_${Math.floor(i / cols) * h}`).join("|");
  const stacked =
    n === 1
      ? `[v0]null[grid]`
      : `${Array.from({ length: n }, (_, i) => `[v${i}]`).join("")}xstack=inputs=${n}:layout=${layout}:fill=black[grid]`;
  // The grid may be smaller than the canvas when it does not divide evenly: centre it.
  const canvas = `[grid]pad=${even(p.width)}:${even(p.height)}:(ow-iw)/2:(oh-ih)/2,format=yuv420p[vout]`;
  const audio =
    n === 1
      ? `[0:a]anull[aout]`
      : `${Array.from({ length: n }, (_, i) => `[${i}:a]`).join("")}amix=inputs=${n}:duration=longest:dropout_transition=0[aout]`;
  return [...parts, stacked, canvas, audio].join(";");
}

const BITRATE_PER_720P = { 1: 800, 2: 1500, 3: 3000 } as const;

async function start(db: Db, clock: Clock, appId: number, body: unknown) {
  const p = parse(startBody, body);
  await checkAppId(db, appId, p.app_id);
  const existing = await db
    .select()
    .from(mixTasks)
    .where(and(eq(mixTasks.appId, appId), eq(mixTasks.groupId, p.group_id), eq(mixTasks.state, "running")));
  if (existing.length) throw new HstError(HST.EXISTS, "上下文已经存在");
  const group = await db
    .select()
    .from(rooms)
    .where(
      and(eq(rooms.appId, appId), eq(rooms.chatId, p.group_id), eq(rooms.status, "live"), eq(rooms.streamOnline, true)),
    )
    .orderBy(asc(rooms.startedAt));
  const publishers = group.filter((r) => !r.extends.includes('"onairMix":true'));
  if (!publishers.length) throw new HstError(HST.NO_CONTEXT, "上下文不存在: no live publisher in this group");
  const e = env();
  if (!e.MEDIA_EMBEDDED) throw new HstError(HST.FAILED, "server-side mixing needs the embedded media server");
  const now = clock.now();
  // The mix is a room of its own, hosted by the group's first publisher's host.
  const ctx = { db, clock, actor: { kind: "system" as const, appId, via: "haoshitong" } };
  const mixRoom = await createRoom(ctx, {
    title: `Mix ${p.group_id}`,
    hostId: publishers[0]!.hostId,
    chatId: `mix-${p.group_id}`,
    extends: JSON.stringify({ onairMix: true, group: p.group_id }),
    mode: 0,
    record: false,
  });
  const [res] = await db.insert(mixTasks).values({
    appId,
    groupId: p.group_id,
    roomNum: mixRoom.num,
    state: "running",
    params: JSON.stringify(p),
    owner,
    startedAt: now,
  });
  const taskId = res.insertId;

  const inputs = publishers.flatMap((r) => {
    const path = `/live/${r.streamName}`;
    return [
      "-i",
      `rtmp://127.0.0.1:${e.MEDIA_RTMP_PORT}${path}?sign=${nms.sign(nmsInternalSecret(), path, Math.floor(Date.now() / 1000) + 86400)}`,
    ];
  });
  const kbps = Math.round(BITRATE_PER_720P[p.quality_level] * Math.max(0.25, (p.width * p.height) / (1280 * 720)));
  const out = `rtmp://127.0.0.1:${e.MEDIA_RTMP_PORT}/live/${mixRoom.streamName}?key=${publishKey(mixRoom)}`;
  const args = [
    "-hide_banner",
    "-loglevel",
    "error",
    ...inputs,
    "-filter_complex",
    mixFilter(publishers.length, p),
    "-map",
    "[vout]",
    "-map",
    "[aout]",
    ...liveH264Args(p.frame_rate),
    "-r",
    String(p.frame_rate),
    "-b:v",
    `${kbps}k`,
    "-maxrate",
    `${kbps}k`,
    "-bufsize",
    `${kbps * 2}k`,
    "-c:a",
    "aac",
    "-b:a",
    "96k",
    "-f",
    "flv",
    out,
  ];
  const proc = spawn(e.FFMPEG_PATH, args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  proc.stderr.on("data", (d) => (err = (err + d).slice(-2000)));
  running.set(taskId, proc);
  proc.on("close", (code) => {
    running.delete(taskId);
    void db
      .update(mixTasks)
      .set({ state: code === 0 || code === 255 || proc.killed ? "stopped" : "failed", stoppedAt: new Date() })
      .where(and(eq(mixTasks.id, taskId), eq(mixTasks.state, "running")))
      .then(() => transitionRoom(ctx, mixRoom.id, "stop").catch(() => undefined));
    if (code && !proc.killed) log.warn("mix ended", { task: taskId, code, err: redactUrls(err).slice(-400) });
  });
  return { group_id: p.group_id, ...mixUrls(mixRoom, appId, clock) };
}

function mixUrls(room: { id: string; num: number; streamName: string; appId: number }, appId: number, clock: Clock) {
  const issued = signRoomToken(
    { scope: "play", app: appId, room: room.id, num: room.num, st: room.streamName, sub: "guest:haoshitong" },
    clock.now(),
    env().PLAY_TOKEN_TTL_S,
  );
  const u = pullUrls(
    room,
    { signScheme: "onair", pushDomain: null, pullDomain: null },
    issued.token,
    Math.floor(issued.expiresAt.getTime() / 1000),
  );
  return { flv_url: u.flv_url, m3u8_url: u.hls_url, rtmp_url: u.rtmp_url };
}

async function stop(db: Db, appId: number, body: unknown) {
  const b = parse(groupBody, body);
  await checkAppId(db, appId, b.app_id);
  const tasks = await db
    .select()
    .from(mixTasks)
    .where(and(eq(mixTasks.appId, appId), eq(mixTasks.groupId, b.group_id), eq(mixTasks.state, "running")));
  if (!tasks.length) throw new HstError(HST.NO_INPUT, "不存在指定的直播");
  // Marked stopped in the shared store; whichever instance runs the ffmpeg stops it within a second.
  await db
    .update(mixTasks)
    .set({ state: "stopped", stoppedAt: new Date() })
    .where(
      inArray(
        mixTasks.id,
        tasks.map((task) => task.id),
      ),
    );
  for (const task of tasks) running.get(task.id)?.kill("SIGTERM");
  return { group_id: b.group_id, msg: "stop live success" };
}

async function list(db: Db, clock: Clock, appId: number, appIdParam: string | null) {
  if (!appIdParam) throw new HstError(HST.BAD_PARAMS, "参数错误: app_id is required");
  await checkAppId(db, appId, appIdParam);
  const tasks = await db
    .select({ task: mixTasks, room: rooms })
    .from(mixTasks)
    .innerJoin(rooms, eq(rooms.num, mixTasks.roomNum))
    .where(and(eq(mixTasks.appId, appId), eq(mixTasks.state, "running")))
    .orderBy(asc(mixTasks.startedAt));
  const items = tasks.map(({ task, room }) => ({
    group_id: task.groupId,
    ...mixUrls(room, appId, clock),
    start_time: Math.floor(task.startedAt.getTime() / 1000),
  }));
  // The seed shows a top-level `list`; the CloudLiveDemo console reads `result.live_info_list`.
  return { list: items, result: { live_info_list: items } };
}

/** Stops ffmpeg of tasks this process runs that were stopped elsewhere (another instance's /stop). */
export function startMixWatcher(db: Db = getDb()) {
  const check = async () => {
    if (!running.size) return;
    const ids = [...running.keys()];
    const rows = await db
      .select({ id: mixTasks.id, state: mixTasks.state })
      .from(mixTasks)
      .where(inArray(mixTasks.id, ids))
      .catch(() => []);
    for (const r of rows) if (r.state !== "running") running.get(r.id)?.kill("SIGTERM");
  };
  const timer = setInterval(() => void check(), 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    for (const p of running.values()) p.kill("SIGTERM");
  };
}

/**
 * The access token: `?access_token=` (the seed), `Authorization: Bearer <token>`, or the bare token
 * in Authorization as the CloudLiveDemo console sends it.
 */
const tokenOf = (call: Call) =>
  call.query.get("access_token") ?? bearerOf(call.req.headers) ?? (call.req.headers.authorization?.trim() || null);
const appOfCall = (call: Call) => appOfToken(call.db, tokenOf(call), call.clock);

const routes: Record<string, Route> = {
  "POST /v1/access_token": async (call) => ({
    code: 0,
    msg: "OK",
    result: await accessToken(call.db, call.clock, await call.fields()),
  }),
  "POST /generate/token": async (call) => ({
    code: 0,
    msg: "OK",
    result: await developerToken(call.db, call.clock, await call.fields()),
  }),
  "GET /server/address": () => Promise.resolve({ code: 0, msg: "OK", result: env().publicUrl }),
  "GET /access/token": async (call) => ({
    code: 0,
    msg: "OK",
    result: await accessTokenOfDeveloper(call.db, call.clock, call.req.headers.authorization),
  }),
  "POST /v1/live/start": async (call) => ({
    code: 0,
    msg: "success",
    ...(await start(call.db, call.clock, await appOfCall(call), await call.fields())),
  }),
  "POST /v1/live/stop": async (call) => ({
    code: 0,
    ...(await stop(call.db, await appOfCall(call), await call.fields())),
  }),
  "GET /v1/live/list": async (call) => ({
    code: 0,
    msg: "success",
    ...(await list(call.db, call.clock, await appOfCall(call), call.query.get("app_id"))),
  }),
};

/** Every "METHOD /path" this adapter answers (the OpenAPI document must list each). */
export const HST_ROUTES = Object.keys(routes);

export const haoshitongApi: VendorApi = {
  name: "haoshitong",
  route: routeTable(routes),
  body: { limit: 64 * 1024, notJson: () => new HstError(HST.JSON, "json解析错误") },
  ok: (data) => ({ status: 200, body: data }),
  fail(e) {
    const c = vendorCode(e, {}, { code: HST.FAILED, message: "异常失败" });
    return { status: 200, body: { code: c.code, msg: c.message }, internal: c.internal };
  },
};

/** Mounted by the web process. */
export const createHaoshitongHandler = (opts: { db?: () => Db; clock?: Clock } = {}) =>
  createVendorHandler(haoshitongApi, opts);
