// LTStream third-party access (seed 000), as its PHP extension calls it: POST /api/third/get_token
// with a form field `signature` = base64(header).base64(payload).md5(base64(header).base64(payload) + app_secret)
// and header `Version: v1`; onair checks it (each signature is good once), asks the app's registered
// callback URL to approve (GET <callback>?request_id=<id>, answered within 4 s with {"ltstream_code":200}
// as the Laravel extension does, or {"code":200}), and answers an app-wide pull token.
// Viewers then play /live/<room number>.flv?type=1&token=… straight from onair's front.
import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { and, eq } from "drizzle-orm";
import { appByAccessKey } from "../../apps";
import type { Clock } from "../../clock";
import { tokenKey } from "../../crypto/keys";
import { safeEqual } from "../../crypto/secretbox";
import type { Db } from "../../db/client";
import { rooms } from "../../db/schema";
import { env } from "../../env";
import { AppError } from "../../errors";
import { outboundFetch, OutboundError } from "../../http/outbound";
import { firstUse } from "../../limits";
import { log } from "../../log";
import { signCompact, verifyCompact } from "../../tokens/jwt";
import { sourceOf, subStreamName } from "../../sources";
import { z } from "zod";
import { anonymous, type Ctx } from "../../actor";
import { addDevice, deleteDevice, deviceInfo, listDevices, pageDevices, updateDevice } from "../../sources/devices";
import { createVendorHandler, parseOr, sendAnswer, vendorCode, VendorError, type Route, type VendorApi } from "../kit";

/** The seed's status codes. */
export const LT = {
  OK: 200,
  BAD_URL: 400,
  NOT_FOUND: 404,
  SERVER: 500,
  BAD_SIGNATURE: 1001,
  SIGNATURE_EXPIRED: 1002,
  BAD_KEY: 1003,
  CALLBACK_TIMEOUT: 1004,
  CALLBACK_REFUSED: 1005,
  APP_DISABLED: 1006,
  TOKEN_FAILED: 1101,
  BAD_TOKEN: 1102,
  TOKEN_EXPIRED: 1103,
  NO_STREAM: 1201,
  PULL_FAILED: 1202,
  BAD_PARAMS: 2001,
} as const;

/** LTStream's errors travel in the seed's envelope {code, message}. */
export class LtError extends VendorError {}

/** The signing window for get_token requests (their `timestamp`, unix seconds). */
const WINDOW_S = 300;
/** The reference client gives up after 5 s, so the callback must be answered (or abandoned) before. */
const CALLBACK_TIMEOUT_MS = 4000;
/** An approval is a few bytes of JSON; anything much larger is not one. */
const CALLBACK_MAX_BYTES = 64 * 1024;

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

function decodeJson(part: string): Record<string, unknown> {
  try {
    // The PHP extension uses standard base64 (with + / =); accept both alphabets.
    const v: unknown = JSON.parse(Buffer.from(part.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8"));
    if (!v || typeof v !== "object") throw new Error();
    return v as Record<string, unknown>;
  } catch {
    throw new LtError(LT.BAD_SIGNATURE, "无效的签名（signature）");
  }
}

interface AppToken {
  k: "l";
  a: number;
  e: number;
}

/**
 * Checks a request's signature as the extension makes it (every /api/third call carries one) and
 * returns the app it names, with the header it carried. Each signature is good once.
 */
async function checkSignature(db: Db, clock: Clock, signature: unknown, version: string | undefined) {
  if (version !== "v1") throw new LtError(LT.BAD_PARAMS, "请求参数有误: header Version: v1 is required");
  if (typeof signature !== "string" || !signature)
    throw new LtError(LT.BAD_PARAMS, "请求参数有误: signature is required (a string)");
  const parts = signature.split(".");
  if (parts.length !== 3 || signature.length > 4096) throw new LtError(LT.BAD_SIGNATURE, "无效的签名（signature）");
  const [h, p, mac] = parts as [string, string, string];
  const header = decodeJson(h);
  const payload = decodeJson(p);
  if (header.alg !== "md5" || typeof payload.ak !== "string" || typeof payload.timestamp !== "number")
    throw new LtError(LT.BAD_SIGNATURE, "无效的签名（signature）");
  const found = await appByAccessKey(db, payload.ak);
  if (!found) throw new LtError(LT.BAD_KEY, "appAccessKey和appSecret不正确");
  const digest = md5(`${h}.${p}${found.secret()}`);
  if (!safeEqual(digest, mac.toLowerCase())) throw new LtError(LT.BAD_SIGNATURE, "无效的签名（signature）");
  const nowS = Math.floor(clock.now().getTime() / 1000);
  if (Math.abs(nowS - payload.timestamp) > WINDOW_S) throw new LtError(LT.SIGNATURE_EXPIRED, "签名已过期");
  if (!found.app.enabled) throw new LtError(LT.APP_DISABLED, "第三方被禁用");
  // A signature is good once, for any call (one store for them all, so a token's signature cannot
  // be replayed on monitor_delete): remembered (on the shared store) until it would have expired anyway.
  // The digest names it whatever case the client spelled it in.
  const expiresAt = new Date((payload.timestamp + WINDOW_S + 1) * 1000);
  if (!(await firstUse(db, "ltstream:get_token", `${found.app.id}:${digest}`, expiresAt)))
    throw new LtError(LT.BAD_SIGNATURE, "无效的签名（signature）: already used");
  return { found, header };
}

/** Checks a get_token request and returns the app-wide pull token. */
export async function getToken(db: Db, clock: Clock, signature: unknown, version: string | undefined) {
  const { found, header } = await checkSignature(db, clock, signature, version);
  const nowS = Math.floor(clock.now().getTime() / 1000);
  const requestId = typeof header.request_id === "string" ? header.request_id : "";
  if (found.app.callbackUrl) await askCallback(found.app.callbackUrl, requestId);
  const exp = nowS + env().PLAY_TOKEN_TTL_S;
  return { expire: exp * 1000, token: signCompact({ k: "l", a: found.app.id, e: exp } satisfies AppToken, tokenKey()) };
}

/** Approved only by HTTP 2xx with {"ltstream_code":200} (the Laravel extension) or {"code":200}. */
async function askCallback(url: string, requestId: string) {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new LtError(LT.CALLBACK_REFUSED, "第三方回调url返回拒绝");
  }
  u.searchParams.set("request_id", requestId);
  let answer: { status: number; json(): unknown };
  try {
    answer = await outboundFetch(u, { timeoutMs: CALLBACK_TIMEOUT_MS, maxBytes: CALLBACK_MAX_BYTES });
  } catch (e) {
    if (!(e instanceof OutboundError)) throw e;
    if (e.reason === "timeout") throw new LtError(LT.CALLBACK_TIMEOUT, "第三方回调url请求超时");
    // Refused addresses, oversized answers and network errors are the app's refusal; the reason is
    // logged for the operator but not told to the caller (it would map the network for them).
    log.warn("ltstream callback failed", { reason: e.reason, error: e.message });
    throw new LtError(LT.CALLBACK_REFUSED, "第三方回调url返回拒绝");
  }
  const body = answer.json() as { code?: unknown; ltstream_code?: unknown } | null | undefined;
  const verdict = body && typeof body === "object" ? (body.ltstream_code ?? body.code) : undefined;
  if (answer.status < 200 || answer.status >= 300 || Number(verdict) !== 200)
    throw new LtError(LT.CALLBACK_REFUSED, "第三方回调url返回拒绝");
}

/**
 * A viewer's LTStream play (/live/<code>.flv?type=1&token=…): the token must be an unexpired
 * LTStream token of the room's app; <code> is the room number. Returns the room's stream name.
 */
/** Whether a play carries an LTStream pull token (a valid one, expired or not): its answers use LTStream's codes. */
export function isLtToken(token: string | null): boolean {
  if (!token) return false;
  try {
    return verifyCompact<AppToken>(token, tokenKey(), 0).k === "l";
  } catch {
    return false;
  }
}

export async function playStream(db: Db, code: string, type: string | null, token: string | null, now: Date) {
  if (!token) throw new LtError(LT.BAD_TOKEN, "无效的token");
  let claims: AppToken;
  try {
    claims = verifyCompact<AppToken>(token, tokenKey(), now.getTime());
  } catch (e) {
    throw new LtError(
      e instanceof AppError && e.code === "TOKEN_EXPIRED" ? LT.TOKEN_EXPIRED : LT.BAD_TOKEN,
      e instanceof AppError && e.code === "TOKEN_EXPIRED" ? "token已过期" : "无效的token",
    );
  }
  if (claims.k !== "l") throw new LtError(LT.BAD_TOKEN, "无效的token");
  // type 1 is the main stream; type 2 the sub stream, which only a device with a sub source has.
  const kind = (type ?? "1") === "1" ? "main" : type === "2" ? "sub" : undefined;
  if (!kind || !/^\d{1,15}$/.test(code)) throw new LtError(LT.NO_STREAM, "未找到码流地址");
  const row = (
    await db
      .select({ streamName: rooms.streamName, status: rooms.status })
      .from(rooms)
      .where(and(eq(rooms.num, Number(code)), eq(rooms.appId, claims.a)))
  )[0];
  if (!row || row.status === "ended") throw new LtError(LT.NO_STREAM, "未找到码流地址");
  if (kind === "main") return row.streamName;
  if (!(await sourceOf(db, Number(code), "sub"))) throw new LtError(LT.NO_STREAM, "未找到码流地址");
  return subStreamName(row.streamName);
}

const CORS = { "access-control-allow-origin": "*" };

export function sendLt(res: ServerResponse, httpStatus: number, body: unknown) {
  sendAnswer(res, { status: httpStatus, body, headers: CORS });
}

// ---- Devices (monitors): the extension's addMonitor … getMonitorInfo, field for field --------------

const text = (max: number) => z.preprocess((v) => (v === undefined || v === null ? "" : v), z.string().max(max));
const device = z.object({
  name: z.string().trim().min(1).max(256),
  path: z.string().trim().min(1).max(2048),
  sub_path: text(2048),
  address: text(1024),
});
const byCode = z.object({ code: z.string().regex(/^\d{1,15}$/, "a device code") });
const page = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  page_size: z.coerce.number().int().min(1).max(100).default(15),
});
const params = <T extends z.ZodType>(schema: T, fields: Record<string, unknown>) =>
  parseOr(schema, fields, (m) => new LtError(LT.BAD_PARAMS, `请求参数有误: ${m}`));
const deviceInput = (d: z.infer<typeof device>) => ({
  name: d.name,
  path: d.path,
  subPath: d.sub_path,
  address: d.address,
});

/** A monitor route: the signature checked, then the verb with the app and the form's fields. */
const monitor =
  (verb: (ctx: Ctx, appId: number, fields: Record<string, unknown>) => Promise<unknown>): Route =>
  async (call) => {
    const fields = await call.fields();
    const { found } = await checkSignature(call.db, call.clock, fields.signature, headerOf(call.req.headers.version));
    return verb({ db: call.db, clock: call.clock, actor: anonymous }, found.app.id, fields);
  };

const routes: Record<string, Route> = {
  // PHP's curl posts a form; a JSON body is read too. A repeated field counts by its last value.
  get_token: async (call) =>
    getToken(call.db, call.clock, (await call.fields()).signature, headerOf(call.req.headers.version)),
  monitor_add: monitor(async (ctx, appId, f) => {
    const code = await addDevice(ctx, appId, deviceInput(params(device, f)));
    return deviceInfo(ctx, appId, code);
  }),
  monitor_update: monitor(async (ctx, appId, f) => {
    const d = params(device.extend(byCode.shape), f);
    return deviceInfo(ctx, appId, await updateDevice(ctx, appId, Number(d.code), deviceInput(d)));
  }),
  monitor_list: monitor((ctx, appId) => listDevices(ctx, appId)),
  monitor_paginate: monitor(async (ctx, appId, f) => {
    const p = params(page, f);
    const { total, list } = await pageDevices(ctx, appId, p.page, p.page_size);
    // Laravel's paginator keys (LTStream is a Laravel platform; the extension passes the answer on as is).
    return {
      current_page: p.page,
      per_page: p.page_size,
      total,
      last_page: Math.max(1, Math.ceil(total / p.page_size)),
      data: list,
    };
  }),
  monitor_info: monitor((ctx, appId, f) => deviceInfo(ctx, appId, Number(params(byCode, f).code))),
  monitor_delete: monitor(async (ctx, appId, f) => {
    const code = params(byCode, f).code;
    await deleteDevice(ctx, appId, Number(code));
    return { code };
  }),
};

/** Every /api/third/<name> this adapter answers (the OpenAPI test holds the docs to it). */
export const LT_ROUTES = Object.keys(routes).map((name) => `/api/third/${name}`);

export const ltApi: VendorApi = {
  name: "ltstream",
  route(method, path) {
    const m = /^\/api\/third\/(\w{1,32})$/.exec(path);
    const route = m ? routes[m[1]!] : undefined;
    if (!route) return undefined;
    if (method !== "POST") return () => Promise.reject(new LtError(LT.BAD_URL, "非法的请求地址"));
    return route;
  },
  body: { limit: 64 * 1024, form: true, notJson: () => new LtError(LT.BAD_PARAMS, "请求参数有误: body is not JSON") },
  ok: (data) => ({ status: 200, body: { code: 200, data, message: "200 OK" }, headers: CORS }),
  fail(e) {
    // An unknown device code and a refused source URL are the caller's parameters (2001).
    const c = vendorCode(
      e,
      { PAYLOAD_TOO_LARGE: LT.BAD_PARAMS, NOT_FOUND: LT.BAD_PARAMS, BAD_REQUEST: LT.BAD_PARAMS },
      { code: LT.SERVER, message: "服务器异常" },
    );
    return {
      status: 200,
      body: { code: c.code, message: c.message },
      headers: CORS,
      internal: c.internal,
    };
  },
};

const headerOf = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** Mounted by the web process: POST /api/third/get_token and /api/third/monitor_*. */
export const createLtHandler = (opts: { db?: () => Db; clock?: Clock } = {}) => createVendorHandler(ltApi, opts);
