// A room's public state for players (status, stream, figures), answered by the front process.
// Players poll it every few seconds, so each process shares each answer for up to a second
// (server/cache.ts): the shared store stays authoritative and every instance converges within it.
import { sharedReads } from "../cache";
import type { Db } from "../db/client";
import { AppError } from "../errors";
import { findPublicRoom } from "./find";
import { sourceOf } from "../sources";
import { roomStats } from "../presence/figures";
import type { RoomStats } from "../presence/stats";

export interface RoomState {
  id: string;
  num: number;
  status: string;
  streamOnline: boolean;
  /** A source feeds the room: players play it whatever its status (the play starts the pull). */
  sourced: boolean;
  /** The room it went live again as ("Go live again"), once it has ended. */
  successorNum: number | null;
  metrics: RoomStats;
}

const shared = sharedReads<RoomState>(1000, 50_000);

export function roomState(db: Db, ref: string, now: Date): Promise<RoomState> {
  return shared(ref, async () => {
    const room = /^\d{1,15}$/.test(ref) ? Number(ref) : /^[0-9a-f-]{36}$/.test(ref) ? ref : undefined;
    if (room === undefined) throw new AppError("BAD_REQUEST", "room must be a room id or number", { field: "room" });
    const r = await findPublicRoom(db, room);
    return {
      id: r.id,
      num: r.num,
      status: r.status,
      streamOnline: r.streamOnline,
      sourced: !!(await sourceOf(db, r.num, "main")),
      successorNum: r.successorNum,
      metrics: await roomStats(db, r, now),
    };
  });
}
