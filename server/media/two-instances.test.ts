// Two onair instances (front + embedded media each) on one database and one Redis: a stream
// published on one plays through the other (HTTP-FLV and HLS), the room stays live while both nodes
// reconcile, and when the publishing node dies its streams are stopped by the other after the lease.
// Room events cross through Redis: a chat message sent on one reaches viewers on the other, and a
// kick on one closes the kicked viewer's socket and cuts their play on the other, within a second
// (each front reads room_events only once a minute here, so only Redis can carry them that fast).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import http from "node:http";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../clock";
import { getDb } from "../db/client";
import { auditLog, rooms } from "../db/schema";
import { signRoomToken } from "../tokens";
import { callerOf, makeTenant, type Tenant } from "../../test/helpers";
import { exited, freePort, spawnTs, waitFor } from "../../test/process";
import { publishKey } from "./keys";
import { run, testSourceArgs } from "./ffmpeg";
import { tokenKey } from "../crypto/keys";
import { signCompact } from "../tokens/jwt";
import { PASSWORD } from "../../test/helpers";
import { startRedis } from "../../test/redis";
import { openEvents, type EventClient } from "../../test/ws";

interface Instance {
  port: number;
  rtmp: number;
  media: ReturnType<typeof spawnTs>;
  front: ReturnType<typeof spawnTs>;
}
let t: Tenant;
let a: Instance;
let b: Instance;
let ffmpeg: ChildProcess | undefined;
let redis: Awaited<ReturnType<typeof startRedis>>;
const sockets: EventClient[] = [];

async function portOpen(port: number, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((r) => {
      const s = createConnection({ port, host: "127.0.0.1" }, () => (s.end(), r(true)));
      s.on("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`port ${port} did not open`);
}

async function instance(): Promise<Instance> {
  const [port, rtmp, flv, web] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env = {
    PORT: String(port),
    WEB_PORT: String(web),
    MEDIA_RTMP_PORT: String(rtmp),
    MEDIA_HTTP_PORT: String(flv),
    MEDIA_DIR: mkdtempSync(join(tmpdir(), "onair-node-")),
    MEDIA_NODE_HOST: "127.0.0.1",
    MEDIA_NODE_LEASE_S: "3",
    LOG_LEVEL: "warn",
    REDIS_URL: redis.url,
    EVENTS_POLL_MS: "60000",
    REVOCATION_POLL_MS: "200",
    // The figures refresh would make every test sharing this database read a table a second behind.
    FIGURES_REFRESH_MS: "0",
  };
  const media = spawnTs("server/media/main.ts", env);
  const front = spawnTs("server/front/main.ts", env);
  await portOpen(rtmp);
  await waitFor(`http://127.0.0.1:${port}/api/rooms/state?room=1`, 30_000);
  return { port, rtmp, media, front };
}

beforeAll(async () => {
  t = await makeTenant();
  redis = await startRedis();
  [a, b] = await Promise.all([instance(), instance()]);
}, 90_000);
afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  ffmpeg?.kill("SIGKILL");
  for (const i of [a, b])
    for (const p of [i?.front, i?.media]) {
      if (!p || p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill("SIGTERM");
      await exited(p.child);
    }
  await redis?.stop();
});

/** A signed-in user's access token, from the login any SDK client uses. */
async function bearer(username: string) {
  const r = await fetch(`http://127.0.0.1:${a.port}/api/trpc/auth.login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  const body = (await r.json()) as { result: { data: { accessToken: string } } };
  return body.result.data.accessToken;
}

/** Chat and a kick cross between the instances through Redis, while the stream plays through B. */
async function eventsAcrossInstances(room: { id: string; num: number }, streamName: string) {
  const join = async (who: typeof t.viewer) => (await callerOf(who).presence.join({ room: room.id })).presenceToken;
  const [vTok, v2Tok] = await Promise.all([join(t.viewer), join(t.viewer2)]);
  const url = (i: Instance, tok: string) => `ws://127.0.0.1:${i.port}/api/rooms/events?room=${room.id}&token=${tok}`;
  const onA = await openEvents(url(a, vTok));
  const onB = await openEvents(url(b, v2Tok));
  sockets.push(onA, onB);
  await Promise.all([onA, onB].map((s) => s.next((f) => f.type === "hello")));
  const sentAt = Date.now();
  onA.send({ type: "chat", text: "从 A 来的消息 🚀" });
  const got = await onB.next((f) => f.type === "chat", 1000);
  expect(got.message).toMatchObject({ text: "从 A 来的消息 🚀", memberId: t.viewer.userId });
  expect(Date.now() - sentAt).toBeLessThan(1000);

  // viewer2 plays HTTP-FLV through B; the host kicks them on A.
  const play = signRoomToken(
    { scope: "play", app: t.app.id, room: room.id, num: room.num, st: streamName, sub: t.viewer2.userId },
    systemClock.now(),
    600,
  ).token;
  let playEnded = 0;
  let playBytes = 0;
  const req = http.get(`http://127.0.0.1:${b.port}/live/${streamName}.flv?token=${play}`, (res) => {
    res.on("data", (c: Buffer) => (playBytes += c.length));
    res.on("close", () => (playEnded = Date.now()));
  });
  req.on("error", () => (playEnded ||= Date.now()));
  while (playBytes < 16 * 1024) await new Promise((r) => setTimeout(r, 100));
  const hostBearer = await bearer(t.host.username);
  const kickedAt = Date.now();
  const kick = await fetch(`http://127.0.0.1:${a.port}/api/trpc/presence.kick`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${hostBearer}` },
    body: JSON.stringify({ room: room.id, memberId: t.viewer2.userId }),
  });
  expect(kick.status).toBe(200);
  expect(await onB.next((f) => f.type === "kicked", 1000)).toMatchObject({ memberId: t.viewer2.userId });
  expect((await onB.closed).code).toBe(4403);
  expect(Date.now() - kickedAt).toBeLessThan(1000);
  // The play on B is cut too (the revocation is mirrored on every instance).
  while (!playEnded && Date.now() - kickedAt < 5000) await new Promise((r) => setTimeout(r, 50));
  expect(playEnded).toBeGreaterThan(0);
  expect(playEnded - kickedAt).toBeLessThan(2000);
  onA.close();
}

const roomRow = async (num: number) => (await getDb().select().from(rooms).where(eq(rooms.num, num)))[0]!;

/** The first `bytes` of an HTTP body (then the connection is dropped). */
function head(url: string, bytes: number) {
  return new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const req = http.get(url, (res) => {
      const chunks: Buffer[] = [];
      let got = 0;
      const done = () => (req.destroy(), resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("data", (c: Buffer) => {
        chunks.push(c);
        got += c.length;
        if (got >= bytes) done();
      });
      res.on("end", done);
    });
    req.on("error", reject);
    req.setTimeout(15_000, () => req.destroy(new Error("timeout")));
  });
}

describe("two instances with embedded media on one database", () => {
  it(
    "a stream published on one plays through the other, stays live, and is stopped when its node dies",
    {
      timeout: 240_000,
    },
    async () => {
      const host = callerOf(t.host);
      const room = await host.rooms.create({ title: "two nodes" });
      const row = await roomRow(room.num);
      ffmpeg = spawn(
        "ffmpeg",
        [
          ...["-hide_banner", "-loglevel", "error"],
          // Killed in afterAll; bounded in case the run dies first.
          ...testSourceArgs("320x240", 25, 600),
          ...["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p"],
          ...["-c:a", "aac", "-f", "flv", `rtmp://127.0.0.1:${a.rtmp}/live/${row.streamName}?key=${publishKey(row)}`],
        ],
        { stdio: "ignore" },
      );
      const deadline = Date.now() + 20_000;
      while (!(await roomRow(room.num)).streamOnline && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 250));
      expect((await roomRow(room.num)).status).toBe("live");

      const token = signRoomToken(
        { scope: "play", app: row.appId, room: row.id, num: row.num, st: row.streamName, sub: t.viewer.userId },
        systemClock.now(),
        600,
      ).token;
      // HTTP-FLV through B: B's front pulls from A's node.
      const flv = await head(`http://127.0.0.1:${b.port}/live/${row.streamName}.flv?token=${token}`, 64 * 1024);
      expect(flv.status).toBe(200);
      expect(flv.body.subarray(0, 3).toString()).toBe("FLV");
      expect(flv.body.length).toBeGreaterThanOrEqual(64 * 1024);
      // HLS through B: playlist and a segment, relayed from A's front (token checked on both).
      let playlist = "";
      for (let i = 0; i < 40 && !/seg_\d+\.ts/.test(playlist); i++) {
        const r = await fetch(`http://127.0.0.1:${b.port}/live/${row.streamName}/index.m3u8?token=${token}`);
        playlist = r.ok ? await r.text() : "";
        if (!playlist) await new Promise((r) => setTimeout(r, 500));
      }
      const seg = /^(seg_\d+\.ts\?\S+)$/m.exec(playlist)?.[1];
      expect(seg).toBeTruthy();
      const segment = await fetch(`http://127.0.0.1:${b.port}/live/${row.streamName}/${seg}`);
      expect(segment.status).toBe(200);
      expect((await segment.arrayBuffer()).byteLength).toBeGreaterThan(1000);
      expect((await fetch(`http://127.0.0.1:${b.port}/live/${row.streamName}/index.m3u8`)).status).toBe(401);
      // LTStream's MPEG-TS main stream (/live/<code>.ts?type=1) through B: H.264 and AAC in MPEG-TS.
      const lt = signCompact({ k: "l", a: row.appId, e: Math.floor(Date.now() / 1000) + 600 }, tokenKey());
      const probe = await run(
        "ffprobe",
        ["-v", "error", "-show_entries", "stream=codec_name:format=format_name", "-of", "json"].concat(
          `http://127.0.0.1:${b.port}/live/${row.num}.ts?type=1&token=${lt}`,
        ),
        20_000,
      );
      const probed = JSON.parse(probe.out || "{}") as {
        streams?: { codec_name: string }[];
        format?: { format_name: string };
      };
      expect(probed.format?.format_name).toBe("mpegts");
      expect(probed.streams?.map((s) => s.codec_name).sort()).toEqual(["aac", "h264"]);

      // Two minutes with both nodes reconciling every second (lease 3 s): the room never flips.
      const settled = new Promise((r) => setTimeout(r, 120_000));
      await eventsAcrossInstances(room, row.streamName);
      await settled;
      const live = await roomRow(room.num);
      expect([live.status, live.streamOnline]).toEqual(["live", true]);
      const flips = await getDb()
        .select({ id: auditLog.id })
        .from(auditLog)
        .where(and(eq(auditLog.targetId, row.id), like(auditLog.action, "room.stream_stop")));
      expect(flips).toEqual([]);

      // A's node dies without a word: after its lease, B stops the stream; the room pauses.
      a.media.child.kill("SIGKILL");
      const lostBy = Date.now() + 15_000;
      while ((await roomRow(room.num)).streamOnline && Date.now() < lostBy)
        await new Promise((r) => setTimeout(r, 250));
      expect((await roomRow(room.num)).status).toBe("paused");
    },
  );
});
