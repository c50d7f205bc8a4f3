// Presence with a controllable clock: expiry at the configured TTLs, exact figures after 1,000
// simulated viewers, idempotent heartbeats, and order tolerance between buffered beats and leaves.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../clock";
import { getDb } from "../db/client";
import { users } from "../db/schema";
import { resetEnvForTests } from "../env";
import { hashPassword } from "../crypto/passwords";
import { callerOf, makeTenant, uniq, type Tenant } from "../../test/helpers";
import type { Actor } from "../actor";
import { heartbeat, joinRoom, leaveRoom } from ".";
import { PresenceBuffer } from "./buffer";
import { roomStats, roomStatsMany } from "./figures";
import { findRoom } from "../rooms";
import { sql } from "drizzle-orm";

let t: Tenant;
beforeAll(async () => {
  t = await makeTenant();
});
afterEach(() => {
  delete process.env.PRESENCE_VIEWER_TTL_S;
  delete process.env.PRESENCE_HOST_TTL_S;
  resetEnvForTests();
});

async function liveRoom(clock: ManualClock) {
  const host = callerOf(t.host, clock);
  const r = await host.rooms.create({ title: uniq("presence") });
  await host.rooms.start({ room: r.id });
  return r;
}
const stats = async (ref: string, clock: ManualClock) =>
  roomStats(getDb(), await findRoom(getDb(), t.root, ref), clock.now());

/** A database whose connection is never given: a flush waits on it until the test fails it. */
function heldDatabase() {
  const held = { db: undefined as never, fail: (_e: Error) => {} };
  held.db = { $client: { getConnection: () => new Promise((_, reject) => (held.fail = reject)) } } as never;
  return held;
}

describe("presence", () => {
  it("writes members' ids exactly as given, whatever characters they hold", async () => {
    const clock = new ManualClock(Date.now());
    const buf = new PresenceBuffer();
    const r = await findRoom(getDb(), t.root, (await liveRoom(clock)).id);
    // Vendor user ids are text: quotes, backslashes, SQL and emoji are data, never statement.
    const ids = [
      "plain_id-1:a.b@c",
      "o'brien",
      "what?",
      "a?b'?",
      "back\\slash\\",
      "x'); DROP TABLE room_members; --",
      "主播😀",
      "",
    ];
    for (const memberId of ids)
      buf.record({ roomNum: r.num, appId: r.appId, memberId, role: 0, seenAt: clock.now().getTime(), likes: 3 });
    await buf.flush(getDb());
    const [rows] = (await getDb().execute(
      sql`SELECT member_id, likes, joined_at = last_seen_at AND last_seen_at = ${clock.now()} AS same FROM room_members WHERE room_num = ${r.num} ORDER BY member_id`,
    )) as unknown as [Array<{ member_id: string; likes: number; same: number }>];
    expect(rows.map((x) => x.member_id).sort()).toEqual([...ids].sort());
    expect(rows.every((x) => x.likes === 3)).toBe(true);
    expect(rows.every((x) => x.same === 1)).toBe(true); // a created row joined when it was first seen
    expect((await stats(r.id, clock)).online).toBe(ids.length);
  });

  it("bounds the likes a member can add: a burst, then a rate per second of presence", async () => {
    const clock = new ManualClock(Date.now());
    const buf = new PresenceBuffer();
    const r = await liveRoom(clock);
    const guest = await joinRoom({ db: getDb(), clock, actor: { kind: "anonymous" } }, { room: r.id });
    heartbeat(buf, { token: guest.presenceToken, likes: 2_000_000_000 }, clock.now());
    await buf.flush(getDb());
    expect((await stats(r.id, clock)).likes).toBe(50);
    clock.advance(10_000);
    heartbeat(buf, { token: guest.presenceToken, likes: 2_000_000_000 }, clock.now());
    await buf.flush(getDb());
    expect((await stats(r.id, clock)).likes).toBe(50 + 50 + 20 * 10);
    // An honest running total inside the bound is taken exactly.
    clock.advance(1_000);
    heartbeat(buf, { token: guest.presenceToken, likes: 310 }, clock.now());
    await buf.flush(getDb());
    expect((await stats(r.id, clock)).likes).toBe(310);
  });

  it("expires viewers after 30 s and hosts after 90 s without heartbeats; TTLs are configurable", async () => {
    const clock = new ManualClock(Date.now());
    const buf = new PresenceBuffer();
    const r = await liveRoom(clock);
    const h = await joinRoom({ db: getDb(), clock, actor: t.host }, { room: r.id });
    const v = await joinRoom({ db: getDb(), clock, actor: t.viewer }, { room: r.id });
    expect((await stats(r.id, clock)).online).toBe(2);
    clock.advance(29_000);
    expect((await stats(r.id, clock)).online).toBe(2);
    clock.advance(1_001);
    expect((await stats(r.id, clock)).online).toBe(1); // viewer gone at 30 s
    heartbeat(buf, { token: v.presenceToken }, clock.now());
    await buf.flush(getDb());
    expect((await stats(r.id, clock)).online).toBe(2); // a late beat brings the viewer back
    clock.advance(60_000);
    expect((await stats(r.id, clock)).online).toBe(0); // host gone at 90 s
    heartbeat(buf, { token: h.presenceToken }, clock.now());
    await buf.flush(getDb());
    expect((await stats(r.id, clock)).online).toBe(1);

    process.env.PRESENCE_VIEWER_TTL_S = "5";
    resetEnvForTests();
    heartbeat(buf, { token: v.presenceToken }, clock.now());
    await buf.flush(getDb());
    clock.advance(5_001);
    expect((await stats(r.id, clock)).online).toBe(1);
  });

  it("never double counts likes from duplicated, retried or out-of-order heartbeats", async () => {
    const clock = new ManualClock(Date.now());
    const buf = new PresenceBuffer();
    const r = await liveRoom(clock);
    const v = await joinRoom({ db: getDb(), clock, actor: t.viewer }, { room: r.id });
    for (const likes of [3, 3, 7, 5, 7]) heartbeat(buf, { token: v.presenceToken, likes }, clock.now());
    await buf.flush(getDb());
    heartbeat(buf, { token: v.presenceToken, likes: 7 }, clock.now()); // a retry after the flush
    heartbeat(buf, { token: v.presenceToken, likes: 2 }, clock.now()); // a stale one arriving late
    await buf.flush(getDb());
    expect(await stats(r.id, clock)).toMatchObject({ likes: 7, pv: 1, uv: 1 });
  });

  it("keeps the beats of a failed flush, merged with those that come meanwhile, and writes them once", async () => {
    const clock = new ManualClock(Date.now());
    const buf = new PresenceBuffer();
    const r = await liveRoom(clock);
    const v = await joinRoom({ db: getDb(), clock, actor: t.viewer }, { room: r.id });
    const w = await joinRoom({ db: getDb(), clock, actor: t.host }, { room: r.id });
    heartbeat(buf, { token: v.presenceToken, likes: 4 }, clock.now());
    heartbeat(buf, { token: w.presenceToken, likes: 1 }, clock.now());
    // A database that fails when the test says so: beats come while the flush waits for it.
    const down = heldDatabase();
    const failing = buf.flush(down.db);
    clock.advance(1000);
    heartbeat(buf, { token: v.presenceToken, likes: 3 }, clock.now()); // queued beside the one being written
    expect(buf.size).toBe(1);
    down.fail(new Error("database away"));
    await expect(failing).rejects.toThrow("database away");
    expect(buf.size).toBe(2); // both members back, the viewer's two beats merged (likes 4, not 3)
    const flushed = buf.flushedBeats;
    await buf.flush(getDb());
    expect(buf.flushedBeats - flushed).toBe(2); // one row each
    expect(buf.size).toBe(0);
    expect(await stats(r.id, clock)).toMatchObject({ online: 2, likes: 5, pv: 1, uv: 1 }); // pv, uv: viewers
    // A beat with a value that is not a whole number never enters the queue (it would fail every flush).
    buf.record({ roomNum: 1.5, appId: 1, memberId: "x", role: 0, seenAt: Date.now(), likes: 0 });
    buf.record({ roomNum: 1, appId: 1, memberId: "x", role: 0, seenAt: Date.now(), likes: Number.NaN });
    expect(buf.size).toBe(0);
    expect(buf.refusedBeats).toBe(2);
  });

  it("at shutdown, waits for the flush the timer started and writes its beats again if it fails", async () => {
    const clock = new ManualClock(Date.now());
    const buf = new PresenceBuffer();
    const r = await liveRoom(clock);
    const v = await joinRoom({ db: getDb(), clock, actor: t.viewer }, { room: r.id });
    heartbeat(buf, { token: v.presenceToken, likes: 9 }, clock.now());
    // The timer's flush has taken the queue and waits for the database when SIGTERM comes.
    const slow = heldDatabase();
    const inFlight = buf.flush(slow.db).catch((e: Error) => e.message);
    expect(buf.size).toBe(0);
    let stopped = false;
    const stopping = buf.stop(getDb()).then(() => (stopped = true));
    await new Promise((res) => setTimeout(res, 50));
    expect(stopped).toBe(false); // the queue looks empty, but the beat is still in hand
    slow.fail(new Error("pool closing"));
    expect(await inFlight).toBe("pool closing");
    await stopping;
    expect(buf.size).toBe(0);
    expect(await stats(r.id, clock)).toMatchObject({ online: 1, likes: 9 });
  });

  it("writes each flush's rows in one order, by room then member id, whatever order the beats came in", async () => {
    // Two instances' flushes lock the rows they share in the same order instead of deadlocking.
    const buf = new PresenceBuffer();
    const statements: string[] = [];
    const conn = {
      beginTransaction: async () => {},
      query: (q: string) => (statements.push(q), Promise.resolve([{}])),
      commit: async () => {},
      rollback: async () => {},
      release: () => {},
    };
    const db = { $client: { getConnection: () => Promise.resolve(conn) } } as never;
    const beats: Array<[number, string]> = [];
    for (let room = 1; room <= 40; room++)
      for (let k = 0; k < 60; k++) beats.push([((room * 7919) % 40) + 1, `m${(k * 31 + room) % 97}-${k}`]);
    beats.sort(() => Math.random() - 0.5);
    for (const [roomNum, memberId] of beats)
      buf.record({ roomNum, appId: 1, memberId, role: 0, seenAt: Date.now(), likes: 0 });
    await buf.flush(db);
    const written = statements
      .filter((q) => q.startsWith("INSERT INTO room_members"))
      .flatMap((q) => [...q.matchAll(/\((\d+),'([^']*)',/g)].map((m) => [Number(m[1]), m[2]!] as [number, string]));
    expect(written).toHaveLength(beats.length);
    expect(written.length).toBeGreaterThan(2000); // more than one statement
    const inOrder = [...written].sort(([ra, a], [rb, b]) => ra - rb || (a < b ? -1 : a > b ? 1 : 0));
    expect(written).toEqual(inOrder);
  });

  it("a heartbeat buffered before a leave does not bring the member back; one after does", async () => {
    const clock = new ManualClock(Date.now());
    const buf = new PresenceBuffer();
    const r = await liveRoom(clock);
    const v = await joinRoom({ db: getDb(), clock, actor: t.viewer }, { room: r.id });
    heartbeat(buf, { token: v.presenceToken, likes: 1 }, clock.now());
    clock.advance(100);
    await leaveRoom(getDb(), { token: v.presenceToken }, clock.now(), buf);
    await buf.flush(getDb()); // flushed after the leave, but received before it
    expect((await stats(r.id, clock)).online).toBe(0);
    clock.advance(100);
    heartbeat(buf, { token: v.presenceToken, likes: 1 }, clock.now());
    await buf.flush(getDb());
    expect(await stats(r.id, clock)).toMatchObject({ online: 1, pv: 1, uv: 1, likes: 1 });
  });

  it("does not write a still-here beat again within half a TTL; new likes and beats after a leave are written", async () => {
    const clock = new ManualClock(Date.now());
    const buf = new PresenceBuffer({ random: () => 0 }); // the first write's phase: none
    const r = await liveRoom(clock);
    const v = await joinRoom({ db: getDb(), clock, actor: t.viewer }, { room: r.id });
    const beat = async (likes: number) => {
      heartbeat(buf, { token: v.presenceToken, likes }, clock.now());
      await buf.flush(getDb());
    };
    await beat(2);
    const written = buf.flushedBeats;
    clock.advance(10_000); // within half the 30 s viewer TTL of the last write: not written
    await beat(2);
    expect(buf.flushedBeats).toBe(written);
    expect(buf.skippedBeats).toBe(1);
    expect(await stats(r.id, clock)).toMatchObject({ online: 1, likes: 2 }); // the last write keeps them online
    await beat(5); // new likes: written at once
    expect(buf.flushedBeats).toBe(written + 1);
    expect((await stats(r.id, clock)).likes).toBe(5);
    clock.advance(16_000); // half a TTL after the last write: written again
    await beat(5);
    expect(buf.flushedBeats).toBe(written + 2);
    await leaveRoom(getDb(), { token: v.presenceToken }, clock.now(), buf);
    expect((await stats(r.id, clock)).online).toBe(0);
    clock.advance(1000);
    await beat(5); // after a leave this process saw: written, and it brings the member back
    expect(buf.flushedBeats).toBe(written + 3);
    expect(await stats(r.id, clock)).toMatchObject({ online: 1, likes: 5, pv: 1, uv: 1 });
    // Still here 20 s after the last write and never again: offline once a TTL has passed since that write.
    clock.advance(10_000);
    await beat(5);
    clock.advance(20_001);
    expect((await stats(r.id, clock)).online).toBe(0);
  });

  it("forgets members no beat came for in two rewrite ages, and keeps those still beating", async () => {
    // Rewrite age 15 s (half the 30 s viewer TTL): members are looked over every 30 s, after a flush.
    const r = await findRoom(getDb(), t.root, (await liveRoom(new ManualClock(Date.now()))).id);
    let now = Date.now();
    const buf = new PresenceBuffer({ random: () => 0, now: () => now });
    const known = () => (buf as unknown as { members: { size: number } }).members.size;
    const beat = (memberId: string) =>
      buf.record({ roomNum: r.num, appId: r.appId, memberId, role: 0, seenAt: now, likes: 0 });
    const [gone, staying, late] = ["gone", "staying", "late"].map((m) => uniq(m)) as [string, string, string];
    beat(gone);
    beat(staying);
    await buf.flush(getDb()); // the first look: both beat just now
    expect(known()).toBe(2);
    now += 20_000;
    beat(staying); // written again (20 s after its last write)
    await buf.flush(getDb());
    expect(known()).toBe(2); // not looked over yet (20 s since the last look)
    now += 11_000;
    beat(staying); // 11 s after its last write: not written, but seen
    beat(late); // a newcomer's beat: a flush, and the look after it
    await buf.flush(getDb());
    // `gone` beat last 31 s ago (more than two rewrite ages): forgotten; the others kept.
    expect(known()).toBe(2);
    beat(gone); // it comes back: a first beat again, written
    expect(buf.size).toBe(1);
    expect(known()).toBe(3);
  });

  it("gives the places of forgotten members to newcomers with nothing of theirs", async () => {
    const clock = new ManualClock(Date.now());
    const [r1, r2] = [
      await findRoom(getDb(), t.root, (await liveRoom(clock)).id),
      await findRoom(getDb(), t.root, (await liveRoom(clock)).id),
    ];
    const t0 = Date.now();
    let now = t0;
    const buf = new PresenceBuffer({ random: () => 0, now: () => now });
    const known = () => (buf as unknown as { members: { size: number } }).members.size;
    const [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map((m) => uniq(m)) as [string, string, string, string, string];
    buf.record({ roomNum: r1.num, appId: r1.appId, memberId: a, role: 0, seenAt: t0, likes: 5 });
    buf.record({ roomNum: r1.num, appId: r1.appId, memberId: b, role: 0, seenAt: t0, likes: 9 });
    await buf.flush(getDb());
    now += 31_000; // a and b forgotten at the next look, after c's flush
    buf.record({ roomNum: r1.num, appId: r1.appId, memberId: c, role: 0, seenAt: now, likes: 0 });
    await buf.flush(getDb());
    expect(known()).toBe(1);
    // Newcomers, one in another room and with another role. e's beat says it was seen a second
    // after a and b were last written: had it their record, it would pass for written already.
    buf.record({ roomNum: r2.num, appId: r2.appId, memberId: d, role: 1, seenAt: now, likes: 2 });
    buf.record({ roomNum: r1.num, appId: r1.appId, memberId: e, role: 0, seenAt: t0 + 1000, likes: 0 });
    expect(buf.size).toBe(2);
    await buf.flush(getDb());
    const [rows] = (await getDb().execute(
      sql`SELECT room_num, member_id, role, likes FROM room_members WHERE member_id IN (${a}, ${b}, ${d}, ${e}) ORDER BY member_id`,
    )) as unknown as [Array<{ room_num: number; member_id: string; role: number; likes: number }>];
    expect(rows.map((x) => [Number(x.room_num), x.member_id, Number(x.role), Number(x.likes)])).toEqual(
      [
        [r1.num, a, 0, 5],
        [r1.num, b, 0, 9],
        [r2.num, d, 1, 2],
        [r1.num, e, 0, 0],
      ].sort((x, y) => ((x[1] as string) < (y[1] as string) ? -1 : 1)),
    );
  });

  it("spreads the rewrites of an audience that arrived together over the windows, and each member keeps its phase", async () => {
    // 1,200 viewers join within 10 s and beat every 10 s, their beats spread over the 10 s (rewrite
    // age 15 s). The windows (10 s each) in which each member's beat was written, over three
    // minutes; the buffer's records turn by the same simulated clock.
    const r = await findRoom(getDb(), t.root, (await liveRoom(new ManualClock(Date.now()))).id);
    const n = 1200;
    const windowsWritten = async (run: string, random: () => number) => {
      let now = Date.now();
      const start = now;
      const buf = new PresenceBuffer({ random, now: () => now });
      const written: number[][] = Array.from({ length: n }, () => []);
      for (let w = 0; w < 18; w++) {
        for (let step = 0; step < 10; step++) {
          now = start + w * 10_000 + step * 1000;
          for (let i = step; i < n; i += 10) {
            const skipped = buf.skippedBeats;
            buf.record({ roomNum: r.num, appId: r.appId, memberId: `${run}-${i}`, role: 0, seenAt: now, likes: 0 });
            if (buf.skippedBeats === skipped) written[i]!.push(w);
          }
          await buf.flush(getDb());
        }
      }
      return written;
    };
    const every = (from: number) => Array.from({ length: Math.ceil((18 - from) / 2) }, (_, k) => from + 2 * k);
    // Without a phase: everybody in the same windows, nobody in the others.
    for (const w of await windowsWritten(uniq("together"), () => 0)) expect(w).toEqual(every(0));
    // With one: each member's first rewrite comes one window early (10 s after joining) or on time,
    // and every rewrite after it keeps that phase: once every two windows, never more often.
    let seed = 7;
    const seeded = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const spread = await windowsWritten(uniq("spread"), seeded);
    for (const w of spread) expect([[0, ...every(1)], every(0)]).toContainEqual(w);
    const early = spread.filter((w) => w[1] === 1).length;
    expect(early / n).toBeGreaterThan(0.55); // two in three, drawn at random
    expect(early / n).toBeLessThan(0.78);
  });

  it("keeps online, pv, uv and likes exact for 1,000 viewers with random joins, heartbeats and leaves", async () => {
    const clock = new ManualClock(Date.now());
    // Every beat written: the model below tracks exact last-seen times.
    const buf = new PresenceBuffer({ rewriteSkip: false });
    const r = await liveRoom(clock);
    const db = getDb();
    // 1,000 viewer accounts, inserted directly (hashing 1,000 passwords would only test scrypt).
    const hash = await hashPassword("not-used-1");
    const now = clock.now();
    const ids = Array.from({ length: 1000 }, () => crypto.randomUUID());
    await db.insert(users).values(
      ids.map((id) => ({
        id,
        appId: t.app.id,
        username: uniq("sim"),
        passwordHash: hash,
        role: "viewer" as const,
        createdAt: now,
        updatedAt: now,
      })),
    );

    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    type M = { token?: string; joins: number; lastSeen: number; left: boolean; likes: number };
    const model = new Map<string, M>(ids.map((id) => [id, { joins: 0, lastSeen: 0, left: true, likes: 0 }]));
    const ctxOf = (id: string) => ({
      db,
      clock,
      actor: { kind: "user", userId: id, role: "viewer", appId: t.app.id } as Actor,
    });

    for (let step = 0; step < 4000; step++) {
      const id = ids[Math.floor(rand() * ids.length)]!;
      const m = model.get(id)!;
      const x = rand();
      if (!m.token || (m.left && x < 0.5) || x < 0.15) {
        m.token = (await joinRoom(ctxOf(id), { room: r.id })).presenceToken;
        m.joins++;
        m.left = false;
        m.lastSeen = clock.now().getTime();
      } else if (x < 0.85) {
        const likes = m.likes + Math.floor(rand() * 3);
        heartbeat(buf, { token: m.token, likes }, clock.now());
        if (rand() < 0.2) heartbeat(buf, { token: m.token, likes }, clock.now()); // duplicate
        m.likes = Math.max(m.likes, likes);
        // A beat after a leave re-enters the member without counting a join.
        m.left = false;
        m.lastSeen = clock.now().getTime();
      } else if (!m.left) {
        await buf.flush(db); // the client's earlier beats reached the server before its leave
        clock.advance(1);
        await leaveRoom(db, { token: m.token }, clock.now());
        m.left = true;
      }
      if (step % 50 === 0) await buf.flush(db);
      clock.advance(Math.floor(rand() * 40));
    }
    await buf.flush(db);
    const cut = clock.now().getTime() - 30_000;
    const all = [...model.values()];
    const expected = {
      online: all.filter((m) => m.joins > 0 && !m.left && m.lastSeen >= cut).length,
      likes: all.reduce((s, m) => s + m.likes, 0),
      pv: all.reduce((s, m) => s + m.joins, 0),
      uv: all.filter((m) => m.joins > 0).length,
    };
    expect(expected.online).toBeGreaterThan(100);
    expect(await stats(r.id, clock)).toEqual(expected);
    // The grouped figures of a list page agree with the single-room ones, rooms without members
    // and an ended room (nobody online) included.
    const empty = await liveRoom(clock);
    const ended = await liveRoom(clock);
    await joinRoom(ctxOf(ids[0]!), { room: ended.id });
    await callerOf(t.host, clock).rooms.stop({ room: ended.id });
    const page = await Promise.all([r.id, empty.id, ended.id].map((id) => findRoom(db, t.root, id)));
    const many = await roomStatsMany(db, page, clock.now());
    expect(many.get(page[0]!.num)).toEqual(expected);
    expect(many.get(page[1]!.num)).toEqual({ online: 0, likes: 0, pv: 0, uv: 0 });
    expect(many.get(page[2]!.num)).toEqual(await stats(ended.id, clock));
    expect(many.get(page[2]!.num)).toMatchObject({ online: 0, pv: 1, uv: 1 });
  }, 120_000);
});
