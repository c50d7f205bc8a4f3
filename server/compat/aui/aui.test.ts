// Contract tests for the AUI AppServer API (seed 003): paths, field names, status codes and
// models.Status errors as the seed gives them, over HTTP against the real domain and database.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  callerOf,
  ctxOf,
  makeTenant,
  ManualClock,
  orNotFound,
  PASSWORD,
  serve,
  type Tenant,
} from "../../../test/helpers";
import { eq } from "drizzle-orm";
import { readsChanged } from "../../cache";
import { getDb } from "../../db/client";
import { env, resetEnvForTests } from "../../env";
import { apps, revocations, sessions } from "../../db/schema";
import { createRoom, findRoom, transitionRoom } from "../../rooms";
import { joinRoom } from "../../presence";
import { systemClock } from "../../clock";
import { memberSubject, signAccessToken, verifyRoomToken } from "../../tokens";
import { REUSE_MS } from "../../tokens/reuse";
import { revocationSet, revoke } from "../../tokens/revocations";
import { createAuiHandler, roomInfo } from ".";

let t: Tenant;
let other: Tenant;
let base: string;
let server: http.Server;
beforeAll(async () => {
  [t, other] = await Promise.all([makeTenant(), makeTenant()]);
  const aui = createAuiHandler();
  server = http.createServer((req, res) => {
    if (!aui(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

async function post(path: string, body: unknown, token?: string) {
  const r = await fetch(`${base}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      // Each call from its own client address (as the front passes it on): sign-in limits per
      // address are the login tests' subject, not this file's.
      "x-forwarded-for": `198.51.100.${Math.floor(Math.random() * 250) + 1}`,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}
const login = async (username: string) => (await post("/login", { username, password: PASSWORD })).body.token as string;

const ROOM_INFO_KEYS = [
  "anchor_id",
  "anchor_nick",
  "chat_id",
  "cover_url",
  "created_at",
  "extends",
  "id",
  "link_info",
  "meeting_id",
  "meeting_info",
  "metrics",
  "mode",
  "notice",
  "pk_id",
  "pull_url_info",
  "push_url_info",
  "started_at",
  "status",
  "stopped_at",
  "title",
  "updated_at",
  "user_status",
  "vod_id",
  "vod_info",
].sort();

describe("AUI AppServer: login and tokens", () => {
  it("POST /login and /api/v1/live/login answer {code:200, expire, token}", async () => {
    for (const path of ["/login", "/api/v1/live/login"]) {
      const r = await post(path, { username: t.host.username, password: PASSWORD });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(["code", "expire", "token"]);
      expect(r.body.code).toBe(200);
      expect(r.body.expire).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(r.body.token.split(".")).toHaveLength(3);
    }
  });

  it("answers models.Status errors: wrong password 401, missing field 400, no bearer 401", async () => {
    const bad = await post("/login", { username: t.host.username, password: "nope-nope" });
    expect(bad).toMatchObject({ status: 401, body: { code: 401, message: expect.any(String) } });
    const missing = await post("/login", { username: t.host.username });
    expect(missing).toMatchObject({
      status: 400,
      body: { code: 400, details: { fields: { password: expect.any(String) } } },
    });
    expect((await post("/api/v1/live/list", { page_num: 1, page_size: 10, user_id: "x" })).status).toBe(401);
    expect((await post("/api/v1/live/list", { page_num: 1, page_size: 10, user_id: "x" }, "a.b.c")).body.code).toBe(
      401,
    );
  });

  it("refresh_token renews a token; /token issues per-device access and refresh tokens", async () => {
    const tok = await login(t.host.username);
    const r = await post("/api/v1/live/refresh_token", {}, tok);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(["code", "expire", "token"]);
    const dev = await post(
      "/api/v1/live/token",
      { device_id: "DEVICE-ID", device_type: "web", user_id: t.host.username },
      r.body.token,
    );
    expect(dev.status).toBe(200);
    expect(Object.keys(dev.body).sort()).toEqual(["access_token", "refresh_token"]);
  });

  it("a second login (another device) leaves the first one signed in", async () => {
    const first = await login(t.host2.username);
    const second = await login(t.host2.username);
    expect(second).not.toBe(first);
    for (const tok of [first, second])
      expect((await post("/api/v1/live/list", { page_num: 1, page_size: 1, user_id: "x" }, tok)).status).toBe(200);
  });

  it("bounds what an access token can be turned into: no refresh long after expiry, no longer-lived session", async () => {
    const tok = await login(t.viewer.username);
    const claims = JSON.parse(Buffer.from(tok.split(".")[1]!, "base64url").toString()) as { sid: string; sub: string };
    // A token that expired two days ago (signed now with an old clock) is not renewed.
    const old = signAccessToken(
      { sub: claims.sub, app: t.app.id, role: "viewer", sid: claims.sid },
      new Date(Date.now() - 3 * 86400_000),
      900,
    );
    expect((await post("/api/v1/live/refresh_token", {}, old.token)).status).toBe(401);
    // /token's device session ends when the session it came from ends, not 30 days later.
    const origin = (await getDb().select().from(sessions).where(eq(sessions.id, claims.sid)))[0]!;
    await getDb()
      .update(sessions)
      .set({ expiresAt: new Date(Date.now() + 3600_000) })
      .where(eq(sessions.id, origin.id));
    const dev = await post(
      "/api/v1/live/token",
      { device_id: "D2", device_type: "web", user_id: t.viewer.username },
      tok,
    );
    const sid = (dev.body.refresh_token as string).split(".")[0]!;
    const made = (await getDb().select().from(sessions).where(eq(sessions.id, sid)))[0]!;
    expect(made.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 3600_000);
  });
});

describe("AUI AppServer: rooms", () => {
  it("create → get → update → start → pause → stop → delete with RoomInfo as the seed names it", async () => {
    const host = await login(t.host.username);
    const created = await post(
      "/api/v1/live/create",
      {
        anchor: t.host.username,
        anchor_nick: "主播nick",
        cover_url: "https://cdn.test/c.png",
        extends: '{"k":"v"}',
        mode: 1,
        notice: "直播公告",
        title: "直播标题",
      },
      host,
    );
    expect(created.status).toBe(200);
    const r = created.body;
    expect(Object.keys(r).sort()).toEqual(ROOM_INFO_KEYS);
    expect(r).toMatchObject({
      title: "直播标题",
      notice: "直播公告",
      cover_url: "https://cdn.test/c.png",
      anchor_id: t.host.username,
      anchor_nick: "主播nick",
      extends: '{"k":"v"}',
      mode: 1,
      status: 0,
    });
    expect(r.metrics).toEqual({ like_count: 0, online_count: 0, pv: 0, uv: 0 });
    expect(Object.keys(r.pull_url_info).sort()).toEqual(["flv_url", "hls_url", "rtmp_url", "rts_url"]);
    expect(Object.keys(r.push_url_info).sort()).toEqual(["rtmp_url", "rts_url", "srt_url"]);
    expect(r.push_url_info.rtmp_url).toMatch(/^rtmp:\/\/.+\/live\/s\w+\?key=pk1_/);
    expect(Object.keys(r.link_info).sort()).toEqual(["cdn_pull_info", "rtc_pull_url", "rtc_push_url"]);
    expect(r.user_status).toEqual({ mute: false, mute_source: [] });
    expect(r.vod_info).toEqual({ status: 0, playlist: [] });
    expect(r.chat_id).not.toBe("");

    // Push URLs go to the anchor only.
    const viewer = await login(t.viewer.username);
    const seen = await post("/api/v1/live/get", { id: r.id, user_id: t.viewer.username }, viewer);
    expect(seen.status).toBe(200);
    expect(seen.body.push_url_info).toEqual({ rtmp_url: "", rts_url: "", srt_url: "" });
    expect(seen.body.pull_url_info.flv_url).toContain("token=");

    const upd = await post("/api/v1/live/update", { id: r.id, title: "新标题", notice: "新公告", extends: "{}" }, host);
    expect(upd.body).toMatchObject({ title: "新标题", notice: "新公告", extends: "{}" });
    expect((await post("/api/v1/live/start", { id: r.id, user_id: t.host.username }, host)).body.status).toBe(1);
    expect((await post("/api/v1/live/start", { id: r.id, user_id: t.host.username }, host)).body.status).toBe(1);
    expect((await post("/api/v1/live/pause", { id: r.id, user_id: t.host.username }, host)).body.status).toBe(0);
    const stopped = await post("/api/v1/live/stop", { id: r.id, user_id: t.host.username }, host);
    expect(stopped.body.status).toBe(2);
    expect(stopped.body.stopped_at).not.toBe("0001-01-01T00:00:00Z");
    const again = await post("/api/v1/live/start", { id: r.id, user_id: t.host.username }, host);
    expect(again).toMatchObject({ status: 412, body: { code: 412 } });
    const del = await post("/api/v1/live/delete", { id: r.id, user_id: t.host.username }, host);
    expect(del.body.id).toBe(r.id);
    expect((await post("/api/v1/live/get", { id: r.id, user_id: t.host.username }, host)).status).toBe(404);
  });

  it("list pages with page_num/page_size and filters by status (-1 = all)", async () => {
    const host = await login(t.host2.username);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await post("/api/v1/live/create", { anchor: t.host2.username, title: `list ${i}` }, host)).body.id);
    await post("/api/v1/live/start", { id: ids[1], user_id: t.host2.username }, host);
    const all = await post(
      "/api/v1/live/list",
      { page_num: 1, page_size: 2, status: -1, user_id: t.host2.username },
      host,
    );
    expect(all.status).toBe(200);
    expect(Array.isArray(all.body)).toBe(true);
    expect(all.body).toHaveLength(2);
    expect(Object.keys(all.body[0]).sort()).toEqual(ROOM_INFO_KEYS);
    const live = await post(
      "/api/v1/live/list",
      { page_num: 1, page_size: 50, status: 1, user_id: t.host2.username },
      host,
    );
    expect(live.body.map((x: { id: string }) => x.id)).toContain(ids[1]);
    expect(live.body.every((x: { status: number }) => x.status === 1)).toBe(true);
    expect((await post("/api/v1/live/list", { page_num: 0, page_size: 2, user_id: "x" }, host)).status).toBe(400);
  });

  it("refuses viewers creating rooms (403) and hides other tenants' rooms (404)", async () => {
    const viewer = await login(t.viewer.username);
    expect((await post("/api/v1/live/create", { anchor: t.viewer.username, title: "x" }, viewer)).status).toBe(403);
    const host = await login(t.host.username);
    const r = (await post("/api/v1/live/create", { anchor: t.host.username, title: "mine" }, host)).body;
    const stranger = await login(other.host.username);
    expect((await post("/api/v1/live/get", { id: r.id, user_id: "s" }, stranger)).status).toBe(404);
    expect((await post("/api/v1/live/stop", { id: r.id, user_id: "s" }, stranger)).status).toBe(404);
    const sameAppViewer = await post("/api/v1/live/stop", { id: r.id, user_id: t.viewer.username }, viewer);
    expect(sameAppViewer.status).toBe(403);
  });

  it("getMeetingInfo / updateMeetingInfo replace the co-host list whole; the room is the same everywhere", async () => {
    const host = await login(t.host.username);
    const r = (await post("/api/v1/live/create", { anchor: t.host.username, title: "meeting", mode: 1 }, host)).body;
    await post("/api/v1/live/start", { id: r.id, user_id: t.host.username }, host);
    const members = [
      {
        user_id: t.host.username,
        user_nick: "host",
        user_avatar: "",
        camera_opened: true,
        mic_opened: true,
        rtc_pull_url: "artc://a",
      },
      {
        user_id: t.viewer.username,
        user_nick: "guest",
        user_avatar: "https://a.test/x.png",
        camera_opened: false,
        mic_opened: true,
        rtc_pull_url: "artc://b",
      },
    ];
    const upd = await post("/api/v1/live/updateMeetingInfo", { id: r.id, members }, host);
    expect(upd.status).toBe(200);
    expect(upd.body).toEqual({ members });
    const got = await post("/api/v1/live/getMeetingInfo", { id: r.id }, await login(t.viewer.username));
    expect(got.body).toEqual({ members });
    expect(
      JSON.parse((await post("/api/v1/live/get", { id: r.id, user_id: t.host.username }, host)).body.meeting_info),
    ).toEqual(members);
    // The same room through onair's own API.
    const native = await callerOf(t.host).rooms.get({ room: r.id });
    expect(native).toMatchObject({ title: "meeting", status: "live", mode: 1 });
    // onair's own API names the same people by onair's user ids.
    expect((await callerOf(t.host).mic.meetingInfo({ room: r.id })).members).toEqual([
      { ...members[0], user_id: t.host.userId },
      { ...members[1], user_id: t.viewer.userId },
    ]);
  });
});

describe("AUI AppServer: people are the ids they log in with", () => {
  it("anchor_id is the anchor sent; an admin creates for a host by that id; unknown anchors are refused", async () => {
    const host = await login(t.host.username);
    const r = (await post("/api/v1/live/create", { anchor: t.host.username, title: "ids" }, host)).body;
    // The iOS client compares anchor_id with the id it logged in with to know it is the anchor.
    expect(r.anchor_id).toBe(t.host.username);
    expect(r.push_url_info.rtmp_url).not.toBe("");
    const listed = await post("/api/v1/live/list", { page_num: 1, page_size: 50, user_id: t.host.username }, host);
    expect(listed.body.find((x: { id: string }) => x.id === r.id).anchor_id).toBe(t.host.username);

    const admin = await login(t.admin.username);
    const forHost = await post("/api/v1/live/create", { anchor: t.host2.username, title: "by admin" }, admin);
    expect(forHost.status).toBe(200);
    expect(forHost.body.anchor_id).toBe(t.host2.username);
    expect((await callerOf(t.host2).rooms.get({ room: forHost.body.id })).hostId).toBe(t.host2.userId);
    expect((await post("/api/v1/live/create", { anchor: "nobody-here", title: "x" }, admin)).status).toBe(404);
    // A host names themself; naming somebody else is refused, and nothing is created.
    const before = (await callerOf(t.host2).rooms.list({ limit: 100 })).total;
    expect((await post("/api/v1/live/create", { anchor: t.host2.username, title: "x" }, host)).status).toBe(403);
    expect((await callerOf(t.host2).rooms.list({ limit: 100 })).total).toBe(before);
  });

  it("updateMeetingInfo keeps the list as sent, RTC ids onair does not know included; getMeetingInfo returns it", async () => {
    const host = await login(t.host.username);
    const r = (await post("/api/v1/live/create", { anchor: t.host.username, title: "rtc", mode: 1 }, host)).body;
    await post("/api/v1/live/start", { id: r.id, user_id: t.host.username }, host);
    const member = (user_id: string, i: number) => ({
      user_id,
      user_nick: `n${i}`,
      user_avatar: "",
      camera_opened: i % 2 === 0,
      mic_opened: true,
      rtc_pull_url: `artc://live.test/${user_id}`,
    });
    const members = [member(t.host.username, 0), member("rtc-user-7781", 1), member(t.viewer.username, 2)];
    expect((await post("/api/v1/live/updateMeetingInfo", { id: r.id, members }, host)).body).toEqual({ members });
    expect((await post("/api/v1/live/getMeetingInfo", { id: r.id }, host)).body).toEqual({ members });
    expect(JSON.parse((await post("/api/v1/live/get", { id: r.id }, host)).body.meeting_info)).toEqual(members);
    // The known viewer took a co-host seat in onair too; the RTC-only member is kept as such.
    const native = (await callerOf(t.host).mic.meetingInfo({ room: r.id })).members.map((m) => m.user_id);
    expect(native).toEqual([t.host.userId, "rtc:rtc-user-7781", t.viewer.userId]);
    // Replacing the list drops who is not in it.
    const fewer = [member("rtc-user-7781", 1)];
    expect((await post("/api/v1/live/updateMeetingInfo", { id: r.id, members: fewer }, host)).body).toEqual({
      members: fewer,
    });
    expect((await post("/api/v1/live/getMeetingInfo", { id: r.id }, host)).body).toEqual({ members: fewer });
  });

  it("/api/v2/live/token answers the Web client's call with the same device tokens as /token", async () => {
    const tok = await login(t.viewer2.username);
    const body = {
      user_id: t.viewer2.username,
      device_type: "web",
      device_id: "4f7d2b0e-8d0e-4d7a-9a51-3f0a9b7c1e22",
      role: "audience",
      im_server: ["aliyun_new"],
    };
    const r = await post("/api/v2/live/token", body, tok);
    expect(r.status).toBe(200);
    expect(r.body.code).toBe(200);
    expect(r.body.aliyun_new_im).toMatchObject({
      app_id: t.accessKey,
      app_token: r.body.access_token,
      auth: { user_id: t.viewer2.username, role: "audience", nonce: expect.any(String), timestamp: expect.any(Number) },
    });
    // The device token works like any access token.
    expect(
      (await post("/api/v1/live/list", { page_num: 1, page_size: 1, user_id: "x" }, r.body.access_token)).status,
    ).toBe(200);
    const old = await post("/api/v2/live/token", { ...body, im_server: ["aliyun_old"] }, tok);
    expect(old.body.aliyun_old_im).toEqual({
      access_token: old.body.access_token,
      refresh_token: old.body.refresh_token,
    });
    expect((await post("/api/v2/live/token", { ...body, user_id: t.viewer.username }, tok)).status).toBe(403);
    expect((await post("/api/v2/live/token", { ...body, im_server: ["other"] }, tok)).status).toBe(400);
    expect((await post("/api/v2/live/token", body)).status).toBe(401);
  });
});

describe("AUI demo login (opt-in per app)", () => {
  it("off: an unknown user id with password = id is refused; on: the account is made on first login", async () => {
    const demo = await makeTenant();
    const name = `demo${Date.now().toString(36)}`;
    process.env.COMPAT_AUI_APP_ID = String(demo.app.id);
    resetEnvForTests();
    try {
      expect((await post("/api/v1/live/login", { username: name, password: name })).status).toBe(401);
      await callerOf(demo.root).apps.update({ id: demo.app.id, auiDemoLogin: true, signupRole: "host" });
      const first = await post("/api/v1/live/login", { username: name, password: name });
      expect(first).toMatchObject({ status: 200, body: { code: 200 } });
      const again = await post("/api/v1/live/login", { username: name, password: name });
      expect(again.status).toBe(200);
      // The new account is a host of the demo app, named by the id it logged in with.
      const room = await post("/api/v1/live/create", { anchor: name, title: "demo" }, first.body.token as string);
      expect(room.body.anchor_id).toBe(name);
      const users = await callerOf(demo.root).users.list({ appId: demo.app.id, q: name });
      expect(users.items.map((u: { username: string; role: string }) => [u.username, u.role])).toEqual([
        [name, "host"],
      ]);
      // Accounts with their own password keep it: password = id does not open them.
      expect(
        (await post("/api/v1/live/login", { username: demo.host.username, password: demo.host.username })).status,
      ).toBe(401);
      expect((await post("/api/v1/live/login", { username: "x y", password: "x y" })).status).toBe(401);
    } finally {
      delete process.env.COMPAT_AUI_APP_ID;
      resetEnvForTests();
    }
  });
});

describe("AUI list: the caller's play tokens", () => {
  it("reuses a caller's play token for a while, never another caller's, and signs anew once revoked or after a minute", async () => {
    const clock = new ManualClock(Date.now());
    const srv = await serve(orNotFound(createAuiHandler({ clock })));
    const tenant = await makeTenant(clock);
    try {
      const db = getDb();
      const room = await createRoom(ctxOf(tenant.host, clock), { title: "tokens", mode: 0, record: false });
      const call = async (path: string, body: unknown, token?: string) => {
        const r = await fetch(`${srv.base}${path}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-forwarded-for": `198.51.100.${Math.floor(Math.random() * 250) + 1}`,
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
        });
        return (await r.json()) as Record<string, unknown> & Array<Record<string, unknown>>;
      };
      const signIn = async (username: string) =>
        (await call("/login", { username, password: PASSWORD })).token as string;
      const [viewer, viewer2] = [await signIn(tenant.viewer.username), await signIn(tenant.viewer2.username)];
      /** The play token in the listed room's URLs (the same in all of them). */
      const listed = async (bearer: string) => {
        const page = await call("/api/v1/live/list", { page_num: 1, page_size: 50, status: -1, user_id: "x" }, bearer);
        const r = page.find((x) => x.id === room.id)! as Record<string, Record<string, string>>;
        expect(r.link_info!.cdn_pull_info).toEqual(r.pull_url_info);
        const tokens = ["flv_url", "hls_url", "rtmp_url"].map((k) =>
          new URL(r.pull_url_info![k]!).searchParams.get("token"),
        );
        expect(new Set(tokens).size).toBe(1);
        return tokens[0]!;
      };
      const holder = (token: string, at = clock.now()) =>
        verifyRoomToken(token, { scope: "play", room: room.id, stream: room.streamName }, at).sub;

      const first = await listed(viewer);
      expect(holder(first)).toBe(tenant.viewer.userId);
      clock.advance(30_000);
      expect(await listed(viewer)).toBe(first);
      // Another caller listing the same page gets their own.
      const other = await listed(viewer2);
      expect(other).not.toBe(first);
      expect(holder(other)).toBe(tenant.viewer2.userId);

      // Kicked (a member revocation): the token kept is not handed out again; a fresh one works.
      await revoke(
        db,
        "member",
        memberSubject(room.num, tenant.viewer.userId),
        clock.now(),
        new Date(clock.now().getTime() + 3600_000),
      );
      expect(() => holder(first)).toThrow(/revoked/);
      clock.advance(1000);
      const afterKick = await listed(viewer);
      expect(afterKick).not.toBe(first);
      expect(holder(afterKick)).toBe(tenant.viewer.userId);

      // After REUSE_MS a new token is signed, expiring a whole TTL later; the previous one still
      // expires at its own time.
      clock.advance(REUSE_MS);
      const later = await listed(viewer);
      expect(later).not.toBe(afterKick);
      const exp = (token: string) => verifyRoomToken(token, { scope: "play" }, clock.now()).exp;
      expect(exp(later)).toBe(Math.floor(clock.now().getTime() / 1000) + env().PLAY_TOKEN_TTL_S);
      expect(holder(afterKick)).toBe(tenant.viewer.userId);
      expect(() => holder(afterKick, new Date(exp(afterKick) * 1000))).toThrow(/expired/i);
      expect(await listed(viewer2)).not.toBe(other);

      // Kicked on another instance (its row read by this one's poll): not handed out again either.
      const beforeRemoteKick = await listed(viewer);
      expect(await listed(viewer)).toBe(beforeRemoteKick);
      await db.insert(revocations).values({
        kind: "member",
        subject: memberSubject(room.num, tenant.viewer.userId),
        beforeAt: clock.now(),
        expiresAt: new Date(clock.now().getTime() + 3600_000),
      });
      await revocationSet.poll(db, clock.now().getTime());
      expect(() => holder(beforeRemoteKick)).toThrow(/revoked/);
      clock.advance(1000);
      const afterRemoteKick = await listed(viewer);
      expect(afterRemoteKick).not.toBe(beforeRemoteKick);
      expect(holder(afterRemoteKick)).toBe(tenant.viewer.userId);

      // A vendor signing scheme signs the URLs themselves (no token in them).
      await db.update(apps).set({ signScheme: "tencent" }).where(eq(apps.id, tenant.app.id));
      readsChanged();
      const page = await call("/api/v1/live/list", { page_num: 1, page_size: 50, status: -1, user_id: "x" }, viewer);
      const r = page.find((x) => x.id === room.id)! as Record<string, Record<string, string>>;
      expect(r.pull_url_info!.flv_url).toMatch(/txSecret=/);
      expect(r.pull_url_info!.flv_url).not.toMatch(/token=/);
      expect(r.link_info!.cdn_pull_info).toEqual(r.pull_url_info);
    } finally {
      await srv.close();
    }
  });
});

describe("AUI RoomInfo text", () => {
  it("is made again when the page's figures change, for the same room row", async () => {
    const room = await createRoom(ctxOf(t.host), { title: "figures", mode: 0, record: false });
    await transitionRoom(ctxOf(t.host), room.id, "start");
    const row = await findRoom(getDb(), t.viewer, room.id);
    const metrics = async () =>
      (JSON.parse((await roomInfo(getDb(), systemClock, t.viewer, row)).text) as { metrics: unknown }).metrics;
    expect(await metrics()).toEqual({ like_count: 0, online_count: 0, pv: 0, uv: 0 });
    await joinRoom(ctxOf(t.viewer2), { room: room.id });
    expect(await metrics()).toEqual({ like_count: 0, online_count: 1, pv: 1, uv: 1 });
  });
});
