// URL signing schemes an app can choose (apps.sign_scheme). Each signs a push or pull URL and
// verifies what a media server hands back. onair's own scheme (JWT play tokens + room publish keys)
// lives in tokens/ and media/keys.ts; these are the vendor schemes clients and CDNs already speak.
import { createHash, randomBytes } from "node:crypto";
import { safeEqual } from "../crypto/secretbox";

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

/** Tencent Cloud: txSecret = md5(key + streamName + txTime), txTime = expiry as upper-case hex seconds. */
export const tencent = {
  sign(key: string, streamName: string, expiresAtS: number) {
    const txTime = expiresAtS.toString(16).toUpperCase();
    return { txSecret: md5(key + streamName + txTime), txTime };
  },
  verify(key: string, streamName: string, q: { txSecret?: string; txTime?: string }, nowS: number) {
    if (!q.txSecret || !q.txTime || !/^[0-9A-Fa-f]{1,12}$/.test(q.txTime)) return "invalid" as const;
    if (!safeEqual(md5(key + streamName + q.txTime.toUpperCase()), q.txSecret.toLowerCase())) return "invalid" as const;
    return parseInt(q.txTime, 16) < nowS ? ("expired" as const) : ("ok" as const);
  },
};

/**
 * Alibaba Cloud auth_key type A: auth_key = "<ts>-<rand>-<uid>-<md5(URI-ts-rand-uid-key)>", where
 * URI is the path of the URL being signed (so each format gets its own key) and ts its expiry.
 */
export const aliyunA = {
  sign(key: string, uri: string, expiresAtS: number, rand = randomBytes(8).toString("hex"), uid = "0") {
    return `${expiresAtS}-${rand}-${uid}-${md5(`${uri}-${expiresAtS}-${rand}-${uid}-${key}`)}`;
  },
  verify(key: string, uri: string, authKey: string | undefined, nowS: number) {
    const m = /^(\d{1,12})-([0-9A-Za-z]{0,64})-([0-9A-Za-z]{0,64})-([0-9a-f]{32})$/.exec(authKey ?? "");
    if (!m) return "invalid" as const;
    if (!safeEqual(md5(`${uri}-${m[1]}-${m[2]}-${m[3]}-${key}`), m[4]!)) return "invalid" as const;
    return Number(m[1]) < nowS ? ("expired" as const) : ("ok" as const);
  },
};

/** node-media-server: sign = "<exp>-<md5('/app/stream-<exp>-<secret>')>". */
export const nms = {
  sign(secret: string, streamPath: string, expiresAtS: number) {
    return `${expiresAtS}-${md5(`${streamPath}-${expiresAtS}-${secret}`)}`;
  },
  verify(secret: string, streamPath: string, sign: string | undefined, nowS: number) {
    const m = /^(\d{1,12})-([0-9a-f]{32})$/.exec(sign ?? "");
    if (!m) return "invalid" as const;
    if (!safeEqual(md5(`${streamPath}-${m[1]}-${secret}`), m[2]!)) return "invalid" as const;
    return Number(m[1]) < nowS ? ("expired" as const) : ("ok" as const);
  },
};
