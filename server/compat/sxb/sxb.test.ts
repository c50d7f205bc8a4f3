// Contract tests for the 随心播 API (seed 001): every command over HTTP with the seed's envelope,
// field names and error codes; heartbeat through the front process; Tencent callbacks; and the
// same room seen through the AUI API.
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { getDb } from "../../db/client";
import { users } from "../../db/schema";
import { resetEnvForTests } from "../../env";
import { createFrontServer } from "../../front/server";
import { presenceBuffer } from "../../presence/buffer";
import { vendorKeys } from "../../media/urls";
import { callerOf, makeTenant, postAlone, type Tenant } from "../../../test/helpers";
import { createAuiHandler } from "../aui";
import { createSxbHandler, SXB } from ".";

let t: Tenant;
let web: http.Server;
let front: http.Server;
let base: string;
beforeAll(async () => {
  t = await makeTenant();
  // 随心播 clients create rooms right after signing up: this app makes sign-ups hosts.
  await callerOf(t.root).apps.update({ id: t.app.id, signupRole: "host" });
  process.env.COMPAT_SXB_APP_ID = String(t.app.id);
  resetEnvForTests();
  const sxb = createSxbHandler();
  const aui = createAuiHandler();
  web = http.createServer((req, res) => {
    if (!sxb(req, res) && !aui(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
  front = createFrontServer({ webOrigin: `http://127.0.0.1:${(web.address() as AddressInfo).port}` });
  await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});
afterAll(async () => {
  delete process.env.COMPAT_SXB_APP_ID;
  resetEnvForTests();
  await new Promise((r) => front.close(r));
  await new Promise((r) => web.close(r));
});

async function call(svc: string, cmd: string, body: unknown, prefix = "/sxb/index.php") {
  const r = await fetch(`${base}${prefix}?svc=${svc}&cmd=${cmd}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  expect(r.status).toBe(200); // errors travel in the envelope: clients drop non-2xx bodies
  return (await r.json()) as { errorCode: number; errorInfo: string; data?: any };
}
const pwd = (s: string) => Buffer.from(s).toString("base64");
let n = 0;
async function account() {
  const id = `sxb_${Date.now().toString(36)}_${n++}`;
  expect(await call("account", "regist", { id, pwd: pwd("secret-pass-1") })).toEqual({ errorCode: 0, errorInfo: "" });
  const login = await call("account", "login", { id, pwd: pwd("secret-pass-1") });
  expect(login.errorCode).toBe(0);
  expect(Object.keys(login.data).sort()).toEqual(["token", "userSig"]);
  return { id, token: login.data.token as string };
}

describe("随心播 accounts", () => {
  it("sign-ups get the role the app names: viewers (the default) cannot create rooms", async () => {
    await callerOf(t.root).apps.update({ id: t.app.id, signupRole: "viewer" });
    try {
      const v = await account();
      const created = await call("live", "create", { token: v.token, type: "live" });
      expect(created.errorCode).not.toBe(0);
      expect(created.data).toBeUndefined();
    } finally {
      await callerOf(t.root).apps.update({ id: t.app.id, signupRole: "host" });
    }
    const h = await account();
    expect((await call("live", "create", { token: h.token, type: "live" })).errorCode).toBe(0);
  });

  it("regist / login / logout with base64 passwords and the seed's codes", async () => {
    const a = await account();
    expect((await call("account", "regist", { id: a.id, pwd: pwd("x-other-pass") })).errorCode).toBe(SXB.USER_EXISTS);
    expect((await call("account", "login", { id: a.id, pwd: pwd("wrong-pass-1") })).errorCode).toBe(SXB.BAD_PASSWORD);
    expect((await call("account", "login", { id: "nobody_at_all", pwd: pwd("whatever-1") })).errorCode).toBe(
      SXB.NO_USER,
    );
    expect((await call("account", "logout", { token: a.token })).errorCode).toBe(0);
    expect((await call("account", "logout", { token: a.token })).errorCode).toBe(SXB.RELOGOUT);
    expect((await call("live", "roomlist", { token: a.token, index: 0, size: 10 })).errorCode).toBe(SXB.TOKEN_EXPIRED);
  });

  it("answers 10001 unknown command, 10002 bad JSON, 10003 bad data, 10009 missing token", async () => {
    expect((await call("live", "nosuch", {})).errorCode).toBe(SXB.BAD_REQUEST);
    expect((await call("account", "login", "{not json")).errorCode).toBe(SXB.BAD_JSON);
    expect((await call("account", "login", { id: "x" })).errorCode).toBe(SXB.BAD_DATA);
    expect((await call("live", "create", { type: "live" })).errorCode).toBe(SXB.TOKEN_EXPIRED);
    const e = await call("live", "create", { token: "abc.def.ghi", type: "live" }, "/index.php");
    expect(e).toMatchObject({ errorCode: SXB.TOKEN_EXPIRED, errorInfo: expect.any(String) });
  });
});

describe("随心播 commands by name", () => {
  it("takes only a command's own name: an inherited one (constructor, toString) is unknown, with or without a token", async () => {
    const a = await account();
    for (const [svc, cmd] of [
      ["account", "constructor"],
      ["account", "toString"],
      ["account", "__proto__"],
      ["live", "constructor"],
      ["live", "hasOwnProperty"],
      ["live", "valueOf"],
    ]) {
      // Before, Object's constructor ran as the command and its answer (the database handle) could
      // not be written: an unhandled rejection, which ends the process.
      for (const body of [{}, { token: a.token }])
        expect(await call(svc!, cmd!, body)).toEqual({
          errorCode: SXB.BAD_REQUEST,
          errorInfo: `unknown svc/cmd: ${svc}/${cmd}`,
        });
    }
    expect((await call("live", "roomlist", { token: a.token, index: 0, size: 1 })).errorCode).toBe(0);
  });
});

describe("随心播 anti-tamper sign (per app)", () => {
  it("when the app requires it: a missing or wrong sign answers 10001; md5(path?svc&cmd&timeStamp + secret) passes", async () => {
    const a = await account();
    const { callerOf } = await import("../../../test/helpers");
    await callerOf(t.root).apps.update({ id: t.app.id, sxbSign: true });
    try {
      expect((await call("live", "roomlist", { token: a.token, index: 0, size: 5 })).errorCode).toBe(SXB.BAD_REQUEST);
      const ts = String(Math.floor(Date.now() / 1000));
      const { sxbSignature } = await import(".");
      const sign = sxbSignature("/sxb/index.php", "live", "roomlist", ts, t.secret);
      const r = await fetch(`${base}/sxb/index.php?svc=live&cmd=roomlist&timeStamp=${ts}&sign=${sign}`, {
        method: "POST",
        body: JSON.stringify({ token: a.token, index: 0, size: 5 }),
      });
      expect(((await r.json()) as { errorCode: number }).errorCode).toBe(0);
      const wrong = await fetch(`${base}/sxb/index.php?svc=live&cmd=roomlist&timeStamp=${ts}&sign=${"0".repeat(32)}`, {
        method: "POST",
        body: JSON.stringify({ token: a.token, index: 0, size: 5 }),
      });
      expect(((await wrong.json()) as { errorCode: number }).errorCode).toBe(SXB.BAD_REQUEST);
    } finally {
      await callerOf(t.root).apps.update({ id: t.app.id, sxbSign: false });
    }
  });
});

describe("随心播 heartbeat on the front", () => {
  it("takes the role from the server, refuses kicked members and applies the app's sign rule", async () => {
    const host = await account();
    const viewer = await account();
    const roomnum = (await call("live", "create", { token: host.token, type: "live" })).data.roomnum as number;
    await call("live", "reportroom", { token: host.token, room: { title: "hb", roomnum } });
    // A viewer claiming to be the host (role 1) is still audience.
    expect((await call("live", "heartbeat", { token: viewer.token, roomnum, role: 1, thumbup: 1 })).errorCode).toBe(0);
    await presenceBuffer.flush(getDb());
    const ids = await call("live", "roomidlist", { token: viewer.token, roomnum, index: 0, size: 10 });
    expect(ids.data.idlist).toEqual([{ id: expect.any(String), role: 0 }]);

    // Kicked: the heartbeat is refused and nothing is recorded.
    const members = await callerOf(t.admin).presence.members({ room: roomnum, onlineOnly: false });
    await callerOf(t.admin).presence.kick({ room: roomnum, memberId: members.items[0]!.memberId });
    expect((await call("live", "heartbeat", { token: viewer.token, roomnum, role: 0, thumbup: 9 })).errorCode).toBe(
      SXB.BAD_REQUEST,
    );

    const other = await account();
    await callerOf(t.root).apps.update({ id: t.app.id, sxbSign: true });
    try {
      await new Promise((r) => setTimeout(r, 1100)); // the front's one-second room cache
      expect((await call("live", "heartbeat", { token: other.token, roomnum, role: 0 })).errorCode).toBe(
        SXB.BAD_REQUEST,
      );
    } finally {
      await callerOf(t.root).apps.update({ id: t.app.id, sxbSign: false });
    }
  });
});

describe("随心播 heartbeat from the connection's bytes", () => {
  it("answers as the route does, errors too, records the beat, and leaves a room not read yet to the route", async () => {
    const fast = front as ReturnType<typeof createFrontServer>;
    const host = await account();
    const [viewer, viewer2] = [await account(), await account()];
    const roomnum = (await call("live", "create", { token: host.token, type: "live" })).data.roomnum as number;
    await call("live", "reportroom", { token: host.token, room: { title: "fast hb", roomnum } });
    /** A beat on a connection of its own; `chunked`: a body the fast path leaves to the route. */
    const beat = async (body: unknown, chunked = false) => {
      const [before, laterBefore] = [fast.fastPath.answered, fast.fastPath.answeredLater];
      const r = await postAlone(
        `${base}/sxb/index.php?svc=live&cmd=heartbeat`,
        JSON.stringify(body),
        chunked ? { "transfer-encoding": "chunked" } : {},
      );
      return { ...r, fast: fast.fastPath.answered - before, later: fast.fastPath.answeredLater - laterBefore };
    };
    // The room is not read yet on this front: answered once it is read; then at once.
    const first = await beat({ token: viewer.token, roomnum, thumbup: 1 });
    expect([first.status, first.fast, first.later, JSON.parse(first.text).errorCode]).toEqual([200, 1, 1, 0]);
    const quick = await beat({ token: viewer2.token, roomnum, role: 1, thumbup: 2 });
    expect([quick.fast, quick.later]).toEqual([1, 0]);
    const route = await beat({ token: viewer.token, roomnum, thumbup: 1 }, true);
    expect(route.fast).toBe(0);
    for (const a of [first, quick]) expect([a.text, a.headers]).toEqual([route.text, route.headers]);
    // Errors: the route's envelope, byte for byte (a room never read is read first either way).
    for (const body of [
      { token: "not-a-token-at-all", roomnum },
      { token: viewer.token, roomnum: "abc" },
      { token: viewer.token },
      { token: host.token, roomnum: 999999999 },
    ]) {
      const [f, s] = [await beat(body), await beat(body, true)];
      expect(s.fast).toBe(0);
      expect(JSON.parse(f.text).errorCode).not.toBe(0);
      expect([f.status, f.text]).toEqual([s.status, s.text]);
    }
    // What the fast path recorded: viewer2 is a member, as audience whatever role it claimed.
    await presenceBuffer.flush(getDb());
    const ids = await call("live", "roomidlist", { token: viewer.token, roomnum, index: 0, size: 10 });
    expect(ids.data.idlist).toContainEqual({ id: viewer2.id, role: 0 });
    const [v2] = await getDb().select({ id: users.id }).from(users).where(eq(users.username, viewer2.id));
    const members = await callerOf(t.admin).presence.members({ room: roomnum, onlineOnly: false });
    expect(members.items.find((m) => m.memberId === v2!.id)?.likes).toBe(2);
    // Kicked: refused on the fast path too (the room is still the one read); the others beat on.
    await callerOf(t.admin).presence.kick({ room: roomnum, memberId: v2!.id });
    const out = await beat({ token: viewer2.token, roomnum });
    const still = await beat({ token: viewer.token, roomnum });
    expect([out.fast, JSON.parse(out.text).errorCode]).toEqual([1, SXB.BAD_REQUEST]);
    expect([still.fast, JSON.parse(still.text).errorCode]).toEqual([1, 0]);
    // A room beaten on is read again in the background before its second is over: none of its
    // beats waits for its read.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const b = await beat({ token: viewer.token, roomnum });
      expect([b.fast, b.later]).toEqual([1, 0]);
    }
  });
});

describe("随心播 roomlist shared by its callers", () => {
  it("answers every caller the same bytes while the page is the same, and a write shows at once", async () => {
    const host = await account();
    const [v1, v2] = [await account(), await account()];
    const raw = async (token: string) => {
      const r = await fetch(`${base}/sxb/index.php?svc=live&cmd=roomlist`, {
        method: "POST",
        body: JSON.stringify({ token, type: "live", index: 0, size: 100 }),
      });
      return r.text();
    };
    const rooms = (text: string) =>
      (JSON.parse(text) as { data: { rooms: Array<{ uid: string; info: { roomnum: number; title: string } }> } }).data
        .rooms;
    const roomnum = (await call("live", "create", { token: host.token })).data.roomnum as number;
    await call("live", "reportroom", { token: host.token, room: { title: "shared one", roomnum } });
    const [a, b] = [await raw(v1.token), await raw(v2.token)];
    expect(a).toBe(b);
    expect(rooms(a).find((r) => r.info.roomnum === roomnum)).toMatchObject({
      uid: host.id,
      info: { title: "shared one" },
    });
    // A write (a rename, a room going live) is in the next answer, whoever asks.
    await call("live", "reportroom", { token: host.token, room: { title: "renamed 改名", roomnum } });
    const other = (await call("live", "create", { token: host.token })).data.roomnum as number;
    await call("live", "reportroom", { token: host.token, room: { title: "second", roomnum: other } });
    const after = rooms(await raw(v1.token));
    expect(after.find((r) => r.info.roomnum === roomnum)?.info.title).toBe("renamed 改名");
    expect(after.find((r) => r.info.roomnum === other)?.info.title).toBe("second");
    expect(await raw(v2.token)).toBe(await raw(v1.token));
  });
});

describe("随心播 live", () => {
  it("create → reportroom → roomlist → reportmemid → heartbeat → roomidlist → request → reportstatus → exitroom", async () => {
    const host = await account();
    const viewer = await account();
    const c = await call("live", "create", { token: host.token, type: "live" });
    expect(c.errorCode).toBe(0);
    expect(Object.keys(c.data).sort()).toEqual(["groupid", "roomnum"]);
    const roomnum = c.data.roomnum as number;
    expect(typeof roomnum).toBe("number");
    expect(c.data.groupid).toBe(String(roomnum));
    expect((await call("live", "getroomplayurl", { token: viewer.token, roomnum })).errorCode).toBe(SXB.NOT_LIVE);

    expect(
      (
        await call("live", "reportroom", {
          token: host.token,
          room: {
            title: "标题",
            roomnum,
            type: "live",
            groupid: String(roomnum),
            cover: "http://cover.png",
            // The Tencent SDK app id the client runs under (the seed's example), not onair's app id.
            appid: 1400019352,
            device: 0,
            videotype: 0,
          },
        })
      ).errorCode,
    ).toBe(0);
    const list = await call("live", "roomlist", {
      token: viewer.token,
      type: 1,
      index: 0,
      size: 50,
      appid: 1400019352,
    });
    expect(list.errorCode).toBe(0);
    // Clients filter by the SDK app id: another one does not see the room, none (0) sees every room.
    const otherSdk = await call("live", "roomlist", { token: viewer.token, type: "live", size: 50, appid: 1400000001 });
    expect(otherSdk.data.rooms.some((r: { info: { roomnum: number } }) => r.info.roomnum === roomnum)).toBe(false);
    const anySdk = await call("live", "roomlist", { token: viewer.token, type: "live", size: 50, appid: 0 });
    expect(anySdk.data.rooms.some((r: { info: { roomnum: number } }) => r.info.roomnum === roomnum)).toBe(true);
    const mine = list.data.rooms.find((r: { info: { roomnum: number } }) => r.info.roomnum === roomnum);
    expect(Object.keys(mine).sort()).toEqual(["info", "uid"]);
    // The host as the client knows them: the id it registered, not onair's internal user id.
    expect(mine.uid).toBe(host.id);
    expect(mine.info).toEqual({
      title: "标题",
      roomnum,
      type: "live",
      groupid: String(roomnum),
      cover: "http://cover.png",
      thumbup: 0,
      memsize: 0,
    });
    expect(list.data.total).toBeGreaterThanOrEqual(1);

    expect(
      (await call("live", "reportmemid", { token: host.token, id: host.id, roomnum, role: 1, operate: 0 })).errorCode,
    ).toBe(0);
    expect(
      (await call("live", "reportmemid", { token: viewer.token, id: viewer.id, roomnum, role: 0, operate: 0 }))
        .errorCode,
    ).toBe(0);
    // Heartbeats (answered by the front) carry the running like total: repeats never double count.
    for (const thumbup of [3, 5, 5, 4])
      expect((await call("live", "heartbeat", { token: viewer.token, roomnum, role: 0, thumbup })).errorCode).toBe(0);
    expect((await call("live", "heartbeat", { token: viewer.token, roomnum: 999999999, role: 0 })).errorCode).toBe(
      SXB.NO_ROOM,
    );
    await presenceBuffer.flush(getDb());
    const ids = await call("live", "roomidlist", { token: viewer.token, roomnum, index: 0, size: 10 });
    expect(ids.data.total).toBe(2);
    expect(ids.data.idlist.map((x: { role: number }) => x.role).sort()).toEqual([0, 1]);
    expect(ids.data.idlist.map((x: { id: string }) => x.id).sort()).toEqual([host.id, viewer.id].sort());
    // A role is the server's to know: a viewer claiming to be the host is listed as audience.
    const claimer = await account();
    expect(
      (await call("live", "reportmemid", { token: claimer.token, id: claimer.id, roomnum, role: 1, operate: 0 }))
        .errorCode,
    ).toBe(0);
    const claimed = await call("live", "roomidlist", { token: viewer.token, roomnum, index: 0, size: 10 });
    expect(claimed.data.idlist.find((x: { id: string }) => x.id === claimer.id)).toEqual({ id: claimer.id, role: 0 });
    // operate 1 takes the member out again.
    expect(
      (await call("live", "reportmemid", { token: claimer.token, id: claimer.id, roomnum, role: 0, operate: 1 }))
        .errorCode,
    ).toBe(0);
    const out = await call("live", "roomidlist", { token: viewer.token, roomnum, index: 0, size: 10 });
    expect(out.data.idlist.map((x: { id: string }) => x.id).sort()).toEqual([host.id, viewer.id].sort());
    expect(Object.keys(ids.data.idlist[0]).sort()).toEqual(["id", "role"]);

    // The same room through the AUI API: a 随心播 heartbeat moved its metrics.
    const auiLogin = (await (
      await fetch(`${base}/api/v1/live/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        // A 随心播 account's password is its `pwd` as the client sent it (here base64).
        body: JSON.stringify({ username: host.id, password: pwd("secret-pass-1") }),
      })
    ).json()) as { token: string };
    const rooms = (await (
      await fetch(`${base}/api/v1/live/list`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${auiLogin.token}` },
        body: JSON.stringify({ page_num: 1, page_size: 50, status: 1, user_id: host.id }),
      })
    ).json()) as Array<{ chat_id: string; title: string; metrics: { like_count: number; online_count: number } }>;
    const same = rooms.find((r) => r.chat_id === String(roomnum))!;
    expect(same).toMatchObject({ title: "标题", metrics: { like_count: 5, online_count: 2 } });

    const play = await call("live", "getroomplayurl", { token: viewer.token, roomnum });
    expect(Object.keys(play.data).sort()).toEqual(["address", "address2", "address3", "cover"]);
    expect(play.data.address).toMatch(/\.flv\?token=/);
    const streams = await call("live", "livestreamlist", { token: viewer.token, index: 0, size: 50 });
    expect(
      streams.data.videos.some((v: { address: string }) => v.address.split("?")[0] === play.data.address.split("?")[0]),
    ).toBe(true);
    expect(Object.keys(streams.data.videos[0]).sort()).toEqual(["address", "address2", "address3", "cover", "uid"]);

    expect((await call("live", "request", { token: viewer.token, roomnum })).errorCode).toBe(0);
    expect((await call("live", "request", { token: viewer.token, roomnum })).errorCode).not.toBe(0);
    // The host approved over the clients' IM (which the server never sees): the viewer goes on the mic.
    expect((await call("live", "reportstatus", { token: viewer.token, roomnum, status: "on" })).errorCode).toBe(0);
    // On the mic, the member reports itself again with role 2 and is listed so.
    expect(
      (await call("live", "reportmemid", { token: viewer.token, id: viewer.id, roomnum, role: 2, operate: 0 }))
        .errorCode,
    ).toBe(0);
    const onMic = await call("live", "roomidlist", { token: host.token, roomnum, index: 0, size: 10 });
    expect(onMic.data.idlist).toEqual([
      { id: host.id, role: 1 },
      { id: viewer.id, role: 2 },
    ]);
    expect((await call("live", "reportstatus", { token: viewer.token, roomnum, status: "off" })).errorCode).toBe(0);
    expect((await call("live", "exitroom", { token: viewer.token, roomnum, type: "live" })).errorCode).toBe(0);
    expect((await call("live", "exitroom", { token: host.token, roomnum, type: "live" })).errorCode).toBe(0);
    expect((await call("live", "getroomplayurl", { token: viewer.token, roomnum })).errorCode).toBe(SXB.NOT_LIVE);
    expect((await call("live", "reportmemid", { token: viewer.token, roomnum: 987654321, role: 0 })).errorCode).toBe(
      SXB.NO_ROOM,
    );
  });

  it("reportrecord + Tencent record callback → recordlist; push/stop callbacks drive the room", async () => {
    const host = await account();
    const roomnum = (await call("live", "create", { token: host.token, type: "live" })).data.roomnum as number;
    const { findRoom } = await import("../../rooms");
    const room = await findRoom(getDb(), { kind: "system", appId: null, via: "test" }, roomnum);
    const key = vendorKeys(t.secret).callbackKey;
    const now = Math.floor(Date.now() / 1000);
    // Each callback Tencent sends carries its own t (a captured one cannot be replayed).
    let seq = 0;
    const cb = (event_type: number, extra: object = {}, tt = now + seq++) =>
      call("live", "callback", {
        event_type,
        t: tt,
        sign: createHash("md5")
          .update(key + tt)
          .digest("hex"),
        stream_id: room.streamName,
        ...extra,
      });
    expect((await cb(1, {}, now - 5)).errorCode).toBe(0);
    expect((await findRoom(getDb(), { kind: "system", appId: null, via: "t" }, roomnum)).status).toBe("live");
    // The same (t, sign) again — as is, or pointed at another room of the app — is refused.
    const other = (await call("live", "create", { token: host.token, type: "live" })).data.roomnum as number;
    const otherRoom = await findRoom(getDb(), { kind: "system", appId: null, via: "test" }, other);
    expect((await cb(1, {}, now - 5)).errorCode).toBe(SXB.BAD_REQUEST);
    expect((await cb(1, { stream_id: otherRoom.streamName }, now - 5)).errorCode).toBe(SXB.BAD_REQUEST);
    expect((await findRoom(getDb(), { kind: "system", appId: null, via: "t" }, other)).status).toBe("prepare");
    expect(
      (await call("live", "callback", { event_type: 1, t: now, sign: "0".repeat(32), stream_id: room.streamName }))
        .errorCode,
    ).not.toBe(0);
    expect((await cb(1, {}, now - 3600)).errorCode).not.toBe(0);

    expect(
      (
        await call("live", "reportrecord", {
          token: host.token,
          roomnum,
          uid: host.id,
          name: "我的录制",
          type: 0,
          cover: "http://cover.png",
        })
      ).errorCode,
    ).toBe(0);
    expect(
      (await cb(100, { video_url: "http://vod.example.test/a.mp4", duration: 61, file_size: 1234 })).errorCode,
    ).toBe(0);
    const rec = await call("live", "recordlist", { token: host.token, type: 0, index: 0, size: 50 });
    const v = rec.data.videos.find((x: { playurl: string }) => x.playurl === "http://vod.example.test/a.mp4");
    expect(v).toMatchObject({
      uid: expect.any(String),
      cover: "http://cover.png",
      videoId: expect.any(String),
      playurl: "http://vod.example.test/a.mp4",
    });
    expect((await cb(0)).errorCode).toBe(0);
    expect((await findRoom(getDb(), { kind: "system", appId: null, via: "t" }, roomnum)).status).toBe("paused");
  });
});
