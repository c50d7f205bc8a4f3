// Always-on sources with two fronts on one database: exactly one pulls (the lease holder), a play on
// the other never starts a second pull, the holder killed without a word → the other takes over once
// the lease expires, and the source set back to on demand → nobody pulls it without a viewer.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ports";
import { callerOf, makeTenant, uniq, type Tenant } from "../../test/helpers";
import { pullsOf, startHlsSource, until, wait } from "../../test/sources";
import { systemClock } from "../clock";
import { getDb } from "../db/client";
import { rooms, streamSources } from "../db/schema";
import { resetEnvForTests } from "../env";
import { EmbeddedMedia } from "./embedded";
import { Pulls } from "./pulls";

let t: Tenant;
let media: EmbeddedMedia;
let hls: Awaited<ReturnType<typeof startHlsSource>>;
let fronts: Pulls[] = [];

beforeAll(async () => {
  Object.assign(process.env, {
    OUTBOUND_ALLOW: "127.0.0.1",
    MEDIA_RTMP_PORT: String(await freePort()),
    MEDIA_HTTP_PORT: String(await freePort()),
    MEDIA_DIR: mkdtempSync(join(tmpdir(), "onair-always-on-")),
    SOURCE_LEASE_S: "2",
    SOURCE_IDLE_STOP_S: "1",
  });
  resetEnvForTests();
  [t, hls] = await Promise.all([makeTenant(), startHlsSource({ seconds: 180 })]);
  media = new EmbeddedMedia(getDb());
  await media.start();
});
afterAll(async () => {
  await Promise.all(fronts.map((f) => f.stopAll()));
  await media?.stop();
  await hls?.stop();
  if (process.env.MEDIA_DIR) rmSync(process.env.MEDIA_DIR, { recursive: true, force: true });
  for (const k of [
    "OUTBOUND_ALLOW",
    "MEDIA_RTMP_PORT",
    "MEDIA_HTTP_PORT",
    "MEDIA_DIR",
    "SOURCE_LEASE_S",
    "SOURCE_IDLE_STOP_S",
  ])
    delete process.env[k];
  resetEnvForTests();
});

describe("always-on sources across fronts", () => {
  it("one front pulls; killing it hands the pull to the other; on demand again stops it", async () => {
    const room = await callerOf(t.host).rooms.create({ title: uniq("always") });
    const admin = callerOf(t.admin);
    await admin.sources.set({ room: room.id, url: hls.url, mode: "always_on" });
    const roomRow = async () => (await getDb().select().from(rooms).where(eq(rooms.num, room.num)))[0]!;
    const sourceRow = async () =>
      (await getDb().select().from(streamSources).where(eq(streamSources.roomNum, room.num)))[0]!;
    const host = `127.0.0.1:${hls.port}`;

    // Two fronts on one database (confined to this test's app: other test files share it).
    fronts = [0, 1].map(() => new Pulls(getDb, systemClock, { appId: t.app.id }).startAlwaysOn()!);
    const [a, b] = fronts as [Pulls, Pulls];
    const started = Date.now();
    const live = await until(roomRow, (r) => r.status === "live" && r.streamOnline, 15_000);
    expect(live).toMatchObject({ status: "live", streamOnline: true });
    const firstLiveMs = Date.now() - started;
    expect(firstLiveMs).toBeLessThan(10_000);
    expect((await until(sourceRow, (s) => s.state === "live", 5000)).state).toBe("live");

    // Over several lease turns, exactly one of them pulls: the one the row names.
    for (let i = 0; i < 5; i++) {
      await wait(700);
      expect(a.running + b.running).toBe(1);
      expect(pullsOf(host)).toBe(1);
    }
    // The source has audio: the pull started once with it (not copying first and started again for
    // its audio, which stalls players that just started).
    expect(a.launches + b.launches).toBe(1);
    const holderRow = (await sourceRow()).leaseHolder;
    const [holder, other] = holderRow === a.holder ? [a, b] : [b, a];
    expect(holderRow).toBe(holder.holder);
    expect(holder.running).toBe(1);
    // A play reaching the other front is served from the holder's stream: no second pull.
    expect(await other.forPlay(room.streamName)).toBeUndefined();
    expect(pullsOf(host)).toBe(1);

    // The holder dies without giving its lease up: the other takes over once it expires (2 s).
    const killedAt = Date.now();
    await holder.stopAll({ release: false });
    expect(pullsOf(host)).toBe(0);
    const taken = await until(sourceRow, (s) => s.leaseHolder === other.holder, 6000);
    expect(taken.leaseHolder).toBe(other.holder);
    const back = await until(roomRow, (r) => r.status === "live" && r.streamOnline, 15_000);
    expect(back).toMatchObject({ status: "live", streamOnline: true });
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(12_000);
    expect(other.running).toBe(1);
    expect(pullsOf(host)).toBe(1);
    console.info(`always-on: first live after ${firstLiveMs} ms; taken over ${takeoverMs} ms after the holder died`);

    // Back to on demand: with no viewer nobody pulls it.
    await admin.sources.set({ room: room.id, mode: "on_demand" });
    expect(
      await until(
        () => pullsOf(host),
        (n) => n === 0,
        5000,
      ),
    ).toBe(0);
    expect(other.running).toBe(0);
    // The source rests (idle) and its room waits for a viewer: paused, not ended.
    expect((await until(sourceRow, (s) => s.state === "idle", 3000)).state).toBe("idle");
    expect((await until(roomRow, (r) => !r.streamOnline, 3000)).status).toBe("paused");
  });

  it("on demand with two fronts: one pull serves both fronts' viewers, and stops once neither has any", async () => {
    const room = await callerOf(t.host).rooms.create({ title: uniq("shared") });
    await callerOf(t.admin).sources.set({ room: room.id, url: hls.url, mode: "on_demand" });
    const sourceRow = async () =>
      (await getDb().select().from(streamSources).where(eq(streamSources.roomNum, room.num)))[0]!;
    const host = `127.0.0.1:${hls.port}`;
    const [a, b] = [new Pulls(getDb, systemClock), new Pulls(getDb, systemClock)];
    fronts.push(a, b);

    // A viewer on front a starts the pull; a viewer on front b is served by it, within the budget.
    const leaveA = await a.forPlay(room.streamName);
    expect(leaveA).toBeDefined();
    const t0 = Date.now();
    const leaveB = await b.forPlay(room.streamName);
    expect(leaveB).toBeDefined();
    expect(Date.now() - t0).toBeLessThan(4000);
    expect([a.running, b.running]).toEqual([1, 0]);
    expect(pullsOf(host)).toBe(1);
    expect((await sourceRow()).leaseHolder).toBe(a.holder);

    // a's viewer leaves; b's still watches: the pull goes on past the idle time (1 s).
    leaveA!();
    await wait(3000);
    expect(a.running).toBe(1);
    expect(pullsOf(host)).toBe(1);

    // Nobody watches: stopped once b's want expires (2 s) and the idle time passed; the lease is free.
    leaveB!();
    expect(
      await until(
        () => pullsOf(host),
        (n) => n === 0,
        8000,
      ),
    ).toBe(0);
    const rested = await until(sourceRow, (s) => s.state === "idle" && s.leaseHolder === null, 3000);
    expect(rested).toMatchObject({ state: "idle", leaseHolder: null });
  });
});
