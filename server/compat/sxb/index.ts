// 随心播 (Tencent interactive-live demo business server, seed 001) on onair's domain:
// POST /sxb/index.php?svc=…&cmd=… (and /index.php?…) with JSON bodies (under any content type, as
// the Web demo posts them as forms), answered with HTTP 200 and the {errorCode, errorInfo, data}
// envelope and the seed's codes. Commands: account.ts (regist, login, logout), live.ts (rooms,
// members, mic, records), callback.ts (Tencent live callbacks), heartbeat.ts (the front's hot path).
import type { Clock } from "../../clock";
import type { Db } from "../../db/client";
import { userActorOf } from "../../http/actor";
import { createVendorHandler, type Route, type VendorApi } from "../kit";
import { account, sxbApp } from "./account";
import { callback } from "./callback";
import { codeOf, envelope, SXB, SXB_PATHS, sxbError } from "./common";
import { live } from "./live";
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

export const createSxbHandler = (opts: { db?: () => Db; clock?: Clock } = {}) => createVendorHandler(sxbApi, opts);
