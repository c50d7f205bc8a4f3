// The hook bodies a real SRS 7.0.18 sent onair (../shared/media/srs7.md), posted as recorded with
// only the stream, key, token and folders made this test's: onair's answers (200 + "0" allows,
// anything else refuses) and what they did to rooms, recordings and the log.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { resetEnvForTests } from "../env";
import { createFrontServer } from "../front/server";
import { callerOf, makeTenant, uniq, type Tenant } from "../../test/helpers";
import { run } from "./ffmpeg";
import { publishKey } from "./keys";

// As recorded (tokens and keys shortened there; filled in per test here).
const RECORDED = {
  on_publish: `{"server_id":"vid-1l780a7","service_id":"e1n3r017","action":"on_publish","client_id":"lz88ny90","ip":"127.0.0.1","vhost":"__defaultVhost__","app":"live","tcUrl":"rtmp://127.0.0.1:19350/live","stream":"sf410b161cf1506eeeb","param":"?key=pk1_C4Gg…","stream_url":"/live/sf410b161cf1506eeeb","stream_id":"vid-09915v5"}`,
  on_play: `{"server_id":"vid-1l780a7","service_id":"e1n3r017","action":"on_play","client_id":"m5794sv0","ip":"127.0.0.1","vhost":"__defaultVhost__","app":"live","stream":"sf410b161cf1506eeeb","tcUrl":"rtmp://__defaultVhost__/live","param":"?token=eyJr…","pageUrl":"","stream_url":"/live/sf410b161cf1506eeeb","stream_id":"vid-09915v5"}`,
  on_dvr: `{"server_id":"vid-1l780a7","service_id":"e1n3r017","action":"on_dvr","client_id":"lz88ny90","ip":"127.0.0.1","vhost":"__defaultVhost__","app":"live","tcUrl":"rtmp://127.0.0.1:19350/live","stream":"sf410b161cf1506eeeb","param":"?key=pk1_C4Gg…","cwd":"/srv/srs/trunk","file":"./objs/nginx/html/live/sf410b161cf1506eeeb.1795975424198.flv","stream_url":"/live/sf410b161cf1506eeeb","stream_id":"vid-09915v5"}`,
};
const RECORDED_STREAM = "sf410b161cf1506eeeb";

let t: Tenant;
let base: string;
let server: ReturnType<typeof createFrontServer>;
let srsCwd: string;
beforeAll(async () => {
  // SRS's working folder (its `cwd` in on_dvr) is where onair accepts DVR files from.
  srsCwd = join(mkdtempSync(join(tmpdir(), "onair-srs7-")), "trunk");
  mkdirSync(srsCwd, { recursive: true });
  process.env.MEDIA_RECORD_DIRS = srsCwd;
  resetEnvForTests();
  t = await makeTenant();
  server = createFrontServer({ webOrigin: "http://127.0.0.1:9" });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  delete process.env.MEDIA_RECORD_DIRS;
  resetEnvForTests();
  rmSync(dirname(srsCwd), { recursive: true, force: true });
  await new Promise((r) => server.close(r));
});

type Action = "on_publish" | "on_unpublish" | "on_play" | "on_stop" | "on_dvr";
/** A recorded body for `action` (on_unpublish / on_stop carry on_publish's / on_play's fields). */
function recorded(action: Action, stream: string, fill: Record<string, string> = {}) {
  const from = action === "on_unpublish" ? "on_publish" : action === "on_stop" ? "on_play" : action;
  const text = RECORDED[from].replaceAll(RECORDED_STREAM, stream).replace(`"action":"${from}"`, `"action":"${action}"`);
  return { ...(JSON.parse(text) as Record<string, string>), ...fill };
}
async function post(body: object) {
  const res = await fetch(`${base}/hooks/srs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}
const ALLOWED = { status: 200, text: "0" };
const newRoom = (record: boolean) => callerOf(t.host).rooms.create({ title: uniq("srs7"), record });
const roomStatus = async (id: string) => (await callerOf(t.host).rooms.get({ room: id })).status;
const playToken = async (id: string) => (await callerOf(t.viewer).media.pullUrls({ room: id })).token;
const recordingsOf = async (id: string) => (await callerOf(t.host).recordings.list({ room: id })).items;

/** A real FLV where SRS's recorded dvr_path puts it, relative to `cwd`. */
async function dvrFile(stream: string) {
  const file = `./objs/nginx/html/live/${stream}.${Date.now()}.flv`;
  const full = join(srsCwd, file);
  mkdirSync(dirname(full), { recursive: true });
  const r = await run("ffmpeg", [
    ...["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "2"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "flv", full],
  ]);
  expect(r.code, r.err).toBe(0);
  return { file, full };
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("SRS 7 recorded hook bodies", () => {
  it("publish with the key → live; play with the token allowed, without refused; unpublish → paused; stop changes nothing", async () => {
    const r = await newRoom(false);
    expect(await post(recorded("on_publish", r.streamName, { param: "?key=pk1_C4Gg" }))).toMatchObject({
      status: 401,
    });
    expect(await roomStatus(r.id)).toBe("prepare");
    expect(await post(recorded("on_publish", r.streamName, { param: `?key=${publishKey(r)}` }))).toEqual(ALLOWED);
    expect(await roomStatus(r.id)).toBe("live");

    const token = await playToken(r.id);
    expect(await post(recorded("on_play", r.streamName, { param: `?token=${token}` }))).toEqual(ALLOWED);
    const without = await post(recorded("on_play", r.streamName, { param: "" }));
    expect(without.status).toBe(401);
    expect(JSON.parse(without.text)).toMatchObject({ code: 401, error: { code: "UNAUTHENTICATED" } });
    expect((await post(recorded("on_play", r.streamName, { param: "?token=eyJr…" }))).status).toBe(401);
    // Another room's token does not open this one.
    const other = await newRoom(false);
    expect(
      (await post(recorded("on_play", r.streamName, { param: `?token=${await playToken(other.id)}` }))).status,
    ).toBe(401);
    expect(await roomStatus(r.id)).toBe("live");

    expect(await post(recorded("on_stop", r.streamName, { param: `?token=${token}` }))).toEqual(ALLOWED);
    expect(await roomStatus(r.id)).toBe("live");
    expect(await post(recorded("on_unpublish", r.streamName, { param: `?key=${publishKey(r)}` }))).toEqual(ALLOWED);
    expect(await roomStatus(r.id)).toBe("paused");
    expect(await post(recorded("on_stop", r.streamName, { param: "" }))).toEqual(ALLOWED);
    expect(await roomStatus(r.id)).toBe("paused");
  });

  it("the two HLS playlist forms (hls_ctx on) are checked for the room they name", async () => {
    const r = await newRoom(false);
    const other = await newRoom(false);
    const token = await playToken(r.id);
    const otherToken = await playToken(other.id);
    // onair's layout: /live/<stream>/index.m3u8 → app "live/<stream>", stream "index.m3u8".
    const nested = (param: string) =>
      post(recorded("on_play", r.streamName, { app: `live/${r.streamName}`, stream: "index.m3u8", param }));
    expect(await nested(`?token=${token}`)).toEqual(ALLOWED);
    expect((await nested("")).status).toBe(401);
    expect((await nested(`?token=${otherToken}`)).status).toBe(401);
    // SRS's default: /live/<stream>.m3u8 → stream "<stream>.m3u8".
    const flat = (param: string) => post(recorded("on_play", r.streamName, { stream: `${r.streamName}.m3u8`, param }));
    expect(await flat(`?token=${token}`)).toEqual(ALLOWED);
    expect((await flat("")).status).toBe(401);
    expect((await flat(`?token=${otherToken}`)).status).toBe(401);
    // The session's end (on_stop in the playlist's form) is fine; other apps are not onair's.
    expect(
      await post(recorded("on_stop", r.streamName, { app: `live/${r.streamName}`, stream: "index.m3u8", param: "" })),
    ).toEqual(ALLOWED);
    expect(
      (
        await post(
          recorded("on_play", r.streamName, { app: "other/x", stream: "index.m3u8", param: `?token=${token}` }),
        )
      ).status,
    ).toBe(404);
    expect(
      (
        await post(
          recorded("on_play", r.streamName, {
            app: `live/${r.streamName}`,
            stream: "../x.m3u8",
            param: `?token=${token}`,
          }),
        )
      ).status,
    ).toBe(404);
    expect(await roomStatus(r.id)).toBe("prepare");
  });

  it("dvr of a room with record on becomes a ready recording (SRS's file then removed)", async () => {
    const r = await newRoom(true);
    await post(recorded("on_publish", r.streamName, { param: `?key=${publishKey(r)}` }));
    const { file, full } = await dvrFile(r.streamName);
    expect(await post(recorded("on_dvr", r.streamName, { cwd: srsCwd, file, param: `?key=${publishKey(r)}` }))).toEqual(
      ALLOWED,
    );
    const items = await until(
      () => recordingsOf(r.id),
      (l) => l[0]?.status === "ready",
    );
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: "ready" });
    expect(items[0]!.durationMs).toBeGreaterThan(1500);
    expect(existsSync(full)).toBe(false);
  });

  it("dvr of a room without record makes no recording and deletes SRS's file", async () => {
    const r = await newRoom(false);
    await post(recorded("on_publish", r.streamName, { param: `?key=${publishKey(r)}` }));
    const { file, full } = await dvrFile(r.streamName);
    expect(await post(recorded("on_dvr", r.streamName, { cwd: srsCwd, file }))).toEqual(ALLOWED);
    expect(existsSync(full)).toBe(false);
    await new Promise((res) => setTimeout(res, 300));
    expect(await recordingsOf(r.id)).toHaveLength(0);
  });

  it("dvr never reaches outside the SRS folder: ../ in file, a cwd elsewhere, a link out", async () => {
    const r = await newRoom(false);
    const outside = join(mkdtempSync(join(tmpdir(), "onair-srs7-out-")), "victim.flv");
    writeFileSync(outside, "keep me");
    const escapes = [
      { cwd: srsCwd, file: `../../${outside}` },
      { cwd: srsCwd, file: `./../../../../../../..${outside}` },
      { cwd: dirname(outside), file: "./victim.flv" },
      { cwd: srsCwd, file: outside },
    ];
    for (const where of escapes) {
      const res = await post(recorded("on_dvr", r.streamName, where));
      expect(res.status, JSON.stringify(where)).toBe(403);
    }
    const { symlinkSync } = await import("node:fs");
    symlinkSync(outside, join(srsCwd, "link.flv"));
    expect((await post(recorded("on_dvr", r.streamName, { cwd: srsCwd, file: "./link.flv" }))).status).toBe(403);
    expect(existsSync(outside)).toBe(true);
    expect(await recordingsOf(r.id)).toHaveLength(0);
  });

  it("every refusal is logged once with its reason, stream and addresses, never the token; a flood is capped", async () => {
    const r = await newRoom(false);
    const other = await newRoom(false);
    const wrongToken = await playToken(other.id);
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      await post(recorded("on_play", r.streamName, { param: `?token=${wrongToken}`, ip: "198.51.100.7" }));
      const refusals = lines.filter((l) => l.includes('"hook refused"'));
      expect(refusals).toHaveLength(1);
      expect(JSON.parse(refusals[0]!)).toMatchObject({
        level: "warn",
        hook: "/hooks/srs",
        action: "on_play",
        code: "TOKEN_INVALID",
        stream: `live/${r.streamName}`,
        client: "198.51.100.7",
        peer: "127.0.0.1",
      });
      expect(refusals[0]).not.toContain(wrongToken);
      expect(refusals[0]).not.toContain(wrongToken.slice(0, 20));
      // A key pasted where the stream name goes (a common encoder slip) is not printed either.
      lines.length = 0;
      const key = publishKey(r);
      expect((await post(recorded("on_publish", key, { param: "" }))).status).toBe(404);
      const slip = lines.filter((l) => l.includes('"hook refused"'));
      expect(slip).toHaveLength(1);
      expect(slip[0]).not.toContain(key);
      expect(JSON.parse(slip[0]!)).toMatchObject({ code: "NOT_FOUND", stream: "(unprintable)" });

      lines.length = 0;
      const started = Date.now();
      await Promise.all(
        Array.from({ length: 300 }, () => post(recorded("on_play", r.streamName, { param: `?token=${wrongToken}` }))),
      );
      const flood = lines.filter((l) => l.includes('"hook refused"'));
      // At most the burst (50) and 10 a second while it lasted; the line after a drop counts it.
      expect(flood.length).toBeGreaterThan(0);
      expect(flood.length).toBeLessThanOrEqual(51 + Math.ceil(((Date.now() - started) / 1000) * 10));
      expect(flood.length).toBeLessThan(300);
    } finally {
      spy.mockRestore();
    }
  });
});
