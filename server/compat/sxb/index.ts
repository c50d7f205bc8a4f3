// 随心播 (Tencent interactive-live demo business server, seed 001) on onair's domain:
// POST /sxb/index.php?svc=…&cmd=… (and /index.php?…) with JSON bodies (under any content type, as
// the Web demo posts them as forms), answered with HTTP 200 and the {errorCode, errorInfo, data}
// envelope and the seed's codes. Commands: account.ts (regist, login, logout), live.ts (rooms,
// members, mic, records), callback.ts (Tencent live callbacks), heartbeat.ts (the front's hot path).
import { systemClock, type Clock } from "../../clock";
import { getDb, type Db } from "../../db/client";
import { userActorOf } from "../../http/actor";
import type { Ctx } from "../../actor";
import { appRow, settledAppRow } from "../../apps";
import { jsonObject, type FastRoute } from "../../front/fast";
import { createVendorHandler, type Route, type VendorApi } from "../kit";
import { account, sxbApp } from "./account";
import { callback } from "./callback";
import { codeOf, envelope, SXB, SXB_PATHS, sxbError } from "./common";
import { live, settledLivestreamlist, settledRoomidlist, settledRoomlist } from "./live";
import { checkSign } from "./sign";

export { SXB } from "./common";
export { createSxbHeartbeat } from "./heartbeat";
export { sxbSignature } from "./sign";

export const isSxbPath = (p: string) => SXB_PATHS.has(p);

/** A command of the table, by its own name only ("constructor" or "toString" name none). */
const commandOf = <T>(table: Record<string, T>, cmd: string): T | undefined =>
  Object.hasOwn(table, cmd) ? table[cmd] : undefined;

function route(svc: string, cmd: string): Route {
  return async (call) => {
    const body = await call.fields();
    const signed = { url: call.req.url ?? "", svc, cmd, query: call.query, body };
    const now = call.clock.now();
    const accountCommand = svc === "account" ? commandOf(account, cmd) : undefined;
    if (accountCommand) {
      await checkSign(call.db, (await sxbApp(call.db)).id, signed, now);
      return accountCommand(call.db, call.clock, body, call.addr);
    }
    if (svc === "live" && cmd === "callback") return callback(call.db, call.clock, body);
    const liveCommand = svc === "live" ? commandOf(live, cmd) : undefined;
    if (liveCommand) {
      const token = typeof body.token === "string" ? body.token : "";
      if (!token) throw sxbError(SXB.TOKEN_EXPIRED, "token过期");
      const actor = userActorOf(token, now);
      await checkSign(call.db, actor.appId, signed, now);
      return liveCommand({ db: call.db, clock: call.clock, actor }, body);
    }
    throw sxbError(SXB.BAD_REQUEST, `unknown svc/cmd: ${svc}/${cmd}`);
  };
}

/** Every svc/cmd this adapter answers (the OpenAPI document must list each). */
export const SXB_COMMANDS = [
  ...Object.keys(account).map((c) => `account/${c}`),
  ...Object.keys(live).map((c) => `live/${c}`),
  "live/callback",
  "live/heartbeat",
];

export const sxbApi: VendorApi = {
  name: "sxb",
  route: (_method, path, query) =>
    isSxbPath(path) ? route(query.get("svc") ?? "", query.get("cmd") ?? "") : undefined,
  body: { limit: 1024 * 1024, notJson: () => sxbError(SXB.BAD_JSON, "请求json错误") },
  ok: (data) => ({ status: 200, body: envelope(SXB.OK, "", data) }),
  fail(e) {
    const c = codeOf(e);
    return { status: 200, body: envelope(c.code, c.info), internal: c.internal };
  },
};

/** The lists answered on the front's fast path: each command's synchronous answer when settled. */
const FAST_LISTS: Record<string, (ctx: Ctx, body: Record<string, unknown>) => unknown> = {
  roomlist: settledRoomlist,
  livestreamlist: settledLivestreamlist,
  roomidlist: settledRoomidlist,
};

/**
 * `roomlist`, `livestreamlist` and `roomidlist` on the front's fast path (server/front/fast.ts), with the
 * command's answer byte for byte: at once when all it reads has been read for everybody and may
 * still be served, else once read, as the route reads it. Undefined for anything else (an app that
 * asks for a sign, errors too): the route answers those, from the start.
 */
function fastList(db: Db, clock: Clock, body: string, queryText: string) {
  const query = new URLSearchParams(queryText);
  const cmd = query.get("cmd") ?? "";
  const settled = query.get("svc") === "live" ? commandOf(FAST_LISTS, cmd) : undefined;
  if (!settled) return undefined;
  const fields = jsonObject(body);
  if (typeof fields?.token !== "string" || !fields.token) return undefined;
  const answer = (data: unknown) => ({ status: 200, json: JSON.stringify(sxbApi.ok(data).body) });
  let actor: ReturnType<typeof userActorOf>;
  try {
    actor = userActorOf(fields.token, clock.now());
    const app = actor.appId === null ? { value: undefined } : settledAppRow(db, actor.appId);
    const data = app && !app.value?.sxbSign ? settled({ db, clock, actor }, fields) : undefined;
    if (data) return answer(data);
  } catch {
    return undefined;
  }
  const { appId } = actor;
  return (async () => {
    if (appId !== null && (await appRow(db, appId))?.sxbSign) return undefined;
    return answer(await live[cmd]!({ db, clock, actor }, fields));
  })().catch(() => undefined);
}

export function createSxbHandler(opts: { db?: () => Db; clock?: Clock } = {}) {
  const db = opts.db ?? getDb;
  const clock = opts.clock ?? systemClock;
  return Object.assign(createVendorHandler(sxbApi, { db, clock }), {
    /** Requests answered from the connection's bytes when they can be (server/front/fast.ts). */
    fast: Object.fromEntries(
      [...SXB_PATHS].map((p): [string, FastRoute] => [
        `POST ${p}`,
        (body, query) => fastList(db(), clock, body, query),
      ]),
    ),
  });
}
