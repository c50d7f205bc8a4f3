// Contract tests for the AUI AppServer API (seed 003): paths, field names, status codes and
// models.Status errors as the seed gives them, over HTTP against the real domain and database.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerOf, makeTenant, PASSWORD, type Tenant } from "../../../test/helpers";
import { eq } from "drizzle-orm";
import { getDb } from "../../db/client";
import { sessions } from "../../db/schema";
import { signAccessToken } from "../../tokens";
import { createAuiHandler } from ".";

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
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
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
      { device_id: "DEVICE-ID", device_type: "web", user_id: t.host.userId },
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
    const dev = await post("/api/v1/live/token", { device_id: "D2", device_type: "web", user_id: claims.sub }, tok);
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
        anchor: t.host.userId,
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
      anchor_id: t.host.userId,
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
    const seen = await post("/api/v1/live/get", { id: r.id, user_id: t.viewer.userId }, viewer);
    expect(seen.status).toBe(200);
    expect(seen.body.push_url_info).toEqual({ rtmp_url: "", rts_url: "", srt_url: "" });
    expect(seen.body.pull_url_info.flv_url).toContain("token=");

    const upd = await post("/api/v1/live/update", { id: r.id, title: "新标题", notice: "新公告", extends: "{}" }, host);
    expect(upd.body).toMatchObject({ title: "新标题", notice: "新公告", extends: "{}" });
    expect((await post("/api/v1/live/start", { id: r.id, user_id: t.host.userId }, host)).body.status).toBe(1);
    expect((await post("/api/v1/live/start", { id: r.id, user_id: t.host.userId }, host)).body.status).toBe(1);
    expect((await post("/api/v1/live/pause", { id: r.id, user_id: t.host.userId }, host)).body.status).toBe(0);
    const stopped = await post("/api/v1/live/stop", { id: r.id, user_id: t.host.userId }, host);
    expect(stopped.body.status).toBe(2);
    expect(stopped.body.stopped_at).not.toBe("0001-01-01T00:00:00Z");
    const again = await post("/api/v1/live/start", { id: r.id, user_id: t.host.userId }, host);
    expect(again).toMatchObject({ status: 412, body: { code: 412 } });
    const del = await post("/api/v1/live/delete", { id: r.id, user_id: t.host.userId }, host);
    expect(del.body.id).toBe(r.id);
    expect((await post("/api/v1/live/get", { id: r.id, user_id: t.host.userId }, host)).status).toBe(404);
  });

  it("list pages with page_num/page_size and filters by status (-1 = all)", async () => {
    const host = await login(t.host2.username);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await post("/api/v1/live/create", { anchor: t.host2.userId, title: `list ${i}` }, host)).body.id);
    await post("/api/v1/live/start", { id: ids[1], user_id: t.host2.userId }, host);
    const all = await post(
      "/api/v1/live/list",
      { page_num: 1, page_size: 2, status: -1, user_id: t.host2.userId },
      host,
    );
    expect(all.status).toBe(200);
    expect(Array.isArray(all.body)).toBe(true);
    expect(all.body).toHaveLength(2);
    expect(Object.keys(all.body[0]).sort()).toEqual(ROOM_INFO_KEYS);
    const live = await post(
      "/api/v1/live/list",
      { page_num: 1, page_size: 50, status: 1, user_id: t.host2.userId },
      host,
    );
    expect(live.body.map((x: { id: string }) => x.id)).toContain(ids[1]);
    expect(live.body.every((x: { status: number }) => x.status === 1)).toBe(true);
    expect((await post("/api/v1/live/list", { page_num: 0, page_size: 2, user_id: "x" }, host)).status).toBe(400);
  });

  it("refuses viewers creating rooms (403) and hides other tenants' rooms (404)", async () => {
    const viewer = await login(t.viewer.username);
    expect((await post("/api/v1/live/create", { anchor: t.viewer.userId, title: "x" }, viewer)).status).toBe(403);
    const host = await login(t.host.username);
    const r = (await post("/api/v1/live/create", { anchor: t.host.userId, title: "mine" }, host)).body;
    const stranger = await login(other.host.username);
    expect((await post("/api/v1/live/get", { id: r.id, user_id: "s" }, stranger)).status).toBe(404);
    expect((await post("/api/v1/live/stop", { id: r.id, user_id: "s" }, stranger)).status).toBe(404);
    const sameAppViewer = await post("/api/v1/live/stop", { id: r.id, user_id: t.viewer.userId }, viewer);
    expect(sameAppViewer.status).toBe(403);
  });

  it("getMeetingInfo / updateMeetingInfo replace the co-host list whole; the room is the same everywhere", async () => {
    const host = await login(t.host.username);
    const r = (await post("/api/v1/live/create", { anchor: t.host.userId, title: "meeting", mode: 1 }, host)).body;
    await post("/api/v1/live/start", { id: r.id, user_id: t.host.userId }, host);
    const members = [
      {
        user_id: t.host.userId,
        user_nick: "host",
        user_avatar: "",
        camera_opened: true,
        mic_opened: true,
        rtc_pull_url: "artc://a",
      },
      {
        user_id: t.viewer.userId,
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
      JSON.parse((await post("/api/v1/live/get", { id: r.id, user_id: t.host.userId }, host)).body.meeting_info),
    ).toEqual(members);
    // The same room through onair's own API.
    const native = await callerOf(t.host).rooms.get({ room: r.id });
    expect(native).toMatchObject({ title: "meeting", status: "live", mode: 1 });
    expect((await callerOf(t.host).mic.meetingInfo({ room: r.id })).members).toEqual(members);
  });
});
