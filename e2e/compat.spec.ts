// The vendor APIs against the running onair: a room made through AUI is the same room in 随心播,
// Haoshitong (once mixed) and onair's own API; a Polyv push URL really publishes; an LTStream token
// plays in Chromium; a Haoshitong mix of two publishers plays at 1280×720.
import { createHash, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { expect, type Page } from "@playwright/test";
import { env, push, test, trpc, until, uniq } from "./helpers";

const flvjsPath = createRequire(import.meta.url).resolve("flv.js/dist/flv.min.js");

async function json(path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${env.base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return await r.json();
}

/** Plays exactly this FLV URL with flv.js in the page; answers the video's size once time advances. */
async function playFlv(page: Page, url: string) {
  await page.goto(`${env.base}/signin`);
  await page.addScriptTag({ path: flvjsPath });
  await page.evaluate((src) => {
    const v = document.createElement("video");
    v.id = "probe";
    v.muted = true;
    document.body.appendChild(v);
    const flvjs = (window as unknown as { flvjs: any }).flvjs;
    const p = flvjs.createPlayer({ type: "flv", isLive: true, url: src }, { enableStashBuffer: false });
    p.attachMediaElement(v);
    p.load();
    void v.play();
  }, url);
  await page.waitForFunction(
    () => {
      const v = document.getElementById("probe") as HTMLVideoElement | null;
      return !!v && v.videoWidth > 0 && v.currentTime > 1;
    },
    undefined,
    { timeout: 30_000 },
  );
  return page.$eval("#probe", (v) => [(v as HTMLVideoElement).videoWidth, (v as HTMLVideoElement).videoHeight]);
}

test("vendor APIs share one domain; Polyv publishes, LTStream and a Haoshitong 1280×720 mix play", async ({ page }) => {
  test.setTimeout(180_000);
  const admin = (
    await trpc<{ accessToken: string }>("auth.login", { username: "e2e_admin", password: "e2e-admin-password" })
  ).accessToken;
  const app = await trpc("apps.create", { name: uniq("compat ") }, admin);
  const hostName = uniq("chost");
  await trpc("users.create", { appId: app.app.id, username: hostName, password: "password-123", role: "host" }, admin);
  const hostToken = (
    await trpc<{ accessToken: string }>("auth.login", { username: hostName, password: "password-123" })
  ).accessToken;

  // AUI creates the room.
  const aui = await json("/login", { username: hostName, password: "password-123" });
  const auth = { authorization: `Bearer ${aui.token}` };
  const roomA = await json("/api/v1/live/create", { anchor: hostName, title: "AUI room", mode: 1 }, auth);
  expect(roomA.push_url_info.rtmp_url).toMatch(/^rtmp:/);

  // Polyv's teacher_login for the same room: url + stream publishes for real.
  const pushInfo = await trpc("media.pushInfo", { room: roomA.id }, hostToken, "GET");
  const passwd = createHash("md5").update(pushInfo.channelPassword).digest("hex");
  const ts = String(Date.now());
  const ch = String(pushInfo.channelId);
  const polyv = (await (
    await fetch(`${env.base}/api/v2/teacher_login.json`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        passwd,
        timestamp: ts,
        number: ch,
        account: ch,
        sign: createHash("md5").update(`live.polyv.net${ch}${passwd}${ts}`).digest("hex"),
      }).toString(),
    })
  ).json()) as { url: string; stream: string };
  const ffA = push(polyv.url + polyv.stream);

  // A second publisher in the same group (the AUI chat_id), through onair's own API.
  const roomB = await trpc("rooms.create", { title: "second camera", chatId: roomA.chat_id }, hostToken);
  const ffB = push((await trpc("media.pushInfo", { room: roomB.id }, hostToken, "GET")).rtmp_url);
  try {
    await until(
      () => json("/api/v1/live/get", { id: roomA.id, user_id: hostName }, auth),
      (r) => r.status === 1,
      20_000,
    );
    await until(
      () => trpc("rooms.get", { room: roomB.id }, hostToken, "GET"),
      (r) => r.status === "live" && r.streamOnline,
      20_000,
    );

    // 随心播 sees the AUI room live, with the same room number AUI's chat id names.
    const sxb = await json("/sxb/index.php?svc=account&cmd=login", {
      id: hostName,
      pwd: Buffer.from("password-123").toString("base64"),
    });
    const list = await json("/sxb/index.php?svc=live&cmd=roomlist", {
      token: sxb.data.token,
      type: "live",
      index: 0,
      size: 50,
      // No SDK app id: every live room (the AUI room was reported under none).
      appid: 0,
    });
    expect(list.data.rooms.find((r: { info: { title: string } }) => r.info.title === "AUI room")?.info.groupid).toBe(
      roomA.chat_id,
    );

    // LTStream: a pull token from get_token plays /live/<room number>.flv?type=1 in Chromium.
    const h = Buffer.from(
      JSON.stringify({ alg: "md5", type: "jwt", request_id: `{${randomUUID().toUpperCase()}}` }),
    ).toString("base64");
    const p = Buffer.from(
      JSON.stringify({ timestamp: Math.floor(Date.now() / 1000), sdk_key: "sdk", ak: app.accessKey }),
    ).toString("base64");
    const lt = (await (
      await fetch(`${env.base}/api/third/get_token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", Version: "v1" },
        body: new URLSearchParams({
          signature: `${h}.${p}.${createHash("md5").update(`${h}.${p}${app.secret}`).digest("hex")}`,
        }).toString(),
      })
    ).json()) as { code: number; data: { token: string } };
    expect(lt.code).toBe(200);
    expect(await playFlv(page, `${env.base}/live/${ch}.flv?type=1&token=${lt.data.token}`)).toEqual([640, 360]);

    // Haoshitong mixes the group at 1280×720; the mix is listed and its FLV URL plays at that size.
    const tok = (await json("/v1/access_token", { app_id: app.accessKey, app_secret: app.secret })).result.access_token;
    const mixGroup = roomA.chat_id;
    const mix = await json(`/v1/live/start?access_token=${tok}`, {
      app_id: app.accessKey,
      group_id: mixGroup,
      width: 1280,
      height: 720,
      crop_mode: 2,
      frame_rate: 25,
      quality_level: 2,
    });
    expect(mix).toMatchObject({ code: 0, msg: "success", group_id: mixGroup });
    const listed = (await (
      await fetch(`${env.base}/v1/live/list?app_id=${app.accessKey}&access_token=${tok}`)
    ).json()) as { list: Array<{ group_id: string; start_time: number }> };
    expect(listed.list.map((x) => x.group_id)).toContain(mixGroup);
    await until(
      () => fetch(mix.flv_url.replace(".flv?", "/index.m3u8?")).then((r) => r.status),
      (s) => s === 200,
      30_000,
    );
    expect(await playFlv(page, mix.flv_url)).toEqual([1280, 720]);
    expect((await json(`/v1/live/stop?access_token=${tok}`, { app_id: app.accessKey, group_id: mixGroup })).code).toBe(
      0,
    );
  } finally {
    ffA.kill("SIGTERM");
    ffB.kill("SIGTERM");
    await Promise.all([ffA.exited, ffB.exited]);
  }
});
