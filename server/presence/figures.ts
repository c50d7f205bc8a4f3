// Room figures kept up to date, so that a listed room costs one primary-key row whatever its
// audience (issue 11): `room_figures` holds each room's online, likes, pv and uv as of the last
// refresh, which one instance at a time runs about once a second.
//
// What a refresh recomputes (from room_members, the authoritative rows):
// - rooms marked dirty: every writer of room_members adds to the room's `dirty` in the same
//   transaction as its write, so no write can be missed (a crash loses both or neither); the
//   refresh subtracts the marks it read before computing, so a mark made meanwhile survives and
//   the room is computed again next turn;
// - rooms where somebody went offline by time alone: a member seen at s is online until s + TTL,
//   so members seen between (previous run − the longest TTL) and (now − the shortest TTL) are
//   found through the (last_seen_at, room_num) index.
// Readers trust the table while the refresh runs (its last whole turn within FRESH_MS); otherwise they
// compute the figures from the members as before, so a stopped refresh never shows stale counts.
import { claimTurn } from "../db/turns";
import { sql } from "drizzle-orm";
import type { Db, DbOrTx } from "../db/client";
import type { RoomStatus } from "../db/schema";
import { env } from "../env";
import { countsOnline, roomFiguresFromMembers, type RoomStats } from "./stats";

const JOB = "figures";
/**
 * Rooms recomputed per statement, and per turn (the rest waits for the next turn). A statement
 * aggregates every member row of its rooms: at 100,000 viewers in 1,000 rooms, 500 rooms a
 * statement was MariaDB busy ~75 ms at a time, twice a second, and on this 2-core machine the
 * front waited behind it with the heartbeats (its run-queue wait measured: up to 60 ms a 100 ms).
 */
const CHUNK = 100;
const MAX_ROOMS_PER_TURN = 20_000;
/** How old the last refresh may be for readers to trust the table. */
const FRESH_MS = 3000;

/**
 * Marks rooms whose members were written, inside the writer's transaction. Rooms in ascending
 * order, so two writers marking the same rooms lock them in the same order.
 */
export async function markFigures(tx: DbOrTx, nums: Iterable<number>) {
  const marking = markFiguresSql(nums);
  if (marking) await tx.execute(sql.raw(marking));
}

/**
 * The marking statement for `nums` (undefined for none), written out: the heartbeat flush runs it
 * on a raw connection every second with up to a thousand rooms, where mysql2's `VALUES ?` built and
 * escaped an array per room first.
 */
export function markFiguresSql(nums: Iterable<number>): string | undefined {
  const rooms = [...new Set(nums)].sort((a, b) => a - b);
  if (!rooms.length) return undefined;
  return (
    "INSERT INTO room_figures (room_num, dirty, computed_at) VALUES " +
    rooms.map((n) => `(${sqlInt(n)},1,'1970-01-01 00:00:00.000')`).join(",") +
    " ON DUPLICATE KEY UPDATE dirty = dirty + 1"
  );
}

/** An integer as SQL text; anything else is a bug upstream (never written into a statement). */
export function sqlInt(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${String(n)}`);
  return String(n);
}

type Rows<T> = [T[], unknown];
/** Raw results carry DATETIME(3) as Drizzle's driver hands it over: UTC text ("2026-12-03 13:26:58.340"). */
const asDate = (v: Date | string | null | undefined) =>
  v == null ? undefined : v instanceof Date ? v : new Date(`${v.replace(" ", "T")}Z`);

/**
 * One turn of the refresh, if no instance ran one in the last 900 ms. Returns the rooms it
 * recomputed, or null when another instance had this turn. `spreadMs`: its statements are spread
 * over about that long (pauses between them, at most 400 ms of them in all), not run back to back,
 * so that the database's work comes in short pieces between the requests it shares the machine
 * with; well under the 900 ms, so that one turn ends before another instance may start the next.
 */
export async function refreshFigures(db: Db, now: Date, spreadMs = 0): Promise<number | null> {
  const e = env();
  if (!(await claimTurn(db, JOB, now, new Date(now.getTime() - 899)))) return null;
  const [[run]] = (await db.execute(
    sql`SELECT done_up_to AS doneUpTo FROM job_runs WHERE name = ${JOB}`,
  )) as unknown as Rows<{ doneUpTo: Date | string | null }>;
  const maxTtlMs = Math.max(e.PRESENCE_VIEWER_TTL_S, e.PRESENCE_HOST_TTL_S) * 1000;
  const minTtlMs = Math.min(e.PRESENCE_VIEWER_TTL_S, e.PRESENCE_HOST_TTL_S) * 1000;
  const previous = asDate(run?.doneUpTo) ?? new Date(now.getTime() - 1000);
  const from = new Date(previous.getTime() - maxTtlMs - 1000);
  const to = new Date(now.getTime() - minTtlMs + 1000);

  const [marked] = (await db.execute(sql`
    SELECT room_num AS num, dirty FROM room_figures WHERE dirty > 0 LIMIT ${MAX_ROOMS_PER_TURN}`)) as unknown as Rows<{
    num: number;
    dirty: number;
  }>;
  const [expired] =
    from < to
      ? ((await db.execute(sql`
          SELECT DISTINCT room_num AS num FROM room_members
          WHERE last_seen_at >= ${from} AND last_seen_at < ${to} LIMIT ${MAX_ROOMS_PER_TURN}`)) as unknown as Rows<{
          num: number;
        }>)
      : [[]];
  const marks = new Map<number, number>();
  for (const m of marked) marks.set(Number(m.num), Number(m.dirty));
  for (const x of expired) if (!marks.has(Number(x.num))) marks.set(Number(x.num), 0);
  const nums = [...marks.keys()].sort((a, b) => a - b);
  // Pauses only while the statements have run less than the spread: a turn whose statements are
  // slow is not made longer.
  const spread = Math.min(spreadMs, 400);
  const spreadUntil = Date.now() + spread;
  const pauseMs = Math.floor(spread / Math.max(1, Math.ceil(nums.length / CHUNK)));
  for (let i = 0; i < nums.length; i += CHUNK) {
    if (i > 0 && pauseMs > 0 && Date.now() < spreadUntil) await new Promise((r) => setTimeout(r, pauseMs));
    const chunk = nums.slice(i, i + CHUNK);
    const figures = await roomFiguresFromMembers(db, chunk, now);
    await db.execute(sql`
      INSERT INTO room_figures (room_num, online, likes, pv, uv, dirty, computed_at)
      VALUES ${sql.join(
        chunk.map((n) => {
          const f = figures.get(n) ?? { online: 0, likes: 0, pv: 0, uv: 0 };
          return sql`(${n}, ${f.online}, ${f.likes}, ${f.pv}, ${f.uv}, ${marks.get(n) ?? 0}, ${now})`;
        }),
        sql`, `,
      )}
      ON DUPLICATE KEY UPDATE online = VALUES(online), likes = VALUES(likes), pv = VALUES(pv), uv = VALUES(uv),
        dirty = IF(dirty > VALUES(dirty), dirty - VALUES(dirty), 0), computed_at = VALUES(computed_at)`);
  }
  // Only a turn that saw every marked room moves the window on; otherwise the next one starts from
  // the same place.
  if (marked.length < MAX_ROOMS_PER_TURN && expired.length < MAX_ROOMS_PER_TURN)
    await db.execute(sql`UPDATE job_runs SET done_up_to = ${now} WHERE name = ${JOB}`);
  return nums.length;
}

/** Runs the refresh every `everyMs` (each instance tries; one runs each turn). */
export function startFiguresRefresh(db: Db, everyMs = 1000, onError: (e: Error) => void = () => {}) {
  let running = false;
  const t = setInterval(() => {
    if (running) return;
    running = true;
    refreshFigures(db, new Date(), everyMs / 2)
      .catch(onError)
      .finally(() => (running = false));
  }, everyMs);
  t.unref();
  return () => clearInterval(t);
}

/** Whether the refresh ran lately (read at most once a second per process). */
let freshness: { at: number; fresh: Promise<boolean> } | undefined;
function tableIsFresh(db: DbOrTx, now: Date): Promise<boolean> {
  if (freshness && Math.abs(now.getTime() - freshness.at) < 1000) return freshness.fresh;
  const fresh = (async () => {
    const [rows] = (await db.execute(
      sql`SELECT done_up_to AS runAt FROM job_runs WHERE name = ${JOB}`,
    )) as unknown as Rows<{ runAt: Date | string | null }>;
    const at = asDate(rows[0]?.runAt);
    return !!at && now.getTime() - at.getTime() < FRESH_MS;
  })();
  freshness = { at: now.getTime(), fresh };
  fresh.catch(() => (freshness = undefined));
  return fresh;
}

/**
 * The figures of rooms as lists and room pages show them: from room_figures while the refresh
 * runs (at most about a second behind), else computed from the members.
 */
export async function roomStatsMany(
  db: DbOrTx,
  list: ReadonlyArray<{ num: number; status: RoomStatus }>,
  now: Date,
): Promise<Map<number, RoomStats>> {
  const nums = [...new Set(list.map((r) => r.num))];
  if (!nums.length) return new Map();
  let byNum: Map<number, RoomStats>;
  if (await tableIsFresh(db, now)) {
    // Written out: the audience sampler asks for every live room every 10 s, and the query
    // builder took 2-8 ms of the event loop to make 1,000 numbers into parameters (measured).
    const [rows] = (await db.execute(
      sql.raw(
        `SELECT room_num AS num, online, likes, pv, uv FROM room_figures WHERE room_num IN (${nums.map((n) => sqlInt(Number(n))).join(",")})`,
      ),
    )) as unknown as Rows<{ num: number | string; online: number; likes: number; pv: number; uv: number }>;
    byNum = new Map(rows.map((r) => [Number(r.num), r]));
  } else {
    byNum = await roomFiguresFromMembers(db, nums, now);
  }
  const zero = { online: 0, likes: 0, pv: 0, uv: 0 };
  return new Map(
    list.map((r) => {
      const f = byNum.get(r.num) ?? zero;
      return [
        r.num,
        {
          online: countsOnline(r.status) ? Number(f.online) : 0,
          likes: Number(f.likes),
          pv: Number(f.pv),
          uv: Number(f.uv),
        },
      ];
    }),
  );
}

/** One room's figures (room pages, players' state). */
export async function roomStats(db: DbOrTx, room: { num: number; status: RoomStatus }, now: Date): Promise<RoomStats> {
  return (await roomStatsMany(db, [room], now)).get(room.num)!;
}
