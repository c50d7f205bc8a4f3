// A refresh turn over more rooms than one statement takes: its statements spread over the time it
// is given (the database's work in pieces, not one burst), and every room it wrote equals a recount.
// On a database of its own: a turn marks the table fresh, and every other test file's rooms would
// then be read from it.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dropDatabase, ensureDatabaseExists } from "../../scripts/lib/mariadb";
import { createDb, type Db } from "../db/client";
import { runMigrations } from "../db/migrate";
import { markFigures, refreshFigures } from "./figures";
import { roomFiguresFromMembers } from "./stats";

const url = (() => {
  const u = new URL(process.env.DATABASE_URL!);
  u.pathname = `/onair_spread_${process.pid}`;
  return u.toString();
})();
let handle: ReturnType<typeof createDb>;
let db: Db;
beforeAll(async () => {
  await ensureDatabaseExists(url, process.env.ONAIR_TEST_DATA_DIR);
  await runMigrations(url);
  handle = createDb(url, 2);
  db = handle.db;
}, 120_000);
afterAll(async () => {
  await handle?.pool.end();
  await dropDatabase(url);
});

const base = 1000;
const nums = Array.from({ length: 250 }, (_, i) => base + i);

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

  const t0 = performance.now();
  expect(await refreshFigures(db, now, 300)).toBe(nums.length);
  const took = performance.now() - t0;
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
