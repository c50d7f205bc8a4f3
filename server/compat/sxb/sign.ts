// 随心播's anti-tamper rule, for apps with `sxbSign` on (the reference clients send no sign):
//   sign = md5("<path>?svc=<svc>&cmd=<cmd>&timeStamp=<timeStamp>" + <app secret>)
// (path as requested, e.g. /sxb/index.php), timeStamp in unix seconds within 5 minutes; both may
// come in the query or the JSON body. A missing or wrong sign answers 10001.
import { createHash } from "node:crypto";
import { open, safeEqual } from "../../crypto/secretbox";
import type { DbOrTx } from "../../db/client";
import { appRow } from "../../apps";
import { SXB, sxbError } from "./common";

export function sxbSignature(path: string, svc: string, cmd: string, timeStamp: string, secret: string) {
  return createHash("md5").update(`${path}?svc=${svc}&cmd=${cmd}&timeStamp=${timeStamp}${secret}`).digest("hex");
}

/** A JSON scalar as text (a number or string the client sent); anything else is empty. */
const scalarText = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v) : "");

export interface SignedCall {
  url: string;
  svc: string;
  cmd: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

/** Checks the sign when the app asks for it. */
export async function checkSign(db: DbOrTx, appId: number | null, call: SignedCall, now: Date) {
  const app = appId === null ? undefined : await appRow(db, appId);
  if (!app?.sxbSign) return;
  assertSigned(open(app.secretEnc), call, now);
}

/** The pure sign check: timeStamp within 5 minutes and the md5 sign over path, svc, cmd and it. */
export function assertSigned(secret: string, call: SignedCall, now: Date) {
  const path = call.url.split("?")[0]!;
  const ts = call.query.get("timeStamp") ?? scalarText(call.body.timeStamp);
  const sign = call.query.get("sign") ?? scalarText(call.body.sign);
  if (!/^\d{1,12}$/.test(ts) || Math.abs(Math.floor(now.getTime() / 1000) - Number(ts)) > 300)
    throw sxbError(SXB.BAD_REQUEST, "请求有误: timeStamp missing or outside 5 minutes");
  if (!safeEqual(sxbSignature(path, call.svc, call.cmd, ts, secret), sign.toLowerCase()))
    throw sxbError(SXB.BAD_REQUEST, "请求有误: bad sign");
}
