// Contract tests for LTStream third-party access (seed 000): get_token exactly as the PHP
// extension signs it, every code onair can produce (1001–1006, 2001), and pull-token plays
// (1102, 1103, 1201) on the front.
import { createHash, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFrontServer } from "../../front/server";
import { resetEnvForTests } from "../../env";
import { freePort } from "../../../scripts/lib/ports";
import { callerOf, makeTenant, type Tenant } from "../../../test/helpers";
import { signCompact } from "../../tokens/jwt";
import { tokenKey } from "../../crypto/keys";
import { createLtHandler, LT } from ".";

let t: Tenant;
let other: Tenant;
let web: http.Server;
let front: http.Server;
let cb: http.Server;
let base: string;
let cbBase: string;
let cbMode: "ok" | "refuse" | "slow" = "ok";
const seen: string[] = [];

const listen = (s: http.Server) =>
  new Promise<string>((r) =>
    s.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)),
  );

beforeAll(async () => {
  [t, other] = await Promise.all([makeTenant(), makeTenant()]);
  // The third party's own callback endpoint (their Laravel controller).
  cb = http.createServer((req, res) => {
    seen.push(req.url ?? "");
    if (cbMode === "slow") return void setTimeout(() => res.end('{"code":200}'), 6000);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(cbMode === "ok" ? '{"code":200}' : '{"code":403,"msg":"no"}');
  });
  cbBase = await listen(cb);
  await callerOf(t.root).apps.update({ id: t.app.id, callbackUrl: `${cbBase}/stream/callback` });
  const lt = createLtHandler();
  web = http.createServer((req, res) => void (lt(req, res) || res.writeHead(404).end()));
  const webBase = await listen(web);
  // No media server behind this front: a valid play must answer 1202 (pull failed).
  process.env.MEDIA_HTTP_PORT = String(await freePort());
  resetEnvForTests();
  front = createFrontServer({ webOrigin: webBase });
  delete process.env.MEDIA_HTTP_PORT;
  resetEnvForTests();
  base = await listen(front);
});
afterAll(async () => {
  for (const s of [front, web, cb]) await new Promise((r) => s.close(r));
});

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64");
function signature(ak: string, secret: string, opts: { ts?: number; requestId?: string; tamper?: boolean } = {}) {
  const h = b64({ alg: "md5", type: "jwt", request_id: opts.requestId ?? `{${randomUUID().toUpperCase()}}` });
  const p = b64({
    timestamp: opts.ts ?? Math.floor(Date.now() / 1000),
    sdk_key: Math.random().toString(36).slice(2),
    ak,
  });
  const mac = createHash("md5").update(`${h}.${p}${secret}`).digest("hex");
  return `${h}.${p}.${opts.tamper ? mac.replace(/^./, (c) => (c === "a" ? "b" : "a")) : mac}`;
}
async function getToken(sig: string, version: string | null = "v1") {
  const r = await fetch(`${base}/api/third/get_token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(version ? { Version: version } : {}) },
    body: new URLSearchParams({ signature: sig }).toString(),
  });
  return (await r.json()) as { code: number; data?: { expire: number; token: string }; message: string };
}

describe("LTStream get_token", () => {
  it("answers {code:200, data:{expire(ms), token}, message:'200 OK'} after the app's callback approves", async () => {
    cbMode = "ok";
    const requestId = `{${randomUUID().toUpperCase()}}`;
    const r = await getToken(signature(t.accessKey, t.secret, { requestId }));
    expect(r).toMatchObject({ code: 200, message: "200 OK" });
    expect(Object.keys(r.data!).sort()).toEqual(["expire", "token"]);
    expect(r.data!.expire).toBeGreaterThan(Date.now());
    expect(r.data!.token).toMatch(/^[A-Za-z0-9_.-]+$/); // appended to URLs unencoded
    expect(seen.at(-1)).toBe(`/stream/callback?request_id=${encodeURIComponent(requestId)}`);
  });

  it("refuses with the seed's codes: 1001 signature, 1002 expired, 1003 key, 1004/1005 callback, 1006 disabled, 2001 params", async () => {
    cbMode = "ok";
    expect((await getToken(signature(t.accessKey, t.secret, { tamper: true }))).code).toBe(LT.BAD_SIGNATURE);
    expect((await getToken(signature(t.accessKey, "wrong-secret"))).code).toBe(LT.BAD_SIGNATURE);
    expect((await getToken("not.a-signature")).code).toBe(LT.BAD_SIGNATURE);
    expect((await getToken(signature(t.accessKey, t.secret, { ts: Math.floor(Date.now() / 1000) - 3600 }))).code).toBe(
      LT.SIGNATURE_EXPIRED,
    );
    expect((await getToken(signature("ak_unknown", t.secret))).code).toBe(LT.BAD_KEY);
    expect((await getToken(signature(t.accessKey, t.secret), null)).code).toBe(LT.BAD_PARAMS);
    cbMode = "refuse";
    expect((await getToken(signature(t.accessKey, t.secret))).code).toBe(LT.CALLBACK_REFUSED);
    cbMode = "slow";
    const started = Date.now();
    expect((await getToken(signature(t.accessKey, t.secret))).code).toBe(LT.CALLBACK_TIMEOUT);
    expect(Date.now() - started).toBeLessThan(5000); // answered before the client gives up
    cbMode = "ok";
    await callerOf(t.root).apps.update({ id: t.app.id, enabled: false });
    try {
      expect((await getToken(signature(t.accessKey, t.secret))).code).toBe(LT.APP_DISABLED);
    } finally {
      await callerOf(t.root).apps.update({ id: t.app.id, enabled: true });
    }
  });
});

describe("LTStream plays", () => {
  it("/live/<code>.flv?type=1&token= refuses bad (1102), expired (1103) and unknown streams (1201)", async () => {
    cbMode = "ok";
    const token = (await getToken(signature(t.accessKey, t.secret))).data!.token;
    const room = await callerOf(t.host).rooms.create({ title: "lt" });
    const strangers = await callerOf(other.host).rooms.create({ title: "other app" });
    const play = async (code: number | string, tok: string, type = "1") => {
      const r = await fetch(`${base}/live/${code}.flv?type=${type}&token=${tok}`);
      return [r.status, ((await r.json()) as { code: number }).code];
    };
    expect(await play(room.num, "bogus.token")).toEqual([401, LT.BAD_TOKEN]);
    const expired = signCompact({ k: "l", a: t.app.id, e: Math.floor(Date.now() / 1000) - 10 }, tokenKey());
    expect(await play(room.num, expired)).toEqual([401, LT.TOKEN_EXPIRED]);
    expect(await play(987654321, token)).toEqual([404, LT.NO_STREAM]);
    expect(await play(strangers.num, token)).toEqual([404, LT.NO_STREAM]);
    expect(await play(room.num, token, "2")).toEqual([404, LT.NO_STREAM]);
    expect(await play(room.num, token)).toEqual([502, LT.PULL_FAILED]);
  });
});
