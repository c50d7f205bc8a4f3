// The maintained room figures (room_figures) against a full recount of room_members, on a MariaDB
// of its own (it is restarted mid-test) with two front processes flushing heartbeats and two
// refresh loops taking turns (as two instances' web processes do): random joins, heartbeats (duplicated, out of order), leaves, kicks, a front
// stopped cleanly, one killed, and a MariaDB restart with heartbeats buffered across it.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { ensurePrivateMariaDb, type PrivateDb } from "../../scripts/lib/mariadb";
import { exited, freePort, spawnTs, waitFor } from "../../test/process";
import { systemClock } from "../clock";
import { createDb, type Db } from "../db/client";
import { runMigrations } from "../db/migrate";
import { resetEnvForTests } from "../env";
import { AppError } from "../errors";
import type { Actor } from "../actor";
import { createApp } from "../apps";
import { createUser } from "../accounts";
import { createRoom, transitionRoom } from "../rooms";
import { joinRoom, kickMember, leaveRoom } from ".";
import { refreshFigures, startFiguresRefresh } from "./figures";
import { roomFiguresFromMembers, type RoomStats } from "./stats";

// Long enough that the first checks see only what the writers marked (nobody has expired yet), short
// enough that the end sees people go offline by time alone.
const VIEWER_TTL_S = 12;
const HOST_TTL_S = 15;
const dir = mkdtempSync(join(tmpdir(), "onair-figures-"));
const dbName = "onair_figures";
let priv: PrivateDb;
let dbPort: number;
let url: string;
let handle: ReturnType<typeof createDb>;
let db: Db;
type Front = { port: number; proc: ReturnType<typeof spawnTs> };
const fronts: Front[] = [];
const refreshLoops: Array<() => void> = [];

// A seeded generator: a failure replays the same run.
let seed = 20261203;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;

const settings = () => ({
  DATABASE_URL: url,
  PRESENCE_VIEWER_TTL_S: String(VIEWER_TTL_S),
  PRESENCE_HOST_TTL_S: String(HOST_TTL_S),
  PRESENCE_FLUSH_MS: "200",
  REVOCATION_POLL_MS: "200",
  LOG_LEVEL: "error",
});

async function startFront(port?: number): Promise<Front> {
  const p = port ?? (await freePort());
  const proc = spawnTs("server/front/main.ts", { ...settings(), PORT: String(p), WEB_PORT: String(await freePort()) });
  // The health answer is 503 without a web process; any answer means it listens.
  await waitFor(`http://127.0.0.1:${p}/api/health`, 30_000, () => true);
  return { port: p, proc };
}

const listening = (port: number) =>
  new Promise<boolean>((res) => {
    const c = connect(port, "127.0.0.1");
    c.once("connect", () => (c.destroy(), res(true)));
    c.once("error", () => res(false));
  });

async function stopMariaDb() {
  await priv.stop();
  for (let i = 0; i < 300 && (await listening(dbPort)); i++) await new Promise((r) => setTimeout(r, 100));
  if (await listening(dbPort)) throw new Error("MariaDB did not stop");
}

/** Retries a write while MariaDB comes back (the pool's dead connections fail once each). */
async function retrying<T>(f: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (e) {
      // Refusals are answers; only a lost connection is worth another try.
      if (i >= 50 || e instanceof AppError) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

beforeAll(async () => {
  vi.stubEnv("PRESENCE_VIEWER_TTL_S", String(VIEWER_TTL_S));
  vi.stubEnv("PRESENCE_HOST_TTL_S", String(HOST_TTL_S));
  resetEnvForTests();
  dbPort = await freePort();
  priv = await ensurePrivateMariaDb(dir, dbPort, dbName);
  url = `${priv.serverUrl}${dbName}`;
  await runMigrations(url);
  handle = createDb(url, 4);
  db = handle.db;
  fronts.push(await startFront(), await startFront());
  // Errors while MariaDB is down are expected; the next turns catch up.
  refreshLoops.push(startFiguresRefresh(db, 250), startFiguresRefresh(db, 250));
}, 120_000);

afterAll(async () => {
  for (const stop of refreshLoops) stop();
  for (const f of fronts) if (f.proc.child.exitCode === null) f.proc.child.kill("SIGKILL");
  await handle?.pool.end().catch(() => {});
  await priv?.stop();
  await new Promise((r) => setTimeout(r, 1000));
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  vi.unstubAllEnvs();
  resetEnvForTests();
}, 60_000);

const table = async (nums: number[]) => {
  const [rows] = (await db.execute(
    sql`SELECT room_num AS num, online, likes, pv, uv FROM room_figures WHERE room_num IN (${sql.join(nums, sql`, `)})`,
  )) as unknown as [Array<{ num: number } & RoomStats>];
  return new Map(
    rows.map((r) => [
      Number(r.num),
      { online: Number(r.online), likes: Number(r.likes), pv: Number(r.pv), uv: Number(r.uv) },
    ]),
  );
};
const zero = { online: 0, likes: 0, pv: 0, uv: 0 };

it("keeps every room's figures equal to a full recount", async () => {
  const root: Actor = { kind: "user", userId: randomUUID(), role: "admin", appId: null };
  const ctx = (actor: Actor) => ({ db, clock: systemClock, actor });
  const { app } = await createApp(ctx(root), {
    name: "figures",
    signScheme: "onair",
    sxbSign: false,
    signupRole: "host",
  });
  const hostUser = await createUser(ctx(root), {
    appId: app.id,
    username: `fig_host_${process.pid}`,
    password: "fig-pass-12",
    role: "host",
  });
  const host: Actor = { kind: "user", userId: hostUser.id, role: "host", appId: app.id };
  const rooms: Array<Awaited<ReturnType<typeof createRoom>>> = [];
  for (let i = 0; i < 4; i++) {
    const r = await createRoom(ctx(host), { title: `figures ${i}`, mode: 0, record: false });
    await transitionRoom(ctx(host), r.id, "start");
    rooms.push(r);
  }
  const nums = rooms.map((r) => r.num);
  type Member = { room: (typeof rooms)[number]; token: string; memberId: string; likes: number; out: boolean };
  const members: Member[] = [];
  const guest = (): Actor => ({ kind: "anonymous" });

  const join = async () => {
    const room = pick(rooms);
    const j = await retrying(() => joinRoom(ctx(guest()), { room: room.id }));
    members.push({ room, token: j.presenceToken, memberId: j.memberId, likes: 0, out: false });
  };
  const beat = async (m: Member, likes: number) => {
    const f = pick(fronts.filter((x) => x.proc.child.exitCode === null));
    await fetch(`http://127.0.0.1:${f.port}/api/presence/heartbeat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: m.token, likes }),
    }).catch(() => {}); // a front being restarted: that beat is lost, as a client's would be
  };
  /** A round of random activity: joins, beats (some repeated, some older totals), leaves, kicks. */
  const round = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const r = rand();
      if (r < 0.15 || members.length < 6) await join();
      else if (r < 0.8) {
        const m = pick(members);
        m.likes += Math.floor(rand() * 5);
        await beat(m, m.likes);
        if (rand() < 0.3) await beat(m, m.likes); // duplicated
        if (rand() < 0.2) await beat(m, Math.max(0, m.likes - 3)); // an older total, out of order
      } else if (r < 0.9) {
        const m = pick(members);
        await retrying(() => leaveRoom(db, { token: m.token }, new Date())).catch(() => {});
        m.out = true;
      } else {
        const m = pick(members.filter((x) => !x.out) || members);
        if (m) await retrying(() => kickMember(ctx(host), { room: m.room.id, memberId: m.memberId })).catch(() => {});
        if (m) m.out = true;
      }
    }
  };
  /**
   * Once writes settle, the table must equal a recount as of the last whole refresh turn (online
   * included: that is the instant the turn counted for, whoever went offline since).
   */
  const settledEqual = async (what: string) => {
    await new Promise((r) => setTimeout(r, 2000)); // flushes (200 ms) and a refresh turn (≤ 1 s)
    const [[turn]] = (await db.execute(
      sql`SELECT done_up_to AS at FROM job_runs WHERE name = 'figures'`,
    )) as unknown as [[{ at: string }]];
    const at = new Date(`${turn.at.replace(" ", "T")}Z`);
    expect(Date.now() - at.getTime(), "the refresh runs").toBeLessThan(1500);
    const [kept, counted] = await Promise.all([table(nums), roomFiguresFromMembers(db, nums, at)]);
    for (const n of nums) expect(kept.get(n) ?? zero, `${what}: room ${n}`).toEqual(counted.get(n) ?? zero);
  };

  await round(150);
  await settledEqual("after the first round");

  // A quiet room, where a leave or a kick is the only write: its own mark must bring the change.
  const quiet = await createRoom(ctx(host), { title: "figures quiet", mode: 0, record: false });
  await transitionRoom(ctx(host), quiet.id, "start");
  nums.push(quiet.num);
  const a = await joinRoom(ctx(guest()), { room: quiet.id });
  const b = await joinRoom(ctx(guest()), { room: quiet.id });
  await settledEqual("two joined a quiet room");
  await leaveRoom(db, { token: a.presenceToken }, new Date());
  await settledEqual("one left the quiet room");
  await kickMember(ctx(host), { room: quiet.id, memberId: b.memberId });
  await settledEqual("the other was removed from the quiet room");
  expect((await table([quiet.num])).get(quiet.num)).toEqual({ online: 0, likes: 0, pv: 2, uv: 2 });

  // A front stopped cleanly (flushes what it buffered) and one killed (loses it), both replaced.
  fronts[0]!.proc.child.kill("SIGTERM");
  await round(40);
  await exited(fronts[0]!.proc.child);
  fronts[0] = await startFront(fronts[0]!.port);
  fronts[1]!.proc.child.kill("SIGKILL");
  await exited(fronts[1]!.proc.child);
  fronts[1] = await startFront();
  await round(60);
  await settledEqual("after front restarts");

  // MariaDB goes away while beats keep arriving (buffered by the fronts), then comes back.
  await stopMariaDb();
  for (const m of members.slice(0, 20)) await beat(m, (m.likes += 2));
  await new Promise((r) => setTimeout(r, 1500));
  priv = await ensurePrivateMariaDb(dir, dbPort, dbName);
  await round(60);
  await settledEqual("after a MariaDB restart");

  // Online too: a few members keep beating while the others expire; then the fronts stop, and one
  // more turn (only what changed since the last turn is recomputed) must agree with a recount at
  // the same instant.
  const stayers = members.filter((m) => !m.out).slice(0, 5);
  expect(stayers.length).toBeGreaterThan(2);
  const until = Date.now() + (HOST_TTL_S + 2) * 1000;
  while (Date.now() < until) {
    for (const m of stayers) await beat(m, m.likes);
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const f of fronts) f.proc.child.kill("SIGTERM");
  await Promise.all(fronts.map((f) => exited(f.proc.child)));
  for (const stop of refreshLoops) stop();
  await new Promise((r) => setTimeout(r, 1000)); // this turn must not be the fronts' last one
  const now = new Date();
  expect(await refreshFigures(db, now)).not.toBeNull();
  const [kept, counted] = await Promise.all([table(nums), roomFiguresFromMembers(db, nums, now)]);
  let online = 0;
  for (const n of nums) {
    expect(kept.get(n) ?? zero, `room ${n} at the end`).toEqual(counted.get(n) ?? zero);
    online += counted.get(n)?.online ?? 0;
  }
  // What was recounted is not trivial: people online, and every figure moved.
  expect(online).toBe(new Set(stayers.map((m) => m.memberId)).size);
  const total = [...counted.values()].reduce(
    (s, f) => ({ likes: s.likes + f.likes, pv: s.pv + f.pv, uv: s.uv + f.uv }),
    {
      likes: 0,
      pv: 0,
      uv: 0,
    },
  );
  expect(total.likes).toBeGreaterThan(50);
  expect(total.uv).toBeGreaterThan(10);
}, 240_000);
