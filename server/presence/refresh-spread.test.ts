// A refresh turn over more rooms than one statement takes: its statements spread over the time it
// is given (the database's work in pieces, not one burst), and every room it wrote equals a recount.
import { sql } from "drizzle-orm";
import { afterAll, expect, it } from "vitest";
import { getDb } from "../db/client";
import { markFigures, refreshFigures } from "./figures";
import { roomFiguresFromMembers } from "./stats";

const db = getDb();
// Room numbers no room has (room_members and room_figures name rooms by number only).
const base = 2_000_000_000 + Math.floor(Math.random() * 100_000) * 1000;
const nums = Array.from({ length: 250 }, (_, i) => base + i);
afterAll(async () => {
  await db.execute(sql`DELETE FROM room_members WHERE room_num BETWEEN ${base} AND ${base + 999}`);
  await db.execute(sql`DELETE FROM room_figures WHERE room_num BETWEEN ${base} AND ${base + 999}`);
});

it("spreads a turn of 250 rooms over spreadMs, and writes each room's figures as a recount has them", async () => {
  const now = new Date();
  const rows = nums.flatMap((n, i) =>
    Array.from(
      { length: 1 + (i % 4) },
      (_, k) =>
        // Every other member seen a minute ago (offline by now), some with likes and rejoins.
        sql`(${n}, ${`guest:${n}-${k}`}, 1, 0, ${now}, ${new Date(now.getTime() - (k % 2) * 60_000)}, ${(i + k) % 5}, ${1 + (k % 3)})`,
    ),
  );
  await db.execute(sql`
    INSERT INTO room_members (room_num, member_id, app_id, role, joined_at, last_seen_at, likes, join_count)
    VALUES ${sql.join(rows, sql`, `)}`);
  await db.transaction((tx) => markFigures(tx, nums));

  // Another test's refresh may hold this second's turn: try the next.
  let took = 0;
  let done: number | null = null;
  for (let attempt = 0; attempt < 10 && done === null; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, 1000));
    const t0 = performance.now();
    done = await refreshFigures(db, now, 300);
    took = performance.now() - t0;
  }
  expect(done).toBeGreaterThanOrEqual(nums.length);
  // Three or more statements with pauses of 300 ms shared among them between: at least 200 ms.
  expect(took).toBeGreaterThanOrEqual(190);

  const [kept] = (await db.execute(
    sql`SELECT room_num AS num, online, likes, pv, uv, dirty FROM room_figures WHERE room_num BETWEEN ${base} AND ${base + 999}`,
  )) as unknown as [Array<{ num: number; online: number; likes: number; pv: number; uv: number; dirty: number }>];
  const counted = await roomFiguresFromMembers(db, nums, now);
  expect(kept).toHaveLength(nums.length);
  for (const k of kept) {
    expect(Number(k.dirty), `room ${k.num}`).toBe(0);
    expect(
      { online: Number(k.online), likes: Number(k.likes), pv: Number(k.pv), uv: Number(k.uv) },
      `room ${k.num}`,
    ).toEqual(counted.get(Number(k.num)));
  }
  // Not trivially zero: people online and offline, likes and rejoins counted.
  const sum = (f: "online" | "likes" | "pv" | "uv") => [...counted.values()].reduce((s, c) => s + c[f], 0);
  expect([sum("online"), sum("uv")]).toEqual([
    nums.reduce((s, _, i) => s + Math.ceil((1 + (i % 4)) / 2), 0),
    rows.length,
  ]);
  expect(sum("likes")).toBeGreaterThan(0);
  expect(sum("pv")).toBeGreaterThan(sum("uv"));
});
