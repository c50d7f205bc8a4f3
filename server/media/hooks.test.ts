// SRS and nginx-rtmp callbacks over HTTP exactly as those servers send them, against the front's
// /hooks endpoints: allow/deny as each server expects, idempotent, order-tolerant.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../clock";
import { getDb, poolOf } from "../db/client";
import { auditLog, rooms } from "../db/schema";
import { resetEnvForTests } from "../env";
import { createFrontServer } from "../front/server";
import { signRoomToken } from "../tokens";
import { callerOf, makeTenant, serve, uniq, type Tenant } from "../../test/helpers";
import { publishKey } from "./keys";
import { endAbandonedRooms } from "./streams";

let t: Tenant;
let base: string;
let server: ReturnType<typeof createFrontServer>;
beforeAll(async () => {
  t = await makeTenant();
  server = createFrontServer({ webOrigin: "http://127.0.0.1:9" });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

async function newRoom(record = false) {
  return callerOf(t.host).rooms.create({ title: uniq("hook"), record });
}
const status = async (id: string) => callerOf(t.host).rooms.get({ room: id });
const roomRow = async (num: number) => (await getDb().select().from(rooms).where(eq(rooms.num, num)))[0];
const auditRows = async (roomId: string) =>
  (
    await getDb()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, roomId), eq(auditLog.action, "room.stream_start")))
  ).length;
const srs = (body: object) =>
  fetch(`${base}/hooks/srs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const srsBase = (name: string, client: string) => ({
  client_id: client,
  ip: "192.0.2.10",
  vhost: "__defaultVhost__",
  app: "live",
  stream: name,
  tcUrl: "rtmp://127.0.0.1/live",
  stream_url: `/live/${name}`,
  stream_id: "vid-1",
});
const nginx = (form: Record<string, string>, path = "/hooks/nginx") =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });

/** A room live from SRS connection "c1", and its publishes: from `client` with key `k` (the room's by default). */
async function liveRoom() {
  const r = await newRoom();
  const key = publishKey(r);
  const publish = (client: string, k = key) =>
    srs({ action: "on_publish", ...srsBase(r.streamName, client), param: `?key=${k}` });
  expect((await publish("c1")).status).toBe(200);
  return { r, key, publish };
}

describe("SRS HTTP callbacks", () => {
  it("on_publish with the right key allows (200, body 0) and the room goes live; duplicates are harmless", async () => {
    const r = await newRoom();
    const key = publishKey(r);
    const res = await srs({ action: "on_publish", ...srsBase(r.streamName, "c1"), param: `?key=${key}` });
    expect([res.status, await res.text()]).toEqual([200, "0"]);
    expect((await status(r.id)).status).toBe("live");
    const written = await roomRow(r.num);
    const dup = await srs({ action: "on_publish", ...srsBase(r.streamName, "c1"), param: `?key=${key}` });
    expect([dup.status, await dup.text()]).toEqual([200, "0"]);
    // The same connection again writes nothing (the row as the first left it, no audit row)…
    expect(await roomRow(r.num)).toEqual(written);
    expect(await auditRows(r.id)).toBe(1);
    // …and its key is still checked.
    const wrong = await srs({ action: "on_publish", ...srsBase(r.streamName, "c1"), param: "?key=nope" });
    expect(wrong.status).not.toBe(200);
    // Another connection is a change: it becomes the stream's publisher, recorded.
    const other = await srs({ action: "on_publish", ...srsBase(r.streamName, "c2"), param: `?key=${key}` });
    expect([other.status, await other.text()]).toEqual([200, "0"]);
    expect((await roomRow(r.num))?.streamClient).toBe("srs:c2");
    expect(await auditRows(r.id)).toBe(2);
  });

  it("checks a publish before taking the room's lock: while a change holds it, a repeat is answered and spent wrong keys refused; a new publisher waits", async () => {
    const { r, publish } = await liveRoom();
    // A write of the room's row under way elsewhere (a host's verb, another instance's hook).
    const conn = await poolOf(getDb()).getConnection();
    await conn.beginTransaction();
    await conn.query("SELECT num FROM rooms WHERE num = ? FOR UPDATE", [r.num]);
    const inTime = <T>(p: Promise<T>, ms: number) =>
      Promise.race([p, new Promise<"waiting">((res) => setTimeout(() => res("waiting"), ms))]);
    let newcomer: Promise<Response> | undefined;
    try {
      expect((await inTime(publish("c1"), 5000)) as Response).toMatchObject({ status: 200 });
      // The refusals this process records (two a second, a room at a time) still take the row;
      // past them, a flood of wrong keys is turned away without waiting for it.
      const refusals = Array.from({ length: 8 }, () => publish("c9", "nope"));
      const past = await inTime(Promise.race(refusals), 5000);
      expect(past).not.toBe("waiting");
      expect((past as Response).status).toBe(401);
      // Another connection is a change: it waits for the lock.
      newcomer = publish("c2");
      expect(await inTime(newcomer, 500)).toBe("waiting");
      await conn.commit();
      await Promise.all(refusals);
    } finally {
      await conn.rollback().catch(() => {});
      conn.release();
    }
    expect([(await newcomer).status, (await roomRow(r.num))?.streamClient]).toEqual([200, "srs:c2"]);
  });

  it("answers a repeat and spent or forged keys from the room as read less than a second ago, and reads anew what that read cannot tell", async () => {
    const { r, key, publish } = await liveRoom();
    // Reads of the room with its app (the publish check's), counted at the pool.
    const pool = poolOf(getDb()) as unknown as Record<"query" | "execute", (...a: unknown[]) => unknown>;
    const saved = { query: pool.query, execute: pool.execute };
    let reads = 0;
    for (const m of ["query", "execute"] as const)
      pool[m] = function (this: unknown, ...a: unknown[]) {
        const text = typeof a[0] === "string" ? a[0] : (a[0] as { sql?: string })?.sql;
        if (/inner join `apps`/i.test(text ?? "") && /stream_name/i.test(text ?? "")) reads++;
        return saved[m].apply(this, a);
      };
    try {
      expect((await publish("c1")).status).toBe(200);
      const before = reads;
      for (let i = 0; i < 20; i++) expect((await publish("c1")).status).toBe(200);
      for (const k of ["nope", "pk1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", `pk7_${key.slice(4)}`])
        expect((await publish("c9", k)).status).toBe(401);
      // At most one read meanwhile: the view renewed in the second half of its life.
      expect(reads - before).toBeLessThanOrEqual(1);
      // Another instance rotates the key (this process does not hear of it): the new key is read
      // anew and goes live at once; the old one, for a new connection, is refused on that read.
      await getDb()
        .update(rooms)
        .set({ keyVersion: r.keyVersion + 1 })
        .where(eq(rooms.num, r.num));
      const rotated = publishKey({ streamName: r.streamName, keyVersion: r.keyVersion + 1 });
      const was = reads;
      expect((await publish("c3", key)).status).toBe(401);
      expect((await publish("c2", rotated)).status).toBe(200);
      expect(reads).toBeGreaterThan(was);
      expect((await roomRow(r.num))?.streamClient).toBe("srs:c2");
      // A write in this process is seen at once: c2's start made the older view stale (c1 is a
      // new start again, not a repeat), and a key older than the room's is refused from the view.
      expect((await publish("c1", rotated)).status).toBe(200);
      expect((await roomRow(r.num))?.streamClient).toBe("srs:c1");
      expect((await publish("c4", key)).status).toBe(401);
      // Another instance ends the room: within the second the view may still answer the live
      // connection's repeat; after it, the end is read and the publish refused.
      await getDb().update(rooms).set({ status: "ended" }).where(eq(rooms.num, r.num));
      await new Promise((res) => setTimeout(res, 1100));
      expect((await publish("c1", rotated)).status).toBe(412);
    } finally {
      Object.assign(pool, saved);
    }
  });

  it("a second publisher is refused as busy while SRS's API still lists the first, and takes over once it does not", async () => {
    // SRS's /api/v1/streams as SRS 7 answers it (MEDIA_SRS_API_URL), listing what `listed` holds.
    let listed: { name: string; cid: string } | undefined;
    const api = await serve((_req, res) => {
      const streams = listed
        ? [{ name: listed.name, app: "live", url: `/live/${listed.name}`, publish: { active: true, cid: listed.cid } }]
        : [];
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ code: 0, streams }));
    });
    const saved = process.env.MEDIA_SRS_API_URL;
    process.env.MEDIA_SRS_API_URL = api.base;
    resetEnvForTests();
    try {
      const r = await newRoom();
      const key = publishKey(r);
      const publish = (client: string) =>
        srs({ action: "on_publish", ...srsBase(r.streamName, client), param: `?key=${key}` });
      expect((await publish("c1")).status).toBe(200);
      listed = { name: r.streamName, cid: "c1" };
      // SRS asks before it finds the stream busy: refused, and the room keeps its publisher.
      const busy = await publish("c2");
      expect(busy.status).toBe(409);
      expect(((await busy.json()) as { error: { code: string } }).error.code).toBe("CONFLICT");
      expect(await roomRow(r.num)).toMatchObject({ status: "live", streamOnline: true, streamClient: "srs:c1" });
      expect((await callerOf(t.host).media.refusals({ room: r.id })).map((f) => f.reason)).toEqual(["busy"]);
      // A wrong key is still a wrong key, busy or not.
      const wrong = await srs({ action: "on_publish", ...srsBase(r.streamName, "c3"), param: "?key=nope" });
      expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe("TOKEN_INVALID");
      // The first is gone and its unpublish was lost: SRS lists nobody, the next publisher takes over.
      listed = undefined;
      expect([(await publish("c2")).status, (await roomRow(r.num))?.streamClient]).toEqual([200, "srs:c2"]);
      // Where SRS cannot be asked (its API down), a publisher that came back is not locked out.
      await api.close();
      expect([(await publish("c4")).status, (await roomRow(r.num))?.streamClient]).toEqual([200, "srs:c4"]);
    } finally {
      if (saved === undefined) delete process.env.MEDIA_SRS_API_URL;
      else process.env.MEDIA_SRS_API_URL = saved;
      resetEnvForTests();
      await api.close().catch(() => undefined);
    }
  });

  it("denies a wrong key, a rotated key, an unknown stream and an ended room", async () => {
    const r = await newRoom();
    const bad = await srs({
      action: "on_publish",
      ...srsBase(r.streamName, "c1"),
      param: "?key=pk1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ code: 401, error: { code: "TOKEN_INVALID" } });
    const oldKey = publishKey(r);
    await callerOf(t.host).media.rotateKey({ room: r.id });
    expect((await srs({ action: "on_publish", ...srsBase(r.streamName, "c1"), param: `?key=${oldKey}` })).status).toBe(
      401,
    );
    expect(
      (await srs({ action: "on_publish", ...srsBase("nosuchstream", "c1"), param: `?key=${oldKey}` })).status,
    ).toBe(404);
    const ended = await newRoom();
    await callerOf(t.host).rooms.stop({ room: ended.id });
    expect(
      (await srs({ action: "on_publish", ...srsBase(ended.streamName, "c1"), param: `?key=${publishKey(ended)}` }))
        .status,
    ).toBe(412);
    expect((await status(r.id)).status).toBe("prepare");
  });

  it("on_play checks the token in param (signature, expiry, stream, scope)", async () => {
    const r = await newRoom();
    const other = await newRoom();
    const play = (await callerOf(t.viewer).media.pullUrls({ room: r.id })).token;
    const ok = await srs({ action: "on_play", ...srsBase(r.streamName, "p1"), param: `?token=${play}`, pageUrl: "" });
    expect([ok.status, await ok.text()]).toEqual([200, "0"]);
    expect((await srs({ action: "on_play", ...srsBase(r.streamName, "p1"), param: "" })).status).toBe(401);
    expect((await srs({ action: "on_play", ...srsBase(other.streamName, "p1"), param: `?token=${play}` })).status).toBe(
      401,
    );
    const expired = signRoomToken(
      { scope: "play", app: r.appId, room: r.id, num: r.num, st: r.streamName, sub: "guest:x" },
      new Date(Date.now() - 7200_000),
      60,
    ).token;
    const exp = await srs({ action: "on_play", ...srsBase(r.streamName, "p1"), param: `?token=${expired}` });
    expect(((await exp.json()) as { error: { code: string } }).error.code).toBe("TOKEN_EXPIRED");
    for (const action of ["on_stop", "on_hls", "on_connect", "on_close"]) {
      const res = await srs({ action, ...srsBase(r.streamName, "p1"), param: "" });
      expect([res.status, await res.text()]).toEqual([200, "0"]);
    }
    const junk = await fetch(`${base}/hooks/srs`, { method: "POST", body: "{not json" });
    expect(junk.status).toBe(400);
  });

  it("unpublish pauses; a late unpublish from an earlier connection is ignored; grace ends the room", async () => {
    const r = await newRoom();
    const key = publishKey(r);
    await srs({ action: "on_publish", ...srsBase(r.streamName, "c1"), param: `?key=${key}` });
    // The encoder reconnects (new client id) before the old connection's unpublish arrives.
    await srs({ action: "on_publish", ...srsBase(r.streamName, "c2"), param: `?key=${key}` });
    expect((await srs({ action: "on_unpublish", ...srsBase(r.streamName, "c1"), param: "" })).status).toBe(200);
    expect((await status(r.id)).status).toBe("live");
    await srs({ action: "on_unpublish", ...srsBase(r.streamName, "c2"), param: "" });
    await srs({ action: "on_unpublish", ...srsBase(r.streamName, "c2"), param: "" });
    expect(await status(r.id)).toMatchObject({ status: "paused", streamOnline: false });
    const clock = new ManualClock(Date.now() + 30_000);
    // (Other test files' rooms share the database: the count says nothing about this one.)
    await endAbandonedRooms(getDb(), clock, { appId: t.app.id });
    expect((await status(r.id)).status).toBe("paused");
    clock.advance(31_000);
    expect(await endAbandonedRooms(getDb(), clock, { appId: t.app.id })).toBeGreaterThanOrEqual(1);
    expect((await status(r.id)).status).toBe("ended");
  });

  it("a host's own pause is not ended by the grace sweeper", async () => {
    const r = await newRoom();
    await srs({ action: "on_publish", ...srsBase(r.streamName, "c1"), param: `?key=${publishKey(r)}` });
    await callerOf(t.host).rooms.pause({ room: r.id });
    await srs({ action: "on_unpublish", ...srsBase(r.streamName, "c1"), param: "" });
    await endAbandonedRooms(getDb(), new ManualClock(Date.now() + 3600_000), { appId: t.app.id });
    expect((await status(r.id)).status).toBe("paused");
  });
});

describe("nginx-rtmp notifications", () => {
  it("publish / play / publish_done / done as nginx sends them (2xx allows, 4xx denies)", async () => {
    const r = await newRoom();
    const form = { app: "live", name: r.streamName, addr: "192.0.2.7", clientid: "17", tcurl: "rtmp://127.0.0.1/live" };
    expect(
      (await nginx({ call: "publish", ...form, type: "live", key: "pk1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" })).status,
    ).toBe(401);
    expect((await nginx({ call: "publish", ...form, type: "live", key: publishKey(r) })).status).toBe(200);
    expect((await status(r.id)).status).toBe("live");
    const play = (await callerOf(t.viewer).media.pullUrls({ room: r.id })).token;
    expect((await nginx({ call: "play", ...form, clientid: "18", token: play })).status).toBe(200);
    expect((await nginx({ call: "play", ...form, clientid: "18", token: "x.y.z" })).status).toBe(401);
    // A player's `done` does not stop the stream; the publisher's does.
    expect((await nginx({ call: "done", ...form, clientid: "18" })).status).toBe(200);
    expect((await status(r.id)).status).toBe("live");
    expect((await nginx({ call: "publish_done", ...form })).status).toBe(200);
    expect((await status(r.id)).status).toBe("paused");
  });

  it("auth_request for HLS takes the token from the original URI", async () => {
    const r = await newRoom();
    const play = (await callerOf(t.viewer).media.pullUrls({ room: r.id })).token;
    const auth = (uri: string) => fetch(`${base}/hooks/nginx/auth`, { headers: { "x-original-uri": uri } });
    expect((await auth(`/live/${r.streamName}/index.m3u8?token=${play}`)).status).toBe(200);
    expect((await auth(`/live/${r.streamName}/3.ts?token=${play}`)).status).toBe(200);
    expect((await auth(`/live/${r.streamName}/index.m3u8`)).status).toBe(401);
    expect((await auth(`/live/other/index.m3u8?token=${play}`)).status).toBe(401);
  });
});

describe("hook callers", () => {
  it("refuses callers outside the allow-list unless they present the shared secret", async () => {
    process.env.MEDIA_HOOK_ALLOW = "192.0.2.1";
    process.env.MEDIA_HOOK_SECRET = "a-very-long-hook-secret";
    resetEnvForTests();
    const locked = createFrontServer({ webOrigin: "http://127.0.0.1:9" });
    await new Promise<void>((r) => locked.listen(0, "127.0.0.1", r));
    const b = `http://127.0.0.1:${(locked.address() as AddressInfo).port}`;
    try {
      const body = JSON.stringify({ action: "on_stop", app: "live", stream: "x", param: "" });
      expect((await fetch(`${b}/hooks/srs`, { method: "POST", body })).status).toBe(403);
      expect((await fetch(`${b}/hooks/srs?secret=wrong-wrong-wrong-wrong`, { method: "POST", body })).status).toBe(403);
      const ok = await fetch(`${b}/hooks/srs?secret=a-very-long-hook-secret`, { method: "POST", body });
      expect([ok.status, await ok.text()]).toEqual([200, "0"]);
    } finally {
      delete process.env.MEDIA_HOOK_ALLOW;
      delete process.env.MEDIA_HOOK_SECRET;
      resetEnvForTests();
      await new Promise((r) => locked.close(r));
    }
  });
  it("record_done and on_dvr never touch a file outside MEDIA_RECORD_DIRS", async () => {
    const r = await newRoom(false);
    const outside = join(mkdtempSync(join(tmpdir(), "onair-rec-")), "victim.flv");
    writeFileSync(outside, "keep me");
    const form = { app: "live", name: r.streamName, addr: "127.0.0.1", clientid: "9" };
    const res = await nginx({ call: "record_done", ...form, path: outside });
    expect(res.status).toBe(403);
    const dvr = await srs({ action: "on_dvr", ...srsBase(r.streamName, "9"), cwd: "/", file: outside.slice(1) });
    expect(dvr.status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(outside)).toBe(true);
    expect((await callerOf(t.host).recordings.list({ room: r.id })).total).toBe(0);
  });
  it("a vendor-signed push URL (Tencent style) stops working when the room's key is rotated", async () => {
    await callerOf(t.root).apps.update({ id: t.app.id, signScheme: "tencent" });
    try {
      const r = await newRoom();
      const paramOf = (url: string) => `?${new URL(url).search.slice(1)}`;
      const before = paramOf((await callerOf(t.host).media.pushInfo({ room: r.id })).rtmp_url);
      expect(before).toContain("txSecret=");
      expect((await srs({ action: "on_publish", ...srsBase(r.streamName, "v1"), param: before })).status).toBe(200);
      await srs({ action: "on_unpublish", ...srsBase(r.streamName, "v1") });
      await callerOf(t.host).media.rotateKey({ room: r.id });
      expect((await srs({ action: "on_publish", ...srsBase(r.streamName, "v2"), param: before })).status).toBe(401);
      const after = paramOf((await callerOf(t.host).media.pushInfo({ room: r.id })).rtmp_url);
      expect((await srs({ action: "on_publish", ...srsBase(r.streamName, "v3"), param: after })).status).toBe(200);
    } finally {
      await callerOf(t.root).apps.update({ id: t.app.id, signScheme: "onair" });
    }
  });
  it("behind a reverse proxy, a hook's loopback address proves nothing: the secret is needed", async () => {
    const body = JSON.stringify({ action: "on_stop", app: "live", stream: "x", param: "" });
    // A forwarded request (any proxy in front) is not trusted by address.
    const forwarded = await fetch(`${base}/hooks/srs`, {
      method: "POST",
      body,
      headers: { "x-forwarded-for": "203.0.113.5" },
    });
    expect(forwarded.status).toBe(403);
    process.env.TRUST_PROXY = "loopback";
    process.env.MEDIA_HOOK_SECRET = "a-very-long-hook-secret";
    resetEnvForTests();
    const proxied = createFrontServer({ webOrigin: "http://127.0.0.1:9" });
    await new Promise<void>((r) => proxied.listen(0, "127.0.0.1", r));
    const b = `http://127.0.0.1:${(proxied.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${b}/hooks/srs`, { method: "POST", body })).status).toBe(403);
      const ok = await fetch(`${b}/hooks/srs`, {
        method: "POST",
        body,
        headers: { "x-onair-hook-secret": "a-very-long-hook-secret" },
      });
      expect([ok.status, await ok.text()]).toEqual([200, "0"]);
    } finally {
      delete process.env.TRUST_PROXY;
      delete process.env.MEDIA_HOOK_SECRET;
      resetEnvForTests();
      await new Promise((r) => proxied.close(r));
    }
  });
});
