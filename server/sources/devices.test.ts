// LTStream devices end to end with real parts: GStreamer's RTSP server (Debian's) and an HLS source
// made by ffmpeg, the embedded media server, the front; devices registered through monitor_add
// exactly as the PHP extension posts them, played at /live/<code>.flv|.ts?type=1|2&token=… (ffprobe
// sees video), pulled on demand only, stopped after the idle setting, paused on loss and resumed;
// 1201 for a sub stream a device lacks, 1202 for a dead URL within the client's 5 s.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ports";
import { makeTenant, orNotFound, serve, type Tenant } from "../../test/helpers";
import { ltClient, pullsOf, startHlsSource, startRtspServer, stopProcess, until, wait } from "../../test/sources";
import { createLtHandler } from "../compat/ltstream";
import { getDb } from "../db/client";
import { rooms, streamSources } from "../db/schema";
import { env, resetEnvForTests } from "../env";
import { createFrontServer } from "../front/server";
import { EmbeddedMedia } from "../media/embedded";
import { run } from "../media/ffmpeg";

let t: Tenant;
let media: EmbeddedMedia;
let web: Awaited<ReturnType<typeof serve>>;
let hls: Awaited<ReturnType<typeof startHlsSource>>;
let front: http.Server;
let base: string;

beforeAll(async () => {
  Object.assign(process.env, {
    OUTBOUND_ALLOW: "127.0.0.1",
    MEDIA_RTMP_PORT: String(await freePort()),
    MEDIA_HTTP_PORT: String(await freePort()),
    SOURCE_IDLE_STOP_S: "1",
    MEDIA_DIR: mkdtempSync(join(tmpdir(), "onair-src-media-")),
  });
  resetEnvForTests();
  t = await makeTenant();
  // The source: a live HLS stream ffmpeg makes (a test pattern, H.264/AAC), served over HTTP.
  hls = await startHlsSource();
  media = new EmbeddedMedia(getDb());
  await media.start();
  web = await serve(orNotFound(createLtHandler()));
  front = createFrontServer({ webOrigin: web.base });
  await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  ({ call, token } = ltClient(base, t));
});

afterAll(async () => {
  front?.closeAllConnections();
  await new Promise((r) => front?.close(r));
  const { stopAllPulls } = await import("../media/pulls");
  await stopAllPulls();
  await media?.stop();
  await web?.close();
  await hls?.stop();
  if (process.env.MEDIA_DIR) rmSync(process.env.MEDIA_DIR, { recursive: true, force: true });
  for (const k of ["OUTBOUND_ALLOW", "MEDIA_RTMP_PORT", "MEDIA_HTTP_PORT", "SOURCE_IDLE_STOP_S", "MEDIA_DIR"])
    delete process.env[k];
  resetEnvForTests();
});

let call: ReturnType<typeof ltClient>["call"];
let token: () => Promise<string>;

describe("LTStream devices (monitor_*) pulled from a real source", () => {
  it("monitor_add answers the code the play URL takes; it plays on demand and stops after the idle setting", async () => {
    const path = `http://cam:s3cret@127.0.0.1:${hls.port}/cam/index.m3u8`;
    const added = await call("monitor_add", { name: "Gate", path, sub_path: "", address: "North gate" });
    expect(added).toMatchObject({ code: 200, message: "200 OK" });
    const code = added.data!.code!;
    expect(code).toMatch(/^\d+$/);
    // Shown back as scheme and host only; stored sealed.
    expect(added.data).toMatchObject({
      name: "Gate",
      path: `http://127.0.0.1:${hls.port}`,
      sub_path: "",
      address: "North gate",
    });
    const row = (
      await getDb()
        .select()
        .from(streamSources)
        .where(eq(streamSources.roomNum, Number(code)))
    )[0]!;
    expect(row.urlEnc).not.toContain("s3cret");
    expect(row.urlShown).not.toContain("s3cret");

    // No viewer, no pull.
    const url = `/live/${code}.flv?type=1&token=${await token()}`;
    expect(pullsOf(`127.0.0.1:${hls.port}`)).toBe(0);

    // ffprobe plays the device through the front: video, within the client's budget.
    const started = Date.now();
    const probe = await run(
      env().FFPROBE_PATH,
      ["-v", "error", "-show_entries", "stream=codec_type,codec_name", "-of", "json", `${base}${url}`],
      15_000,
    );
    const streams = (JSON.parse(probe.out || "{}") as { streams?: Array<{ codec_type: string; codec_name: string }> })
      .streams;
    expect(streams?.find((s) => s.codec_type === "video")?.codec_name).toBe("h264");
    expect(Date.now() - started).toBeLessThan(8000);
    const room = (
      await getDb()
        .select()
        .from(rooms)
        .where(eq(rooms.num, Number(code)))
    )[0]!;
    expect(room.status).toBe("live");

    // The viewer left: the pull stops after SOURCE_IDLE_STOP_S (1 s), and the source is idle (the room is not abandoned).
    let left = 1;
    for (let i = 0; i < 50 && left > 0; i++) {
      await wait(200);
      left = pullsOf(`127.0.0.1:${hls.port}`);
    }
    expect(left).toBe(0);
    await wait(300);
    const after = (
      await getDb()
        .select()
        .from(streamSources)
        .where(eq(streamSources.roomNum, Number(code)))
    )[0]!;
    expect(after.state).toBe("idle");

    // The extension's other calls, on the same code.
    expect((await call("monitor_info", { code })).data).toMatchObject({ code, name: "Gate", address: "North gate" });
    const list = (await call("monitor_list")).data as unknown as Array<{ code: string }>;
    expect(list.map((d) => d.code)).toContain(code);
    const paged = (await call("monitor_paginate", { page: 1, page_size: 1 })).data!;
    expect(paged).toMatchObject({ current_page: 1, per_page: 1, total: list.length });
    expect(paged.data).toHaveLength(1);
    const updated = await call("monitor_update", { code, name: "Gate 2", path, sub_path: path, address: "" });
    expect(updated.data).toMatchObject({ code, name: "Gate 2", sub_path: `http://127.0.0.1:${hls.port}` });
    expect(await call("monitor_delete", { code })).toMatchObject({ code: 200, data: { code } });
    expect((await call("monitor_info", { code })).code).toBe(2001);
  });

  it("type 2 of a device without a sub stream is 1201; an unreachable source is 1202 within 5 s", async () => {
    const dead = `rtmp://127.0.0.1:${await freePort()}/live/cam`;
    const added = await call("monitor_add", { name: "Dead", path: dead, sub_path: "", address: "" });
    const code = added.data!.code!;
    const tk = await token();
    const sub = await fetch(`${base}/live/${code}.flv?type=2&token=${tk}`);
    expect(await sub.json()).toMatchObject({ code: 1201 });
    const started = Date.now();
    const r = await fetch(`${base}/live/${code}.ts?type=1&token=${tk}`);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await r.json()).toMatchObject({ code: 1202 });
  });

  it("refuses a source on an address the outbound rules refuse (2001), and bad parameters (2001)", async () => {
    process.env.OUTBOUND_ALLOW = "10.9.9.9";
    resetEnvForTests();
    try {
      const r = await call("monitor_add", { name: "Loop", path: `rtsp://127.0.0.1:554/x`, sub_path: "", address: "" });
      expect(r.code).toBe(2001);
      expect(r.message).toContain("loopback");
    } finally {
      process.env.OUTBOUND_ALLOW = "127.0.0.1";
      resetEnvForTests();
    }
    expect((await call("monitor_add", { name: "", path: "" })).code).toBe(2001);
    expect((await call("monitor_add", { name: "x", path: "file:///etc/passwd" })).code).toBe(2001);
  });
});

/** ffprobe of a play through the front: the video stream's codec and size. */
async function probeVideo(url: string) {
  const r = await run(
    env().FFPROBE_PATH,
    ["-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height", "-of", "json", url],
    15_000,
  );
  const streams = (JSON.parse(r.out || "{}") as { streams?: Array<Record<string, string | number>> }).streams ?? [];
  const video = streams.find((s) => s.codec_type === "video");
  // On a failure, say what the play answered and what the pulls were doing (their state and last error).
  if (!video) {
    const body = await fetch(url).then(
      (x) =>
        x.headers.get("content-type")?.includes("json") ? x.text() : `${x.status} ${x.headers.get("content-type")}`,
      (x: Error) => x.message,
    );
    const states = await getDb().select().from(streamSources);
    console.error("no video from", url.replace(/token=[^&]+/, "token=…"), {
      ffprobe: r.err.slice(-300),
      again: body.slice(0, 200),
      sources: states.map((s) => ({
        room: s.roomNum,
        kind: s.kind,
        state: s.state,
        error: s.lastError,
        retries: s.retries,
      })),
    });
  }
  return video;
}

/** Opens a play and resolves when its first media bytes arrive (after the FLV header), with the request. */
function firstBytes(url: string) {
  return new Promise<{ ms: number; req: http.ClientRequest; ended: Promise<void> }>((resolve, reject) => {
    const from = Date.now();
    let resolveEnded!: () => void;
    const ended = new Promise<void>((r) => (resolveEnded = r));
    const req = http.get(url, (res) => {
      if (res.statusCode !== 200) {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => reject(new Error(`status ${res.statusCode}: ${body.slice(0, 200)}`)));
        return;
      }
      let got = 0;
      res.on("data", (c: Buffer) => {
        got += c.length;
        if (got > 1024) resolve({ ms: Date.now() - from, req, ended });
      });
      res.on("close", resolveEnded);
    });
    req.on("error", () => resolveEnded());
    setTimeout(() => reject(new Error("no media within 10 s")), 10_000).unref();
  });
}

describe("bounds", () => {
  it("an app pulls at most SOURCE_PULLS_PER_APP sources at once: one more play is 1202 at once", async () => {
    // The dead device's pull above counts until its idle second is over.
    await wait(1500);
    process.env.SOURCE_PULLS_PER_APP = "1";
    resetEnvForTests();
    try {
      const path = `http://127.0.0.1:${hls.port}/cam/index.m3u8`;
      const a = (await call("monitor_add", { name: "A", path, sub_path: "" })).data!.code!;
      const b = (await call("monitor_add", { name: "B", path, sub_path: "" })).data!.code!;
      const tk = await token();
      const playing = await firstBytes(`${base}/live/${a}.flv?type=1&token=${tk}`);
      const started = Date.now();
      const refused = await fetch(`${base}/live/${b}.flv?type=1&token=${tk}`);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(await refused.json()).toMatchObject({ code: 1202 });
      expect(pullsOf(`127.0.0.1:${hls.port}`)).toBe(1);
      playing.req.destroy();
      await call("monitor_delete", { code: a });
      await call("monitor_delete", { code: b });
    } finally {
      delete process.env.SOURCE_PULLS_PER_APP;
      resetEnvForTests();
    }
  });
});

describe("an RTSP device (GStreamer's RTSP server)", () => {
  let rtsp: ChildProcess | undefined;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    rtsp = await startRtspServer(port);
  });
  afterAll(() => stopProcess(rtsp));

  it("main and sub play as FLV and TS on demand: nothing before a viewer, playing within 3 s, stopped when idle", async () => {
    const main = `rtsp://admin:pa55@127.0.0.1:${port}/main`;
    const sub = `rtsp://admin:pa55@127.0.0.1:${port}/sub`;
    const added = await call("monitor_add", { name: "Lobby", path: main, sub_path: sub, address: "Lobby" });
    const code = added.data!.code!;
    expect(added.data).toMatchObject({ path: `rtsp://127.0.0.1:${port}`, sub_path: `rtsp://127.0.0.1:${port}` });
    const tk = await token();
    expect(pullsOf(`127.0.0.1:${port}/main`)).toBe(0);

    const first = await firstBytes(`${base}/live/${code}.flv?type=1&token=${tk}`);
    expect(first.ms).toBeLessThan(3000);
    expect(pullsOf(`127.0.0.1:${port}/main`)).toBe(1);
    // A second viewer shares the pull.
    expect(await probeVideo(`${base}/live/${code}.flv?type=1&token=${tk}`)).toMatchObject({
      codec_name: "h264",
      width: 640,
      height: 360,
    });
    expect(pullsOf(`127.0.0.1:${port}/main`)).toBe(1);
    first.req.destroy();

    expect(await probeVideo(`${base}/live/${code}.ts?type=2&token=${tk}`)).toMatchObject({
      codec_name: "h264",
      width: 320,
      height: 180,
    });
    expect(await probeVideo(`${base}/live/${code}.ts?type=1&token=${tk}`)).toMatchObject({ width: 640 });
    expect(await probeVideo(`${base}/live/${code}.flv?type=2&token=${tk}`)).toMatchObject({ width: 320 });

    // Every viewer gone: both pulls stop after SOURCE_IDLE_STOP_S (1 s here; the TS remux holds 5 s more).
    const left = await until(
      () => pullsOf(`127.0.0.1:${port}/main`) + pullsOf(`127.0.0.1:${port}/sub`),
      (n) => n === 0,
      12_000,
    );
    expect(left).toBe(0);
  });

  it("the RTSP server stopped: the room pauses and the pull retries; it comes back: the room is live again", async () => {
    process.env.SOURCE_IDLE_STOP_S = "30";
    resetEnvForTests();
    try {
      const added = await call("monitor_add", { name: "Yard", path: `rtsp://127.0.0.1:${port}/main`, sub_path: "" });
      const code = Number(added.data!.code);
      const tk = await token();
      const roomOf = async () => (await getDb().select().from(rooms).where(eq(rooms.num, code)))[0]!;
      const sourceRow = async () =>
        (await getDb().select().from(streamSources).where(eq(streamSources.roomNum, code)))[0]!;
      const play = await firstBytes(`${base}/live/${code}.flv?type=1&token=${tk}`);
      expect((await until(roomOf, (r) => r.status === "live", 3000)).status).toBe("live");

      await stopProcess(rtsp);
      const paused = await until(roomOf, (r) => r.status === "paused", 20_000);
      expect(paused).toMatchObject({ status: "paused", autoPaused: true, streamOnline: false });
      // Each retry finds the server gone (the first loss itself is "source ended").
      const retrying = await until(sourceRow, (s) => s.retries >= 1 && s.lastError === "unreachable", 10_000);
      expect(retrying.state).toMatch(/retrying|starting/);
      expect(retrying.lastError).toBe("unreachable");

      rtsp = await startRtspServer(port);
      const back = await until(roomOf, (r) => r.status === "live" && r.streamOnline, 25_000);
      expect(back).toMatchObject({ status: "live", streamOnline: true });
      // (The room goes live on the publish; the source on the first frames after it. A probe slower
      // than a waiting play's 1.5 s — a busy machine — starts the pull copying with a silent track
      // and starts it again with the source's audio: the room pauses for that moment, and is live.)
      expect((await until(sourceRow, (s) => s.state === "live", 20_000)).state).toBe("live");
      expect(await until(roomOf, (r) => r.status === "live" && r.streamOnline, 10_000)).toMatchObject({
        status: "live",
        streamOnline: true,
      });
      play.req.destroy();
      await call("monitor_delete", { code });
    } finally {
      process.env.SOURCE_IDLE_STOP_S = "1";
      resetEnvForTests();
    }
  });
});
