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
import { createVendorHandler, sendAnswer, vendorCode, VendorError, type VendorApi } from "../kit";

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

/** Checks a get_token request and returns the app-wide pull token. */
export async function getToken(db: Db, clock: Clock, signature: unknown, version: string | undefined) {
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
  // A signature is good once: remembered (on the shared store) until it would have expired anyway.
  // The digest names it whatever case the client spelled it in.
  const expiresAt = new Date((payload.timestamp + WINDOW_S + 1) * 1000);
  if (!(await firstUse(db, "ltstream:get_token", `${found.app.id}:${digest}`, expiresAt)))
    throw new LtError(LT.BAD_SIGNATURE, "无效的签名（signature）: already used");
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
  // type 1 is the main stream; onair rooms have no sub stream (type 2).
  if ((type ?? "1") !== "1" || !/^\d{1,15}$/.test(code)) throw new LtError(LT.NO_STREAM, "未找到码流地址");
  const row = (
    await db
      .select({ streamName: rooms.streamName, status: rooms.status })
      .from(rooms)
      .where(and(eq(rooms.num, Number(code)), eq(rooms.appId, claims.a)))
  )[0];
  if (!row || row.status === "ended") throw new LtError(LT.NO_STREAM, "未找到码流地址");
  return row.streamName;
}

const CORS = { "access-control-allow-origin": "*" };

export function sendLt(res: ServerResponse, httpStatus: number, body: unknown) {
  sendAnswer(res, { status: httpStatus, body, headers: CORS });
}

export const ltApi: VendorApi = {
  name: "ltstream",
  route(method, path) {
    if (path !== "/api/third/get_token") return undefined;
    if (method !== "POST") return () => Promise.reject(new LtError(LT.BAD_URL, "非法的请求地址"));
    // PHP's curl posts a form; a JSON body is read too. A repeated field counts by its last value.
    return async (call) =>
      getToken(call.db, call.clock, (await call.fields()).signature, headerOf(call.req.headers.version));
  },
  body: { limit: 64 * 1024, form: true, notJson: () => new LtError(LT.BAD_PARAMS, "请求参数有误: body is not JSON") },
  ok: (data) => ({ status: 200, body: { code: 200, data, message: "200 OK" }, headers: CORS }),
  fail(e) {
    const c = vendorCode(e, { PAYLOAD_TOO_LARGE: LT.BAD_PARAMS }, { code: LT.SERVER, message: "服务器异常" });
    return {
      status: 200,
      body: { code: c.code, message: c.message },
      headers: CORS,
      internal: c.internal,
    };
  },
};

const headerOf = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** Mounted by the web process: POST /api/third/get_token. */
export const createLtHandler = (opts: { db?: () => Db; clock?: Clock } = {}) => createVendorHandler(ltApi, opts);
