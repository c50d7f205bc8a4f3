// Contract tests for Polyv push (seed 002): the seed's worked examples as vectors, teacher_login
// returning a push URL that is the room's (and locked against password guessing), channel rename,
// and listUsers from real presence, showing nobody's ids.
import { randomInt, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { clearHits } from "../../limits";
import { channelPassword } from "../../media/keys";
import { presenceBuffer } from "../../presence/buffer";
import { awayFromWindowEdge, callerOf, makeTenant, type Tenant } from "../../../test/helpers";
import { createPolyvHandler, LOGIN_LIMITS, loginKeys, polyvSign } from ".";

let t: Tenant;
let server: http.Server;
let base: string;
beforeAll(async () => {
  t = await makeTenant();
  const h = createPolyvHandler();
  server = http.createServer((req, res) => void (h(req, res) || res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const form = (path: string, body: Record<string, string>, from?: string) =>
  fetch(`${base}${path}`, {
    method: "POST",
    // The front process passes the client's address on as x-forwarded-for.
    headers: { "content-type": "application/x-www-form-urlencoded", ...(from ? { "x-forwarded-for": from } : {}) },
    body: new URLSearchParams(body).toString(),
  });

/** A client address of its own, so runs sharing the database within the window do not collide. */
const someAddress = () => `198.51.${randomInt(0, 256)}.${randomInt(1, 255)}`;

async function login(room: { num: number }, password: string, from: string) {
  const passwd = polyvSign.passwd(password);
  const ts = String(Date.now());
  const num = String(room.num);
  const r = await form(
    "/api/v2/teacher_login.json",
    { passwd, timestamp: ts, number: num, account: num, sign: polyvSign.login(num, passwd, ts) },
    from,
  );
  return {
    status: r.status,
    retryAfter: r.headers.get("retry-after"),
    body: (await r.json()) as Record<string, unknown>,
  };
}

describe("Polyv sign rules (the seed's worked examples)", () => {
  it("passwd, login sign and channel-set sign", () => {
    expect(polyvSign.passwd("461666")).toBe("aeb0e56d32d841cbc52b0ed18721167e");
    expect(polyvSign.login("153884", "aeb0e56d32d841cbc52b0ed18721167e", "1516327146366")).toBe(
      "32046e6a4bab8d95de9e5bc6fc4630e7",
    );
    expect(polyvSign.channelSet("153884", "小程序推流测试test")).toBe("03395ED7F948A6F8CC63A5EEBA21CCB7");
  });
});

describe("Polyv API", () => {
  it("teacher_login → {url, stream} whose concatenation is the room's push URL; bad passwd/sign/time refused", async () => {
    const room = await callerOf(t.host).rooms.create({ title: "polyv" });
    const push = await callerOf(t.host).media.pushInfo({ room: room.id });
    expect(push.channelPassword).toBe(channelPassword(room));
    const passwd = polyvSign.passwd(push.channelPassword);
    const ts = String(Date.now());
    const ok = await form("/api/v2/teacher_login.json", {
      passwd,
      timestamp: ts,
      number: String(room.num),
      account: String(room.num),
      sign: polyvSign.login(String(room.num), passwd, ts),
    });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { url: string; stream: string };
    expect(Object.keys(body).sort()).toEqual(["stream", "url"]);
    expect(body.url + body.stream).toBe(push.rtmp_url);
    const wrongPw = polyvSign.passwd("00000000");
    expect(
      (
        await form("/api/v2/teacher_login.json", {
          passwd: wrongPw,
          timestamp: ts,
          number: String(room.num),
          account: String(room.num),
          sign: polyvSign.login(String(room.num), wrongPw, ts),
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await form("/api/v2/teacher_login.json", {
          passwd,
          timestamp: ts,
          number: String(room.num),
          account: String(room.num),
          sign: "0".repeat(32),
        })
      ).status,
    ).toBe(403);
    const old = String(Date.now() - 3600_000);
    expect(
      (
        await form("/api/v2/teacher_login.json", {
          passwd,
          timestamp: old,
          number: String(room.num),
          account: String(room.num),
          sign: polyvSign.login(String(room.num), passwd, old),
        })
      ).status,
    ).toBe(403);
    const missing = await form("/api/v2/teacher_login.json", { number: String(room.num) });
    expect([missing.status, ((await missing.json()) as { status: string }).status]).toEqual([400, "error"]);
  });

  it("channel update renames the room, exactly as the seed signs it", async () => {
    const room = await callerOf(t.host).rooms.create({ title: "before" });
    const name = "小程序推流测试test";
    const ok = await form(`/v1/channels/${room.num}/update`, {
      name,
      ptime: String(Date.now()),
      sign: polyvSign.channelSet(String(room.num), name),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "success", result: "update channel successfully" });
    expect((await callerOf(t.host).rooms.get({ room: room.id })).title).toBe(name);
    expect(
      (
        await form(`/v1/channels/${room.num}/update`, {
          name: "x",
          ptime: String(Date.now()),
          sign: polyvSign.channelSet(String(room.num), "y"),
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await form(`/v1/channels/999999999/update`, {
          name: "x",
          ptime: String(Date.now()),
          sign: polyvSign.channelSet("999999999", "x"),
        })
      ).status,
    ).toBe(404);
  });

  it("listUsers counts the room's online members and shows only public nicks, never ids", async () => {
    const room = await callerOf(t.host).rooms.create({ title: "chat" });
    await callerOf(t.host).rooms.start({ room: room.id });
    await callerOf(t.host).presence.join({ room: room.id, nick: "Teacher Li" });
    const v = await callerOf(t.viewer).presence.join({ room: room.id });
    await callerOf(t.viewer2).presence.join({ room: room.id, nick: "Xiao Wang" });
    const guestId = randomUUID();
    await callerOf({ kind: "anonymous" }).presence.join({ room: room.id, guestId, nick: "a guest" });
    await callerOf({ kind: "anonymous" }).presence.heartbeat({ token: v.presenceToken, likes: 1 });
    await presenceBuffer.flush(getDb());
    const r = await fetch(`${base}/front/listUsers?roomId=${room.num}`);
    const text = await r.text();
    const body = JSON.parse(text) as { count: number; userlist: Array<Record<string, string>> };
    expect(body.count).toBe(4);
    expect(body.userlist.map((u) => u.userType).sort()).toEqual(["student", "student", "student", "teacher"]);
    for (const u of body.userlist) expect(Object.keys(u).sort()).toEqual(["nick", "pic", "userType"]);
    // A nick nobody chose is the sign-in name: it is left blank rather than shown.
    expect(body.userlist.map((u) => u.nick).sort()).toEqual(["", "Teacher Li", "Xiao Wang", "a guest"]);
    for (const secret of [t.host.userId, t.viewer.userId, t.viewer2.userId, guestId, t.viewer.username])
      expect(text).not.toContain(secret);
    expect(text).not.toContain("guest:");
    expect((await fetch(`${base}/front/listUsers?roomId=nope`)).status).toBe(400);
  });
});

describe("Polyv channel password guessing", () => {
  it(`locks a channel after ${LOGIN_LIMITS.channel.max} wrong passwords from anywhere; the right one is refused too`, async () => {
    await awayFromWindowEdge(LOGIN_LIMITS.channel.windowS);
    const room = await callerOf(t.host).rooms.create({ title: "guessed" });
    const { channelPassword: right } = await callerOf(t.host).media.pushInfo({ room: room.id });
    const wrong = (i: number) => String((Number(right) + 1 + i) % 100_000_000).padStart(8, "0");
    for (let i = 0; i < LOGIN_LIMITS.channel.max; i++)
      expect((await login(room, wrong(i), someAddress())).status).toBe(403);
    const locked = await login(room, wrong(99), someAddress());
    expect(locked.status).toBe(429);
    expect(locked.body).toEqual({ status: "error", code: 429, message: expect.any(String) });
    const wait = Number(locked.retryAfter);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(LOGIN_LIMITS.channel.windowS);
    const refused = await login(room, right, someAddress());
    expect([refused.status, refused.body.code]).toEqual([429, 429]);
    expect(refused.body).not.toHaveProperty("url");
    // Unlocked, the right password works again (another window, simulated by clearing the counter).
    await clearHits(getDb(), loginKeys.channel(room.num));
    expect((await login(room, right, someAddress())).status).toBe(200);
  });

  it("a successful login clears the channel's failures", async () => {
    await awayFromWindowEdge(LOGIN_LIMITS.channel.windowS);
    const room = await callerOf(t.host).rooms.create({ title: "host typos" });
    const { channelPassword: right } = await callerOf(t.host).media.pushInfo({ room: room.id });
    const wrong = String((Number(right) + 1) % 100_000_000).padStart(8, "0");
    const from = someAddress();
    await clearHits(getDb(), loginKeys.address(from));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < LOGIN_LIMITS.channel.max - 1; i++) expect((await login(room, wrong, from)).status).toBe(403);
      expect((await login(room, right, from)).status).toBe(200);
    }
  });

  it(`locks a client address after ${LOGIN_LIMITS.address.max} wrong passwords across channels`, async () => {
    await awayFromWindowEdge(LOGIN_LIMITS.address.windowS);
    const from = someAddress();
    await clearHits(getDb(), loginKeys.address(from));
    const perRoom = LOGIN_LIMITS.channel.max;
    const rooms = await Promise.all(
      Array.from({ length: Math.ceil(LOGIN_LIMITS.address.max / perRoom) + 1 }, (_, i) =>
        callerOf(t.host).rooms.create({ title: `spray ${i}` }),
      ),
    );
    const target = rooms.pop()!;
    let failures = 0;
    for (const room of rooms)
      for (let i = 0; i < perRoom && failures < LOGIN_LIMITS.address.max; i++, failures++)
        expect((await login(room, "00000000", from)).status).toBe(403);
    const { channelPassword: right } = await callerOf(t.host).media.pushInfo({ room: target.id });
    const locked = await login(target, right, from);
    expect([locked.status, locked.body.status]).toEqual([429, "error"]);
    expect(Number(locked.retryAfter)).toBeGreaterThan(0);
    // Another address is not locked out.
    expect((await login(target, right, someAddress())).status).toBe(200);
    await clearHits(getDb(), loginKeys.address(from));
  });

  it("counts an IPv6 client by its /64", () => {
    expect(loginKeys.address("2001:db8:1:2:aaaa::1")).toBe(loginKeys.address("2001:db8:1:2:bbbb::9"));
    expect(loginKeys.address("2001:db8:1:3::1")).not.toBe(loginKeys.address("2001:db8:1:2::1"));
    expect(loginKeys.address("203.0.113.5")).not.toBe(loginKeys.address("203.0.113.6"));
  });
});
