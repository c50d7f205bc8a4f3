// Contract tests for the Haoshitong API (seed 004): access tokens, envelopes and the seed's codes.
// The real mix (two ffmpeg publishers → 1280×720 FLV in Chromium) is in e2e/compat.spec.ts.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { mixTasks } from "../../db/schema";
import { tokenKey } from "../../crypto/keys";
import { signCompact } from "../../tokens/jwt";
import { callerOf, makeTenant, type Tenant } from "../../../test/helpers";
import { createHaoshitongHandler, HST, mixFilter } from ".";

let t: Tenant;
let server: http.Server;
let base: string;
beforeAll(async () => {
  t = await makeTenant();
  const h = createHaoshitongHandler();
  server = http.createServer((req, res) => void (h(req, res) || res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const post = async (path: string, body: unknown, raw = false) =>
  (await (
    await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: raw ? String(body) : JSON.stringify(body),
    })
  ).json()) as Record<string, any>;
const token = async () =>
  (await post("/v1/access_token", { app_id: t.accessKey, app_secret: t.secret })).result.access_token as string;

describe("Haoshitong API", () => {
  it("access_token: {code:0, msg:'OK', result:{timeout, access_token}}; wrong secret 6050030007", async () => {
    const r = await post("/v1/access_token", { app_id: t.accessKey, app_secret: t.secret });
    expect(r).toMatchObject({ code: 0, msg: "OK", result: { timeout: expect.any(Number) } });
    expect(Object.keys(r.result).sort()).toEqual(["access_token", "timeout"]);
    expect((await post("/v1/access_token", { app_id: t.accessKey, app_secret: "nope" })).code).toBe(HST.AUTH_FAILED);
  });

  it("an expired access_token answers {code:606000001, msg:'access_token timeout'}", async () => {
    const old = signCompact({ k: "h", a: t.app.id, e: Math.floor(Date.now() / 1000) - 5 }, tokenKey());
    expect(await post(`/v1/live/start?access_token=${old}`, { app_id: t.accessKey, group_id: "g" })).toEqual({
      code: 606000001,
      msg: "access_token timeout",
    });
    const list = await (await fetch(`${base}/v1/live/list?app_id=${t.accessKey}&access_token=${old}`)).json();
    expect(list.code).toBe(606000001);
  });

  it("start/stop/list codes: 6050030006 no token, 6050030005 bad JSON, 6050030003 bad params, 6050030001 no publishers, 6050030012 exists, 6050030022 not found", async () => {
    const tok = await token();
    expect((await post("/v1/live/start", { app_id: t.accessKey, group_id: "g" })).code).toBe(HST.NOT_LOGGED_IN);
    expect((await post(`/v1/live/start?access_token=${tok}`, "{nope", true)).code).toBe(HST.JSON);
    for (const bad of [
      { width: 5000 },
      { height: 0 },
      { crop_mode: 4 },
      { frame_rate: 60 },
      { quality_level: 0 },
      { qulity_level: 7 },
    ]) {
      expect(
        (await post(`/v1/live/start?access_token=${tok}`, { app_id: t.accessKey, group_id: "g", ...bad })).code,
      ).toBe(HST.BAD_PARAMS);
    }
    expect((await post(`/v1/live/start?access_token=${tok}`, { app_id: "someone-else", group_id: "g" })).code).toBe(
      HST.AUTH_FAILED,
    );
    expect(
      (await post(`/v1/live/start?access_token=${tok}`, { app_id: t.accessKey, group_id: "empty-group" })).code,
    ).toBe(HST.NO_CONTEXT);
    expect(
      (await post(`/v1/live/stop?access_token=${tok}`, { app_id: t.accessKey, group_id: "empty-group" })).code,
    ).toBe(HST.NO_INPUT);

    // A running mix for a group: a second start is refused; stop ends it; list shows running ones.
    const room = await callerOf(t.host).rooms.create({ title: "mix holder", chatId: "busy" });
    await getDb().insert(mixTasks).values({
      appId: t.app.id,
      groupId: "busy",
      roomNum: room.num,
      state: "running",
      params: "{}",
      owner: "elsewhere:1",
      startedAt: new Date(),
    });
    expect((await post(`/v1/live/start?access_token=${tok}`, { app_id: t.accessKey, group_id: "busy" })).code).toBe(
      HST.EXISTS,
    );
    const listed = await (await fetch(`${base}/v1/live/list?app_id=${t.accessKey}&access_token=${tok}`)).json();
    expect(listed).toMatchObject({ code: 0, msg: "success" });
    expect(Object.keys(listed.list[0]).sort()).toEqual(["flv_url", "group_id", "m3u8_url", "rtmp_url", "start_time"]);
    expect(listed.list[0].group_id).toBe("busy");
    expect(listed.result.live_info_list).toEqual(listed.list);
    expect(await post(`/v1/live/stop?access_token=${tok}`, { app_id: t.accessKey, group_id: "busy" })).toEqual({
      code: 0,
      group_id: "busy",
      msg: "stop live success",
    });
    expect((await (await fetch(`${base}/v1/live/list?app_id=${t.accessKey}&access_token=${tok}`)).json()).list).toEqual(
      [],
    );
  });

  it("composes a grid by crop mode", () => {
    const f = mixFilter(2, { width: 1280, height: 720, crop_mode: 2, frame_rate: 25 });
    expect(f).toContain("[0:v]scale=640:720:force_original_aspect_ratio=increase,crop=640:720");
    expect(f).toContain("xstack=inputs=2:layout=0_0|640_0:fill=black");
    expect(f).toContain("pad=1280:720");
    expect(f).toContain("amix=inputs=2");
    expect(mixFilter(1, { width: 1920, height: 1080, crop_mode: 3, frame_rate: 30 })).toContain(
      "pad=1920:1080:(ow-iw)/2:(oh-ih)/2",
    );
    expect(mixFilter(3, { width: 1280, height: 720, crop_mode: 1, frame_rate: 30 })).toContain(
      "layout=0_0|640_0|0_360",
    );
  });
});
