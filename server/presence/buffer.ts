// Heartbeats are coalesced in memory and written in one statement at least every PRESENCE_FLUSH_MS
// (≤ 1 s), so a heartbeat never costs its own database write. Likes are the member's running total,
// merged with MAX, so a retried or duplicated heartbeat never double counts; shutdown flushes.
// A beat that only says "still here" is not written again while what this process last wrote for
// the member is younger than half the shortest presence TTL: that row already keeps them online
// (they go offline between half a TTL and a TTL after their last beat, not exactly a TTL after).
// Beats with likes the row may not hold yet are always written. Measured with bench --scale: at
// 10,000 beats/s, writing every beat took MariaDB's whole core on this 2-core machine.
// An audience that arrives together would rewrite together: with 10 s beats and a 15 s rewrite
// age, every member's row is written in the same 10 s and none in the next. So a member's first
// write in this process counts as older than it is by up to a rewrite age (at random): with 10 s
// beats, two in three rewrite a beat early and one in three on time, and later rewrites keep
// that phase (the peak is two thirds of the audience a window, not all of it). Only writes come
// earlier; a member still goes offline within a TTL of their last beat.
import { escape } from "mysql2";
import { poolOf, type Db } from "../db/client";
import { env } from "../env";
import { errorText, log } from "../log";
import { markFiguresSql, sqlInt } from "./figures";
import { readsChanged } from "../cache";
import { Columns } from "../columns";

interface Beat {
  roomNum: number;
  appId: number;
  memberId: string;
  role: number;
  seenAt: number;
  likes: number;
}

const MAX_ROWS_PER_STATEMENT = 2000;

/**
 * What this process knows of its members, in columns (server/columns.ts): one slot per member for
 * as long as they beat here, holding the beat waiting to be written (merged), the one being
 * written, and what was last written; beats change a slot in place. Its one string is the
 * member's id. An object per member (thirteen fields) was what a whole collection of the front's
 * heap spent most on after the kept tokens: about 20 ms of marking at 100,000 members, measured in
 * process. Before that, a beat was an object of its own in a map made anew for every flush, and
 * each write a new record: at 10,000 beats a second all of it outlived the young generation's
 * collections. The slot's numbers (whole numbers and times, exact in a double):
 */
const ROOM = 0;
const APP = 1;
const ROLE = 2;
/** 1 while a beat waits in the queue (its seen time and likes below). */
const PENDING = 3;
const SEEN = 4;
const LIKES = 5;
/** The beat the running flush writes. */
const FLUSH_SEEN = 6;
const FLUSH_LIKES = 7;
/** 1 when this process wrote the member's row since they (last) came: its seen time and a floor of its likes. */
const WRITTEN = 8;
const WRITTEN_SEEN = 9;
const WRITTEN_LIKES = 10;
/** When a beat for the member last came (the buffer's clock): members gone quiet are dropped. */
const TOUCHED = 11;
const FIELDS = 12;
const ID = 0;

/**
 * Values per room and member: the room's number, then the member's id (the string a verified
 * token's claims keep, whose hash V8 keeps with it), where one key string made per beat had to be
 * built and hashed every time: measured among 100,000 members, 4.5 µs a look-up that way, 0.7 µs
 * this way (a tenth of a heartbeat's CPU at 10,000 beats a second).
 */
export class ByMember<V> {
  private rooms = new Map<number, Map<string, V>>();
  size = 0;
  get(room: number, member: string): V | undefined {
    return this.rooms.get(room)?.get(member);
  }
  set(room: number, member: string, v: V) {
    let m = this.rooms.get(room);
    if (!m) this.rooms.set(room, (m = new Map<string, V>()));
    const had = m.size;
    m.set(member, v);
    this.size += m.size - had;
  }
  delete(room: number, member: string) {
    const m = this.rooms.get(room);
    if (!m?.delete(member)) return;
    this.size--;
    if (!m.size) this.rooms.delete(room);
  }
  *values(): Generator<V> {
    for (const m of this.rooms.values()) yield* m.values();
  }
  /** Removes every entry `drop` says so of (deleting while walking a Map is safe). */
  prune(drop: (v: V) => boolean) {
    for (const [room, m] of this.rooms) {
      for (const [member, v] of m) if (drop(v)) this.delete(room, member);
    }
  }
}

export class PresenceBuffer {
  private table = new Columns(FIELDS, 1);
  /** Each member's slot in the table. */
  private members = new ByMember<number>();
  /** Slots of the members whose beat waits to be written. */
  private queue: number[] = [];
  /**
   * Members no beat came for in two rewrite ages are dropped, looked for every two rewrite ages:
   * a member is known two to four rewrite ages after their last beat, longer than the time between
   * two rewrites (a rewrite age and a beat), so a member beating steadily is never taken for one
   * seen for the first time, whose first write gets a phase.
   */
  private prunedAt = 0;
  /** Members who left, and when: beats from before that, written after it, are not remembered. */
  private forgotten = new ByMember<number>();
  /** Beats not written because a recent write already keeps the member online. */
  skippedBeats = 0;
  private readonly clock: () => number;

  /**
   * `rewriteSkip: false` writes every beat (a test's model of exact last-seen times); `random`
   * draws the first write's phase (0: none); `now` is the clock members are dropped by.
   */
  constructor(private opts: { rewriteSkip?: boolean; random?: () => number; now?: () => number } = {}) {
    this.clock = opts.now ?? Date.now;
  }
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  flushedBeats = 0;

  /** Beats waiting to be written. */
  get size() {
    return this.queue.length;
  }

  private rewriteMs() {
    const e = env();
    return (Math.min(e.PRESENCE_VIEWER_TTL_S, e.PRESENCE_HOST_TTL_S) * 1000) / 2;
  }

  /** The member left or was removed: their next beat here is written (it may bring them back). */
  forget(roomNum: number, memberId: string, at: number) {
    const m = this.members.get(roomNum, memberId);
    if (m !== undefined) this.table.set(m, WRITTEN, 0);
    this.forgotten.set(roomNum, memberId, at);
  }

  /** Beats refused for a value that is not a whole number (none from the callers there are). */
  refusedBeats = 0;

  /** Takes a beat (its values are copied: the object may be reused). */
  record(b: Beat) {
    // Every value is written into the flush's statement as a whole number: one that is not would
    // fail every flush from then on (its member stays queued), so it never enters the queue.
    if (
      !Number.isSafeInteger(b.roomNum) ||
      !Number.isSafeInteger(b.appId) ||
      !Number.isSafeInteger(b.role) ||
      !Number.isSafeInteger(b.likes) ||
      b.likes < 0 ||
      !Number.isFinite(b.seenAt)
    ) {
      this.refusedBeats++;
      return;
    }
    const t = this.table;
    let m = this.members.get(b.roomNum, b.memberId);
    if (m === undefined) {
      m = t.add();
      t.setText(m, ID, b.memberId);
      t.set(m, ROOM, b.roomNum);
      t.set(m, APP, b.appId);
      t.set(m, ROLE, b.role);
      this.members.set(b.roomNum, b.memberId, m);
    }
    t.set(m, TOUCHED, this.clock());
    if (
      !t.get(m, PENDING) &&
      t.get(m, WRITTEN) &&
      this.opts.rewriteSkip !== false &&
      b.likes <= t.get(m, WRITTEN_LIKES) &&
      b.seenAt >= t.get(m, WRITTEN_SEEN) &&
      b.seenAt - t.get(m, WRITTEN_SEEN) < this.rewriteMs()
    ) {
      this.skippedBeats++;
      return;
    }
    this.put(m, b.seenAt, b.likes);
  }

  /** Queues the member's beat, or merges it into the one already queued (latest seen, most likes). */
  private put(m: number, seenAt: number, likes: number) {
    const t = this.table;
    if (!t.get(m, PENDING)) {
      t.set(m, PENDING, 1);
      t.set(m, SEEN, seenAt);
      t.set(m, LIKES, likes);
      this.queue.push(m);
      return;
    }
    if (seenAt > t.get(m, SEEN)) t.set(m, SEEN, seenAt);
    if (likes > t.get(m, LIKES)) t.set(m, LIKES, likes);
  }

  /** Writes everything buffered so far. On failure the beats go back (merged) and are retried. */
  async flush(db: Db): Promise<void> {
    // One flush at a time (a member's flush fields are the running flush's): wait for the running
    // one, whatever its outcome (its beats go back to the queue if it failed), then take the queue.
    while (this.flushing) await this.flushing.catch(() => {});
    if (this.queue.length === 0) return;
    const t = this.table;
    const batch = this.queue;
    this.queue = [];
    for (const m of batch) {
      t.set(m, PENDING, 0);
      t.set(m, FLUSH_SEEN, t.get(m, SEEN));
      t.set(m, FLUSH_LIKES, t.get(m, LIKES));
    }
    this.flushing = (async () => {
      try {
        // One order for every writer (rows and figure marks), so concurrent flushes of two
        // instances lock shared rows in the same order instead of deadlocking.
        const rows = inRowOrder(t, batch);
        for (let i = 0; i < rows.length; i += MAX_ROWS_PER_STATEMENT) {
          await writeBeats(db, t, rows.slice(i, i + MAX_ROWS_PER_STATEMENT));
        }
        readsChanged();
        this.flushedBeats += batch.length;
        this.remember(batch);
      } catch (e) {
        for (const m of batch) this.put(m, t.get(m, FLUSH_SEEN), t.get(m, FLUSH_LIKES));
        throw e;
      } finally {
        this.flushing = undefined;
      }
    })();
    await this.flushing;
  }

  /**
   * After a flush: each member's seen time, and a floor of the likes its row holds. The upsert
   * takes a reported total only up to the row's likes plus the burst (more with time, which other
   * instances' writes may shorten), so the floor grows by at most the burst per write.
   */
  private remember(batch: number[]) {
    const t = this.table;
    const now = this.clock();
    const rewrite = this.rewriteMs();
    const forgotten = this.forgotten;
    const burst = env().PRESENCE_LIKES_BURST;
    const random = this.opts.random ?? Math.random;
    for (const m of batch) {
      const seen = t.get(m, FLUSH_SEEN);
      if (forgotten.size && seen <= (forgotten.get(t.get(m, ROOM), t.text(m, ID)!) ?? -Infinity)) continue;
      const written = t.get(m, WRITTEN);
      const floor = written ? t.get(m, WRITTEN_LIKES) : 0;
      t.set(m, WRITTEN_LIKES, Math.max(floor, Math.min(t.get(m, FLUSH_LIKES), floor + burst)));
      t.set(m, WRITTEN_SEEN, written ? Math.max(seen, t.get(m, WRITTEN_SEEN)) : seen - Math.floor(random() * rewrite));
      t.set(m, WRITTEN, 1);
    }
    if (now - this.prunedAt >= 2 * rewrite) {
      this.prunedAt = now;
      // A walk over every member (100,000: a few milliseconds) every two rewrite ages.
      this.members.prune((m) => {
        if (t.get(m, PENDING) || now - t.get(m, TOUCHED) < 2 * rewrite) return false;
        t.remove(m);
        return true;
      });
      // Leaves are few; one is kept until every beat buffered before it has surely been written.
      this.forgotten.prune((at) => now - at > 60_000);
    }
  }

  start(db: Db, everyMs: number) {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.flush(db).catch((e) =>
        log.warn("presence flush failed; will retry", { error: errorText(e), pending: this.size }),
      );
    }, everyMs);
    this.timer.unref();
  }

  /**
   * Stops the timer and writes what is left (called on SIGTERM, before the pool closes). A flush the
   * timer started may be running with the queue's beats in hand while the queue looks empty: it is
   * waited for (flush does), and its beats written again if it failed.
   */
  async stop(db: Db) {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.flush(db);
      } catch (e) {
        log.error("presence flush at shutdown failed", { error: errorText(e), attempt });
        await new Promise((r) => setTimeout(r, 200));
      }
      if (this.queue.length === 0 && !this.flushing) return;
    }
  }
}

/**
 * The slots in row order: by room, then by member id. Grouped by room first, so only a room's own
 * members are compared by id: one comparison sort of a join storm's 10,000 slots a second (every
 * comparison two ids read from the columns) held the front's event loop 4-20 ms a flush, measured
 * apart, against 1.5-6 ms grouped, while the heartbeats it delayed waited.
 */
function inRowOrder(t: Columns, slots: readonly number[]): number[] {
  const byRoom = new Map<number, number[]>();
  for (const m of slots) {
    const room = t.get(m, ROOM);
    const members = byRoom.get(room);
    if (members) members.push(m);
    else byRoom.set(room, [m]);
  }
  const byId = (a: number, b: number) => {
    const x = t.text(a, ID)!;
    const y = t.text(b, ID)!;
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const out: number[] = [];
  for (const room of [...byRoom.keys()].sort((a, b) => a - b)) {
    const members = byRoom.get(room)!;
    if (members.length > 1) members.sort(byId);
    for (const m of members) out.push(m);
  }
  return out;
}

/**
 * One upsert for a batch, and the figure marks of its rooms in the same transaction. A beat for a member with no row counts as a join (pv/uv). A beat
 * received after the member left re-enters them; one that was received before the leave (and
 * flushed late) does not. Kicked members stay out. A member's likes grow by at most
 * PRESENCE_LIKES_BURST plus PRESENCE_LIKES_PER_S for each second since their last beat, whatever
 * total the client reports; a row a beat creates starts at the burst at most (the second statement,
 * in the same transaction, so nobody reads the reported total). MySQL evaluates ON DUPLICATE KEY
 * UPDATE assignments left to right: `left_at` and `likes` read the old `last_seen_at`, so they come first.
 */
async function writeBeats(db: Db, t: Columns, beats: number[]) {
  const { PRESENCE_LIKES_BURST: burst, PRESENCE_LIKES_PER_S: perS } = env();
  // On the pool's own connection, the rows written out as one string: building thousands of rows
  // through the query builder is synchronous work on the front's event loop, where the heartbeats
  // live, and mysql2's `VALUES ?` made an array and escaped eight values per row. Everything a
  // flush holds while MariaDB works survives the young generation's collections: measured at
  // 10,000 beats a second, the row arrays, escapes and mysql2's copy of the statement were a third
  // of what the front promoted to its old generation (whose full collections stall heartbeats).
  const seconds = new Map<number, string>();
  const values = new Array<string>(beats.length);
  for (let i = 0; i < beats.length; i++) {
    const b = beats[i]!;
    const seen = sqlTime(t.get(b, FLUSH_SEEN), seconds);
    values[i] =
      `(${sqlInt(t.get(b, ROOM))},${sqlText(t.text(b, ID)!)},${sqlInt(t.get(b, APP))},${sqlInt(t.get(b, ROLE))},` +
      `'${seen}',last_seen_at,${sqlInt(t.get(b, FLUSH_LIKES))},1)`;
  }
  const overBurst = beats.filter((b) => t.get(b, FLUSH_LIKES) > burst).map((b) => [t.get(b, ROOM), t.text(b, ID)!]);
  const conn = await poolOf(db).getConnection();
  try {
    await conn.beginTransaction();
    // One flat string (joined, not concatenated), which mysql2 need not copy to measure and send.
    await conn.query([UPSERT_HEAD, values.join(","), upsertTail(burst, perS)].join(""));
    // Only beats reporting more than the burst need this: rows the upsert created carry the
    // reported total as it came; cut them to the burst.
    if (overBurst.length)
      await conn.query(
        `UPDATE room_members SET likes = ?
        WHERE likes > ? AND join_count = 1 AND joined_at = last_seen_at AND (room_num, member_id) IN (?)`,
        [burst, burst, overBurst],
      );
    await conn.query(markFiguresSql(beats.map((b) => t.get(b, ROOM)))!);
    await conn.commit();
  } catch (e) {
    await conn.rollback().catch(() => {});
    throw e;
  } finally {
    conn.release();
  }
}

// A row's joined_at is its last_seen_at, set earlier in the same row (MySQL and MariaDB read a column
// named in a row's values as the value that row set): the seen time is written once, not twice.
const UPSERT_HEAD =
  "INSERT INTO room_members (room_num, member_id, app_id, role, last_seen_at, joined_at, likes, join_count) VALUES ";
const upsertTail = (burst: number, perS: number) => `
  ON DUPLICATE KEY UPDATE
    left_at = IF(kicked_at IS NOT NULL OR (left_at IS NOT NULL AND left_at >= VALUES(last_seen_at)), left_at, NULL),
    likes = GREATEST(likes, LEAST(VALUES(likes),
      likes + ${sqlInt(burst)} + ${sqlInt(perS)} * GREATEST(0, TIMESTAMPDIFF(SECOND, last_seen_at, VALUES(last_seen_at))))),
    last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at))`;

/** Ids as they nearly always are (UUIDs, vendors' user ids) are quoted as they are; others escaped. */
const PLAIN_TEXT = /^[\w:.@-]*$/;
const sqlText = (s: string) => (PLAIN_TEXT.test(s) ? `'${s}'` : escape(s));

/**
 * A time (ms since the epoch) as the DATETIME(3) literal mysql2 writes for a Date on this pool
 * (timezone "Z"): "YYYY-MM-DD HH:MM:SS.mmm" in UTC. mysql2 builds it from a dozen getters and
 * paddings, about a microsecond a Date: two Dates a row held the front's event loop 6-10 ms per
 * 5,000-row flush (measured), where the heartbeats wait. Here each second's text is made once
 * (`seconds`: per flush, a batch spans a second or two).
 */
export function sqlTime(ms: number, seconds: Map<number, string>): string {
  const s = Math.floor(ms / 1000);
  let head = seconds.get(s);
  if (head === undefined) seconds.set(s, (head = new Date(s * 1000).toISOString().slice(0, 19).replace("T", " ")));
  const frac = Math.floor(ms - s * 1000);
  return `${head}.${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}`;
}

/** The process's buffer (front process for the hot path; web process for tRPC heartbeats). */
export const presenceBuffer = new PresenceBuffer();
