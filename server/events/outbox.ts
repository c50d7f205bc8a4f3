// Room events are written in the transaction of the change they report (nothing published for a
// change that rolled back, nothing lost for one that committed) and published once it commits.
import type { DbOrTx, Tx } from "../db/client";
import { roomEvents } from "../db/schema";
import { publishEvents } from "./bus";
import type { Audience, RoomEvent, RoomEventType } from "./types";

const pending = new WeakMap<object, RoomEvent[]>();

export async function emitRoomEvent(
  tx: DbOrTx,
  roomNum: number,
  type: RoomEventType,
  payload: Record<string, unknown>,
  now: Date,
  audience: Audience = "",
): Promise<RoomEvent> {
  const [res] = await tx
    .insert(roomEvents)
    .values({ roomNum, type, audience, payload: JSON.stringify(payload), createdAt: now });
  const event: RoomEvent = { id: Number(res.insertId), roomNum, type, audience, payload, at: now.getTime() };
  // Outside a transaction the row is already committed.
  if (!("rollback" in tx)) publishEvents([event]);
  else pending.set(tx, [...(pending.get(tx) ?? []), event]);
  return event;
}

/** Called when a transaction commits (server/actor.ts): its events go out. */
export function transactionCommitted(tx: object) {
  const events = pending.get(tx);
  if (!events) return;
  pending.delete(tx);
  publishEvents(events);
}

/**
 * Runs `fn` in a transaction (or the caller's) and publishes its events once it commits: for writes
 * that have a handle, not a verb's context (server/actor.ts's `transaction` does the same for those).
 */
export async function withEvents<T>(db: DbOrTx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if ("rollback" in db) return fn(db);
  let used: Tx | undefined;
  const out = await db.transaction((tx) => fn((used = tx)));
  if (used) transactionCommitted(used);
  return out;
}
