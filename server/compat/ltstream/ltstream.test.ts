// Contract tests for LTStream third-party access (seed 000): get_token exactly as the PHP
// extension signs it, every code onair can produce (1001–1006, 2001), the callback kept off
// internal addresses, and pull-token plays (1102, 1103, 1201) on the front.
import { createHash, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createFrontServer } from "../../front/server";
import { resetEnvForTests } from "../../env";
import { freePort } from "../../../scripts/lib/ports";
import { callerOf, makeTenant, type Tenant } from "../../../test/helpers";
import { signCompact } from "../../tokens/jwt";
import { tokenKey } from "../../crypto/keys";
import { log } from "../../log";
import { createLtHandler, LT } from ".";

let t: Tenant;
let other: Tenant;
let web: http.Server;
let front: http.Server;
let cb: http.Server;
let base: string;
let cbBase: string;
let cbMode: "ok" | "refuse" | "slow" | "lt-ok" | "lt-refuse" | "huge" = "ok";
const seen: string[] = [];
let hugeSent = 0;
let hugeClosed: Promise<void> = Promise.resolve();

/** The callback server listens on 127.0.0.1, which onair refuses unless the operator allows it. */
function allowLoopback(on: boolean) {
  if (on) process.env.OUTBOUND_ALLOW = "127.0.0.1";
  else delete process.env.OUTBOUND_ALLOW;
  resetEnvForTests();
}

const listen = (s: http.Server) =>
  new Promise<string>((r) =>
    s.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)),
  );

beforeAll(async () => {
  allowLoopback(true);
  [t, other] = await Promise.all([makeTenant(), makeTenant()]);
  // The third party's own callback endpoint (their Laravel controller).
  cb = http.createServer((req, res) => {
    seen.push(req.url ?? "");
    if (cbMode === "slow") return void setTimeout(() => res.end('{"code":200}'), 6000);
    res.writeHead(200, { "content-type": "application/json" });
    if (cbMode === "huge") {
      // A valid approval padded to 200 MB: onair must stop reading long before the end.
      hugeSent = 0;
      hugeClosed = new Promise((r) => res.on("close", () => r()));
      const chunk = Buffer.alloc(64 * 1024, "x");
      res.write('{"code":200,"pad":"');
      const pump = () => {
        while (hugeSent < 200 * 1024 * 1024 && !res.destroyed) {
          hugeSent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end('"}');
      };
      return pump();
    }
    const answers = {
      ok: '{"code":200}',
      refuse: '{"code":403,"msg":"no"}',
      "lt-ok": '{"ltstream_code":200}',
      "lt-refuse": '{"ltstream_code":422}',
    };
    res.end(answers[cbMode]);
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
  delete process.env.OUTBOUND_ALLOW;
  resetEnvForTests();
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
async function postJson(body: string) {
  const r = await fetch(`${base}/api/third/get_token`, {
    method: "POST",
    headers: { "content-type": "application/json", Version: "v1" },
    body,
  });
  return (await r.json()) as { code: number; message: string };
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

describe("LTStream approval and replays", () => {
  it("takes the Laravel extension's answer: {ltstream_code:200} approves, {ltstream_code:422} refuses", async () => {
    cbMode = "lt-ok";
    const ok = await getToken(signature(t.accessKey, t.secret));
    expect(ok.code).toBe(200);
    expect(ok.data!.token).toBeTruthy();
    cbMode = "lt-refuse";
    expect((await getToken(signature(t.accessKey, t.secret))).code).toBe(LT.CALLBACK_REFUSED);
    cbMode = "ok";
  });

  it("refuses a replayed signature inside the signing window (1001), however its digest is spelled", async () => {
    cbMode = "ok";
    const sig = signature(t.accessKey, t.secret);
    expect((await getToken(sig)).code).toBe(200);
    const calls = seen.length;
    expect((await getToken(sig)).code).toBe(LT.BAD_SIGNATURE);
    const upper = sig.replace(/[^.]+$/, (mac) => mac.toUpperCase());
    expect((await getToken(upper)).code).toBe(LT.BAD_SIGNATURE);
    expect(seen.length).toBe(calls); // a replay never reaches the app's callback
    // Concurrent replays: exactly one wins.
    const fresh = signature(t.accessKey, t.secret);
    const codes = await Promise.all([1, 2, 3, 4].map(() => getToken(fresh).then((r) => r.code)));
    expect(codes.sort((a, b) => a - b)).toEqual([200, LT.BAD_SIGNATURE, LT.BAD_SIGNATURE, LT.BAD_SIGNATURE]);
  });

  it("answers 2001 without an error log to a signature that is not a string, or a body that is not JSON", async () => {
    const errors = vi.spyOn(log, "error");
    try {
      const good = signature(t.accessKey, t.secret);
      for (const body of [
        JSON.stringify({ signature: [good] }),
        JSON.stringify({ signature: 12345 }),
        JSON.stringify({ signature: { a: good } }),
        JSON.stringify({ signature: null }),
        "null",
        "[1,2]",
        '{"signature":',
      ])
        expect([body, (await postJson(body)).code]).toEqual([body, LT.BAD_PARAMS]);
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
  });
});

describe("LTStream callback on internal addresses", () => {
  it("refuses a callback at 127.0.0.1 unless OUTBOUND_ALLOW lists it: 1005, at once, never called", async () => {
    cbMode = "ok";
    allowLoopback(false);
    try {
      const calls = seen.length;
      const started = Date.now();
      const r = await getToken(signature(t.accessKey, t.secret));
      expect(r.code).toBe(LT.CALLBACK_REFUSED);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(seen.length).toBe(calls);
    } finally {
      allowLoopback(true);
    }
    expect((await getToken(signature(t.accessKey, t.secret))).code).toBe(200);
  });

  it("cuts off a huge callback answer: refused (1005) quickly, without reading it", async () => {
    cbMode = "huge";
    try {
      const started = Date.now();
      const r = await getToken(signature(t.accessKey, t.secret));
      expect(r.code).toBe(LT.CALLBACK_REFUSED);
      await hugeClosed;
      expect(Date.now() - started).toBeLessThan(2000);
      expect(hugeSent).toBeLessThan(16 * 1024 * 1024);
    } finally {
      cbMode = "ok";
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
    // The extension's other URLs: the MPEG-TS main stream, and codes that are not room numbers.
    const playTs = async (code: number | string, tok: string) => {
      const r = await fetch(`${base}/live/${code}.ts?type=1&token=${tok}`);
      return [r.status, ((await r.json()) as { code: number }).code];
    };
    expect(await play("not-a-number", token)).toEqual([404, LT.NO_STREAM]);
    expect(await playTs("not-a-number", token)).toEqual([404, LT.NO_STREAM]);
    expect(await playTs(987654321, token)).toEqual([404, LT.NO_STREAM]);
    expect(await playTs(room.num, "bogus.token")).toEqual([401, LT.BAD_TOKEN]);
    expect(await playTs(room.num, token)).toEqual([502, LT.PULL_FAILED]);
  });
});
