// The front's side of room events: which sockets listen to which room, and every event delivered to
// them once. Events arrive through the bus (this process, Redis) and, as the authority, from
// room_events itself: each front reads the rows after the last it saw (and ids it saw skipped, which
// a transaction still open may commit late), so nothing is lost when a broker drops a message and
// nothing is delivered twice when both paths bring it. Figures are read for subscribed rooms once a
// second and sent when they change. Nothing here is authoritative: a restarted front starts anew.
import { and, eq, gt, inArray, lt, max, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { roomEvents, rooms } from "../db/schema";
import { errorText, rateLimitedLog } from "../log";
import { roomStatsMany } from "../presence/figures";
import type { RoomStats } from "../presence/stats";
import { subscribeEvents } from "./bus";
import type { RoomEvent, RoomEventType } from "./types";

/** What a room's listeners get in one delivery: its events (in the order received) and figures. */
export type Delivery = { ev: RoomEvent; figures?: undefined } | { ev?: undefined; figures: RoomStats };

export interface RoomListener {
  /**
   * A room's deliveries since the last call, the same array for every listener of the room (so that
   * its encoding can be shared: see server/front/events.ts).
   */
  deliver(batch: readonly Delivery[]): void;
}

const POLL_BATCH = 1000;
/** A skipped id not committed within this is a rolled-back transaction's: stop asking for it. */
const GAP_PATIENCE_MS = 15_000;
const MAX_GAPS = 10_000;
const DELIVERED_MEMORY_MS = 60_000;
// A database that is down would otherwise log every poll (several a second): one line in ten seconds.
const warn = rateLimitedLog("warn", 0.1, 1);

export const rowToEvent = (r: typeof roomEvents.$inferSelect): RoomEvent => ({
  id: Number(r.id),
  roomNum: Number(r.roomNum),
  type: r.type as RoomEventType,
  audience: r.audience,
  payload: JSON.parse(r.payload) as Record<string, unknown>,
  at: r.createdAt.getTime(),
});

/**
 * The least time between two writes to a room's listeners. A chat message to a room of 5,000 sockets
 * is 5,000 socket writes; what comes within this of the last write waits and goes out with the
 * others of that moment, in one write per socket. The first after a quiet spell goes at once. The
 * window grows with the sockets this front serves so that writes stay within `writesPerS` (10
 * messages a second to 5,000 sockets: 50,000 writes one by one, at most 10,000 in 500 ms windows),
 * and is nothing for a small audience: a room of 50 gets every event at once.
 */
export function batchWindowMs(listeners: number, writesPerS: number, maxMs: number) {
  return Math.min(maxMs, Math.floor((listeners * 1000) / Math.max(1, writesPerS)));
}

export class EventHub {
  private rooms = new Map<number, Set<RoomListener>>();
  private pending = new Map<number, Delivery[]>();
  private flushTimers = new Map<number, NodeJS.Timeout>();
  /** When each room's set flush is due (ms since the epoch). */
  private flushDue = new Map<number, number>();
  private flushedAt = new Map<number, number>();
  private listenerCount = 0;
  private delivered = new Map<number, number>();
  private gaps = new Map<number, number>();
  private maxId = 0;
  private lastFigures = new Map<number, string>();
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private polling = false;
  private figuring = false;
  deliveredCount = 0;

  constructor(
    private db: Db,
    private opts: {
      pollMs: number;
      figuresMs?: number;
      now?: () => Date;
      /** Socket writes a second this front aims to stay under (batchWindowMs); 0: no batching. */
      writesPerS?: number;
      /** The longest a delivery is held for batching. */
      batchMaxMs?: number;
    },
  ) {}

  async start() {
    const [row] = await this.db.select({ id: max(roomEvents.id) }).from(roomEvents);
    this.maxId = Number(row?.id ?? 0);
    this.unsubscribe = await subscribeEvents((e) => this.receive(e));
    this.timers.push(setInterval(() => void this.poll(), this.opts.pollMs));
    this.timers.push(setInterval(() => void this.tickFigures(), this.opts.figuresMs ?? 1000));
    for (const t of this.timers) t.unref();
  }

  stop() {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const num of [...this.flushTimers.keys()]) this.flush(num);
    this.unsubscribe?.();
  }

  get listeners() {
    return this.listenerCount;
  }

  listen(roomNum: number, l: RoomListener): () => void {
    let set = this.rooms.get(roomNum);
    if (!set) this.rooms.set(roomNum, (set = new Set()));
    if (!set.has(l)) this.listenerCount++;
    set.add(l);
    return () => {
      if (set.delete(l)) this.listenerCount--;
      if (!set.size && this.rooms.get(roomNum) === set) {
        this.rooms.delete(roomNum);
        this.lastFigures.delete(roomNum);
        this.flushedAt.delete(roomNum);
      }
    };
  }

  /** Queues a delivery for a room's listeners; it goes out with the others of its window. */
  private enqueue(roomNum: number, d: Delivery) {
    let list = this.pending.get(roomNum);
    if (!list) this.pending.set(roomNum, (list = []));
    // Figures replace figures not yet sent: only the newest counts matter.
    if (d.figures) {
      const i = list.findIndex((x) => x.figures);
      if (i >= 0) list.splice(i, 1);
    }
    list.push(d);
    const window = this.opts.writesPerS
      ? batchWindowMs(this.listenerCount, this.opts.writesPerS, this.opts.batchMaxMs ?? 1000)
      : 0;
    // Figures alone wait until a figures period has passed since the room's last write: in a room
    // where events flow they ride with the next one (one write to each socket instead of two), and
    // a quiet room still gets them at once.
    const hold = d.figures && this.opts.writesPerS ? Math.max(window, this.opts.figuresMs ?? 1000) : window;
    const due = (this.flushedAt.get(roomNum) ?? -Infinity) + hold;
    const set = this.flushDue.get(roomNum);
    if (set !== undefined && set <= due) return; // an earlier write takes this one along
    const wait = due - Date.now();
    if (wait <= 0) return this.flush(roomNum);
    clearTimeout(this.flushTimers.get(roomNum));
    this.flushDue.set(roomNum, due);
    this.flushTimers.set(
      roomNum,
      setTimeout(() => this.flush(roomNum), wait),
    );
  }

  private flush(roomNum: number) {
    const timer = this.flushTimers.get(roomNum);
    if (timer) clearTimeout(timer);
    this.flushTimers.delete(roomNum);
    this.flushDue.delete(roomNum);
    const batch = this.pending.get(roomNum);
    this.pending.delete(roomNum);
    const set = this.rooms.get(roomNum);
    if (!batch?.length || !set) return;
    this.flushedAt.set(roomNum, Date.now());
    for (const l of [...set]) l.deliver(batch);
  }

  /** The highest event id this front has seen (a socket's starting point when it has no history to replay). */
  get lastId() {
    return this.maxId;
  }

  /** Delivers an event once, whichever path brought it first. */
  receive(e: RoomEvent) {
    if (!Number.isSafeInteger(e.id) || e.id <= 0 || this.delivered.has(e.id)) return;
    const now = Date.now();
    this.delivered.set(e.id, now);
    if (e.id > this.maxId) {
      // Ids between are committed later or never: asked for again until GAP_PATIENCE_MS.
      for (let id = Math.max(this.maxId + 1, e.id - MAX_GAPS); id < e.id; id++)
        if (!this.delivered.has(id)) this.gaps.set(id, now);
      this.maxId = e.id;
    } else this.gaps.delete(e.id);
    this.deliveredCount++;
    if (this.rooms.has(e.roomNum)) this.enqueue(e.roomNum, { ev: e });
  }

  async poll() {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = Date.now();
      for (const [id, since] of this.gaps) if (now - since > GAP_PATIENCE_MS) this.gaps.delete(id);
      for (const [id, at] of this.delivered) {
        if (now - at <= DELIVERED_MEMORY_MS) break; // in insertion order: the rest are newer
        this.delivered.delete(id);
      }
      const gapIds = [...this.gaps.keys()].slice(0, POLL_BATCH);
      const rows = await this.db
        .select()
        .from(roomEvents)
        .where(
          gapIds.length
            ? or(gt(roomEvents.id, this.maxId), inArray(roomEvents.id, gapIds))
            : gt(roomEvents.id, this.maxId),
        )
        .orderBy(roomEvents.id)
        .limit(POLL_BATCH);
      for (const r of rows) this.receive(rowToEvent(r));
    } catch (e) {
      warn("room events poll failed", { error: errorText(e) });
    } finally {
      this.polling = false;
    }
  }

  /** A room's newest figures: queued for its listeners when they changed. */
  offerFigures(roomNum: number, f: RoomStats) {
    const key = `${f.online}/${f.likes}/${f.pv}/${f.uv}`;
    if (this.lastFigures.get(roomNum) === key || !this.rooms.has(roomNum)) return;
    this.lastFigures.set(roomNum, key);
    this.enqueue(roomNum, { figures: f });
  }

  async tickFigures() {
    if (this.figuring || !this.rooms.size) return;
    this.figuring = true;
    try {
      const nums = [...this.rooms.keys()];
      const now = this.opts.now?.() ?? new Date();
      for (let i = 0; i < nums.length; i += 500) {
        const chunk = nums.slice(i, i + 500);
        const list = await this.db
          .select({ num: rooms.num, status: rooms.status })
          .from(rooms)
          .where(inArray(rooms.num, chunk));
        const stats = await roomStatsMany(
          this.db,
          list.map((r) => ({ num: Number(r.num), status: r.status })),
          now,
        );
        for (const [num, f] of stats) this.offerFigures(num, f);
      }
    } catch (e) {
      warn("room figures tick failed", { error: errorText(e) });
    } finally {
      this.figuring = false;
    }
  }
}

/** A room's stored events after `since` (a reconnecting socket's replay), oldest first, at most `limit`. */
export async function eventsSince(db: Db, roomNum: number, since: number, limit: number) {
  const rows = await db
    .select()
    .from(roomEvents)
    .where(and(eq(roomEvents.roomNum, roomNum), gt(roomEvents.id, since)))
    .orderBy(roomEvents.id)
    .limit(limit);
  return rows.map(rowToEvent);
}

/** The newest event id of a room (0: none). */
export async function lastEventOf(db: Db, roomNum: number) {
  const [row] = await db
    .select({ id: max(roomEvents.id) })
    .from(roomEvents)
    .where(eq(roomEvents.roomNum, roomNum));
  return Number(row?.id ?? 0);
}

/** Events older than a day are gone (chat stays in chat_messages); bounded per call. */
export async function pruneRoomEvents(db: Db, now: Date) {
  await db
    .delete(roomEvents)
    .where(lt(roomEvents.createdAt, new Date(now.getTime() - 86_400_000)))
    .limit(5000);
}
