// Stream health, reconciliation and thumbnails from real streams: an ffmpeg push (1280×720, 25 fps,
// a keyframe every 4 s) to the embedded server read from the stream itself; a push through a real
// nginx-rtmp read from its /stat, and a stream nginx drops while its unpublish hook cannot reach
// onair; SRS's API answers as SRS 7 writes them (SrsStatisticStream::dumps), served locally.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../clock";
import { getDb } from "../db/client";
import { auditLog, roomThumbnails, rooms, streamHealth } from "../db/schema";
import { env, resetEnvForTests } from "../env";
import {
  callerOf,
  ctxOf,
  makeTenant,
  ManualClock,
  mediaRoutes,
  rejectsWith,
  serve,
  type Tenant,
} from "../../test/helpers";
import { freePort, startNginxRtmp } from "../../test/process";
import { EmbeddedMedia } from "./embedded";
import { liveH264Args, testSourceArgs } from "./ffmpeg";
import { foldEndedHealth, healthWarnings, roomHealth, type HealthPoint } from "./health";
import { srsStreamsEvents } from "./listings";
import { MediaPoller } from "./poll";
import { streamStarted } from "./streams";
import { jpegSize, roomPictures } from "./thumbnails";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await f();
    if (ok(last)) return last;
    await wait(300);
  }
  throw new Error(`condition not met within ${ms} ms; last: ${JSON.stringify(last)}`);
}

/** 1280×720 at 25 fps with a keyframe every 4 s (100 frames) and AAC audio, for `seconds`. */
function push(url: string, seconds = 120): ChildProcess {
  return spawn(
    env().FFMPEG_PATH,
    [
      ...["-hide_banner", "-loglevel", "error"],
      ...testSourceArgs("1280x720", 25, seconds),
      ...liveH264Args(100),
      ...["-keyint_min", "100", "-sc_threshold", "0", "-b:v", "1200k", "-c:a", "aac", "-b:a", "64k"],
      ...["-f", "flv", url],
    ],
    { stdio: "ignore" },
  );
}

const settings = {
  MEDIA_HEALTH_SAMPLE_S: "2",
  MEDIA_THUMB_INTERVAL_S: "3",
  MEDIA_RTMP_PORT: "",
  MEDIA_HTTP_PORT: "",
  MEDIA_DIR: "",
};
let t: Tenant;
let media: EmbeddedMedia;
let routes: Awaited<ReturnType<typeof serve>>;
const pushes: ChildProcess[] = [];

beforeAll(async () => {
  Object.assign(process.env, {
    ...settings,
    MEDIA_RTMP_PORT: String(await freePort()),
    MEDIA_HTTP_PORT: String(await freePort()),
    MEDIA_DIR: mkdtempSync(join(tmpdir(), "onair-health-")),
  });
  resetEnvForTests();
  t = await makeTenant();
  media = new EmbeddedMedia(getDb());
  await media.start();
  routes = await serve(mediaRoutes());
}, 60_000);

afterAll(async () => {
  for (const p of pushes) p.kill("SIGKILL");
  await media?.stop();
  await routes?.close();
  if (process.env.MEDIA_DIR) rmSync(process.env.MEDIA_DIR, { recursive: true, force: true });
  for (const k of Object.keys(settings)) delete process.env[k];
  resetEnvForTests();
});

describe("embedded server", () => {
  it("reads health from the stream itself, warns of 4 s keyframes, and keeps a thumbnail served with play rules", async () => {
    const host = callerOf(t.host);
    const room = await host.rooms.create({ title: "health" });
    const info = await host.media.pushInfo({ room: room.id });
    const ff = push(info.rtmp_url);
    pushes.push(ff);

    const health = await until(
      () => roomHealth(ctxOf(t.host), room.id),
      (h) => !!h.latest?.keyframeIntervalMs && h.latest.keyframeIntervalMs >= 3500 && h.series.length >= 2,
      40_000,
    );
    const l = health.latest!;
    console.log("embedded reading", JSON.stringify(l));
    expect(health.current).toBe(true);
    expect(l.source).toBe("embedded");
    expect([l.videoCodec, l.width, l.height]).toEqual(["H264", 1280, 720]);
    expect(l.fps).toBeGreaterThan(23);
    expect(l.fps).toBeLessThan(27);
    expect(l.nominalFps).toBe(25);
    expect(l.keyframeIntervalMs).toBeGreaterThanOrEqual(3900);
    expect(l.keyframeIntervalMs).toBeLessThanOrEqual(4100);
    expect(l.videoKbps).toBeGreaterThan(100);
    expect(l.audioCodec).toBe("AAC");
    expect(l.audioKbps).toBeGreaterThan(20);
    expect(l.audioKbps).toBeLessThan(200);
    expect(l.uptimeS).toBeGreaterThan(0);
    expect(health.warnings).toContainEqual({ code: "keyframe", intervalMs: l.keyframeIntervalMs });
    expect(health.warnings.map((w) => w.code)).not.toContain("fps");
    // The app's admin sees it too; a viewer of the app may not; another app's host does not find the room.
    expect((await callerOf(t.admin).media.health({ room: room.id })).latest).not.toBeNull();
    await rejectsWith(callerOf(t.viewer).media.health({ room: room.id }), "FORBIDDEN");
    const other = await makeTenant();
    await rejectsWith(callerOf(other.host).media.health({ room: room.id }), "NOT_FOUND");

    // A thumbnail within the interval, 320 wide, served only with a play token for this stream.
    const shot = await until(
      () => getDb().select().from(roomThumbnails).where(eq(roomThumbnails.roomNum, room.num)),
      (rows) => rows.length === 1,
      20_000,
    );
    expect([shot[0]!.width, shot[0]!.height]).toEqual([320, 180]);
    const path = `${routes.base}/live/${room.streamName}/thumb.jpg`;
    expect((await fetch(path)).status).toBe(401);
    expect((await fetch(`${path}?token=bad.bad.bad`)).status).toBe(401);
    const otherRoom = await host.rooms.create({ title: "other" });
    const otherToken = (await callerOf(t.viewer).media.pullUrls({ room: otherRoom.id })).token;
    expect((await fetch(`${path}?token=${otherToken}`)).status).toBe(401);
    const pictures = await roomPictures(ctxOf(t.viewer), [room.id, otherRoom.id]);
    expect(pictures[otherRoom.id]).toBeNull();
    expect(pictures[room.id]?.kind).toBe("live");
    const url = new URL(pictures[room.id]!.url);
    const res = await fetch(`${routes.base}${url.pathname}${url.search}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(jpegSize(Buffer.from(await res.arrayBuffer()))).toEqual({ width: 320, height: 180 });
    // Another app's users get nothing for this room; a cover, once set, is shown instead.
    expect(await roomPictures(ctxOf(other.viewer), [room.id])).toEqual({});
    await host.rooms.update({ room: room.id, coverUrl: "https://example.com/cover.jpg" });
    expect((await roomPictures(ctxOf(t.viewer), [room.id]))[room.id]).toEqual({
      kind: "cover",
      url: "https://example.com/cover.jpg",
    });

    // Once the room has ended its readings fold into one a minute.
    ff.kill("SIGKILL");
    await until(
      () => host.rooms.get({ room: room.id }),
      (r) => r.status === "paused",
      20_000,
    );
    const fine = await getDb().select().from(streamHealth).where(eq(streamHealth.roomNum, room.num));
    await host.rooms.stop({ room: room.id });
    await foldEndedHealth(getDb());
    const folded = await getDb().select().from(streamHealth).where(eq(streamHealth.roomNum, room.num));
    const minutes = new Set(fine.map((r) => Math.floor(r.at.getTime() / 60_000)));
    // (Readings that straddle a minute boundary may already be one a minute: at least that many.)
    expect(fine.length).toBeGreaterThanOrEqual(minutes.size);
    expect(folded.length).toBe(minutes.size);
    expect(folded.every((r) => r.coarse && r.width === 1280)).toBe(true);
    expect(Math.max(...folded.map((r) => r.keyframeIntervalMs ?? 0))).toBeGreaterThanOrEqual(3900);
    expect((await roomHealth(ctxOf(t.host), room.id)).warnings).toEqual([]);
  }, 120_000);
});

describe("nginx-rtmp", () => {
  let nginx: Awaited<ReturnType<typeof startNginxRtmp>> | undefined;
  afterAll(() => nginx?.stop());

  it("health from /stat, a thumbnail through nginx, and a stream dropped without its unpublish hook pauses its room", async () => {
    const hooks = await serve(mediaRoutes());
    nginx = await startNginxRtmp(hooks.base);
    const { rtmpPort, statUrl } = nginx;
    const n = await makeTenant();
    await callerOf(n.admin).apps.update({ id: n.app.id, pushDomain: `127.0.0.1:${rtmpPort}` });
    const room = await callerOf(n.host).rooms.create({ title: "nginx health" });
    const info = await callerOf(n.host).media.pushInfo({ room: room.id });
    expect(info.server).toBe(`rtmp://127.0.0.1:${rtmpPort}/live`);
    const ff = push(info.rtmp_url);
    pushes.push(ff);
    await until(
      () => callerOf(n.host).rooms.get({ room: room.id }),
      (r) => r.status === "live",
      20_000,
    );
    const poller = new MediaPoller(getDb(), systemClock, { nginxStatUrl: statUrl });
    // nginx computes bandwidths over its own period: readings show them once it has one.
    const health = await until(
      async () => {
        await poller.turn(true);
        return roomHealth(ctxOf(n.host), room.id);
      },
      (h) => !!h.latest?.videoKbps && !!h.latest.audioKbps,
      30_000,
    );
    const l = health.latest!;
    console.log("nginx reading", JSON.stringify(l));
    expect(l.source).toBe("nginx");
    expect([l.videoCodec, l.width, l.height, l.nominalFps]).toEqual(["H264", 1280, 720, 25]);
    expect(l.audioCodec).toBe("AAC");
    expect(l.videoKbps).toBeGreaterThan(100);
    expect(l.audioKbps).toBeGreaterThan(20);
    expect(l.uptimeS).toBeGreaterThan(0);
    expect(l.droppedFrames).toBe(0);
    expect(l.keyframeIntervalMs).toBeNull(); // nginx does not measure it
    // The turn's instance also takes the thumbnail, reading the stream through nginx (on_play asks onair).
    await poller.thumbnails.idle();
    await until(
      async () => {
        await poller.turn(true);
        await poller.thumbnails.idle();
        return getDb().select().from(roomThumbnails).where(eq(roomThumbnails.roomNum, room.num));
      },
      (rows) => rows.length === 1 && rows[0]!.width === 320,
      30_000,
    );

    // onair stops answering nginx's hooks, then the encoder goes: nginx's publish_done is lost.
    void hooks.close();
    ff.kill("SIGKILL");
    await until(
      () => fetch(statUrl).then((r) => r.text()),
      (xml) => !xml.includes(room.streamName),
      15_000,
    );
    await wait(500);
    const before = await callerOf(n.host).rooms.get({ room: room.id });
    expect([before.status, before.streamOnline]).toEqual(["live", true]);
    await poller.turn(true);
    const after = await callerOf(n.host).rooms.get({ room: room.id });
    expect([after.status, after.streamOnline]).toEqual(["paused", false]);
    const audit = await getDb()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.appId, n.app.id), eq(auditLog.action, "room.stream_stop")));
    expect(audit.map((a) => a.actorId)).toEqual(["system:reconcile"]);
  }, 120_000);
});

/** One stream as SRS 7's /api/v1/streams lists it (SrsStatisticStream::dumps). */
const srsStream = (name: string, o: { cid: string; active: boolean; frames: number; kbps: number }) => ({
  id: "vid-0xs1y8z",
  name,
  vhost: "vid-k2c7m4n",
  app: "live",
  tcUrl: "rtmp://127.0.0.1:1935/live",
  url: `/live/${name}`,
  live_ms: 1767225600000,
  clients: 2,
  frames: o.frames,
  send_bytes: 1048576,
  recv_bytes: 7340032,
  kbps: { recv_30s: o.kbps, send_30s: 0 },
  publish: o.active ? { active: true, cid: o.cid } : { active: false },
  video: { codec: "H264", profile: "High", level: "3.1", width: 1280, height: 720 },
  audio: { codec: "AAC", sample_rate: 44100, channel: 1, profile: "LC" },
});

describe("SRS API", () => {
  it("parses SRS's stream list: published streams, health with frame rate from two polls", () => {
    const counters = new Map();
    const at = new Date(Date.UTC(2026, 0, 1));
    const body = (frames: number, active = true) => ({
      code: 0,
      server: "vid-k2c7m4n",
      service: "q4v1f0b2",
      pid: "4242",
      streams: [
        srsStream("s1", { cid: "0l7e39x1", active, frames, kbps: 1264 }),
        { ...srsStream("s2", { cid: "x", active: true, frames, kbps: 1 }), app: "other" },
      ],
    });
    const first = srsStreamsEvents(body(1000), at, counters);
    expect(first[0]).toEqual({
      kind: "listed",
      via: "srs",
      prefix: "srs:",
      streams: new Map([["s1", "srs:0l7e39x1"]]),
      at,
    });
    expect(first).toHaveLength(2);
    expect(first[1]).toMatchObject({
      kind: "health",
      stream: "s1",
      reading: { fps: null, width: 1280, videoKbps: 1264 },
    });
    const second = srsStreamsEvents(body(1250), new Date(at.getTime() + 10_000), counters);
    expect(second[1]).toMatchObject({ reading: { fps: 25, videoCodec: "H264", height: 720, audioCodec: "AAC" } });
    const gone = srsStreamsEvents(body(1250, false), new Date(at.getTime() + 20_000), counters);
    expect(gone).toEqual([{ kind: "listed", via: "srs", prefix: "srs:", streams: new Map(), at: expect.any(Date) }]);
    expect(() => srsStreamsEvents({ code: 1001 }, at, counters)).toThrow();
  });

  it("polls SRS's API: readings stored, and a stream SRS no longer publishes pauses its room", async () => {
    const s = await makeTenant();
    const room = await callerOf(s.host).rooms.create({ title: "srs health" });
    const clock = new ManualClock(Date.now());
    await streamStarted(getDb(), clock, room.streamName, "srs:0l7e39x1", { trusted: true, via: "srs" });
    let answer = { frames: 5000, active: true };
    const seen: string[] = [];
    const api = await serve((req, res) => {
      seen.push(req.url ?? "");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          code: 0,
          server: "vid-k2c7m4n",
          service: "q4v1f0b2",
          pid: "4242",
          streams: [srsStream(room.streamName, { cid: "0l7e39x1", kbps: 2210, ...answer })],
        }),
      );
    });
    try {
      const poller = new MediaPoller(getDb(), clock, { srsApiUrl: api.base });
      await poller.turn(true);
      clock.advance(2000);
      answer = { frames: 5060, active: true };
      await poller.turn(true);
      expect(seen[0]).toBe("/api/v1/streams/?start=0&count=1000");
      const h = await roomHealth(ctxOf(s.host, clock), room.id);
      expect(h.latest).toMatchObject({ source: "srs", fps: 30, width: 1280, height: 720, videoKbps: 2210 });
      expect(h.series).toHaveLength(2);
      // Its unpublish hook never came; SRS lists the stream as no longer published.
      clock.advance(2000);
      answer = { frames: 5060, active: false };
      await poller.turn(true);
      const r = (await getDb().select().from(rooms).where(eq(rooms.num, room.num)))[0]!;
      expect([r.status, r.streamOnline, r.autoPaused]).toEqual(["paused", false, true]);
    } finally {
      await api.close();
    }
  });
});

describe("warnings", () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  const p = (s: number, o: Partial<HealthPoint>): HealthPoint => ({
    at: at(s),
    source: "embedded",
    videoCodec: "H264",
    width: 1280,
    height: 720,
    fps: 30,
    nominalFps: 30,
    videoKbps: 2000,
    keyframeIntervalMs: 2000,
    audioCodec: "AAC",
    audioKbps: 128,
    uptimeS: s,
    droppedFrames: null,
    ...o,
  });
  it("keyframes over 2 s, a bitrate under half the last minute's, fps under 60% of nominal", () => {
    const steady = [0, 5, 10, 15].map((s) => p(s, {}));
    expect(healthWarnings(steady)).toEqual([]);
    expect(healthWarnings([...steady, p(20, { keyframeIntervalMs: 2001 })])).toEqual([
      { code: "keyframe", intervalMs: 2001 },
    ]);
    expect(healthWarnings([...steady, p(20, { videoKbps: 900 })])).toEqual([
      { code: "bitrate", kbps: 1028, baselineKbps: 2128 },
    ]);
    expect(healthWarnings([...steady, p(20, { videoKbps: 1000 })])).toEqual([]);
    expect(healthWarnings([...steady, p(20, { fps: 17.9 })])).toEqual([{ code: "fps", fps: 17.9, nominalFps: 30 }]);
    expect(healthWarnings([...steady, p(20, { fps: 18 })])).toEqual([]);
    // No announced rate: the best of the last minute is the nominal one.
    const unannounced = steady.map((x) => ({ ...x, nominalFps: null }));
    expect(healthWarnings([...unannounced, p(20, { nominalFps: null, fps: 12 })])).toEqual([
      { code: "fps", fps: 12, nominalFps: 30 },
    ]);
    // Readings older than a minute are no baseline.
    expect(healthWarnings([p(0, {}), p(1, {}), p(80, { videoKbps: 500 })])).toEqual([]);
  });
});
