// A room's public state for players (status, stream, figures), answered by the front process.
// Players poll it every few seconds, so each process keeps each answer for up to a second: the
// shared store stays authoritative and every instance converges within that second.
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { rooms } from "../db/schema";
import { AppError } from "../errors";
import { roomStats } from "../presence/figures";
import type { RoomStats } from "../presence/stats";

export interface RoomState {
  id: string;
  num: number;
  status: string;
  streamOnline: boolean;
  metrics: RoomStats;
}

const cache = new Map<string, { at: number; state: Promise<RoomState> }>();
const TTL_MS = 1000;

export function roomState(db: Db, ref: string, now: Date): Promise<RoomState> {
  const key = ref;
  const hit = cache.get(key);
  if (hit && now.getTime() - hit.at < TTL_MS) return hit.state;
  const state = (async () => {
    const where = /^\d{1,15}$/.test(ref)
      ? eq(rooms.num, Number(ref))
      : /^[0-9a-f-]{36}$/.test(ref)
        ? eq(rooms.id, ref)
        : undefined;
    if (!where) throw new AppError("BAD_REQUEST", "room must be a room id or number", { field: "room" });
    const r = (await db.select().from(rooms).where(where))[0];
    if (!r) throw new AppError("NOT_FOUND", "Room not found");
    return {
      id: r.id,
      num: r.num,
      status: r.status,
      streamOnline: r.streamOnline,
      metrics: await roomStats(db, r, now),
    };
  })();
  cache.set(key, { at: now.getTime(), state });
  state.catch(() => cache.delete(key));
  if (cache.size > 50_000) cache.clear();
  return state;
}
