// The one way a room-scoped write runs: lock the room (checking the actor's rights), apply the
// change, and write its audit row with the room's fields before and after, in one transaction.
import { transaction, type Actor, type Ctx } from "../actor";
import { audit } from "../audit";
import type { Tx } from "../db/client";
import { findManagedRoom, findRoom, roomRows, type RoomRef, type RoomRow } from "./find";
import { emitRoomChange } from "../events/outbox";

export interface RoomChange<T> {
  result: T;
  /** Overrides the action named by the caller (e.g. the move a co-host verb made). */
  action?: string;
  detail?: Record<string, unknown>;
  /** False when nothing changed (an idempotent repeat): no audit row. */
  audit?: boolean;
  /** The room as the change left it, when the verb read it anyway (saves reading it again). */
  after?: RoomRow;
}

/** How the room is found and locked, and who the audit row names. */
export interface RoomLock {
  find: (tx: Tx, ctx: Ctx) => Promise<RoomRow>;
  /** The actor recorded, when it depends on the room (media servers act for the room's app). */
  actor?: (room: RoomRow) => Actor;
}

/** The room if the actor manages it (its host, or an admin of its app). */
export const managed = (ref: RoomRef): RoomLock => ({ find: (tx, ctx) => findManagedRoom(tx, ctx.actor, ref, true) });
/** The room if the actor may see it (anybody signed in to its app). */
export const visible = (ref: RoomRef): RoomLock => ({ find: (tx, ctx) => findRoom(tx, ctx.actor, ref, true) });

/** Room columns that differ between two snapshots, as {before, after}. */
function roomDiff(before: RoomRow, after: RoomRow | undefined) {
  if (!after) return {};
  const changed = (Object.keys(before) as (keyof RoomRow)[]).filter(
    (k) =>
      k !== "updatedAt" &&
      String(before[k] instanceof Date ? +before[k] : before[k]) !==
        String(after[k] instanceof Date ? +after[k] : after[k]),
  );
  if (!changed.length) return {};
  return {
    before: Object.fromEntries(changed.map((k) => [k, before[k]])),
    after: Object.fromEntries(changed.map((k) => [k, after[k]])),
  };
}

const detailOrNone = (d: Record<string, unknown>) => (Object.keys(d).length ? d : undefined);

export async function changeRoom<T>(
  ctx: Ctx,
  lock: RoomLock,
  action: string,
  change: (tx: Tx, room: RoomRow, now: Date, ctx: Ctx & { tx: Tx }) => Promise<RoomChange<T>>,
): Promise<T> {
  const now = ctx.clock.now();
  return transaction(ctx, async (tx, inner) => {
    const room = await lock.find(tx, inner);
    const out = await change(tx, room, now, inner);
    if (out.audit !== false) {
      const after = out.after ?? (await roomRows(tx, room.num, null, false))[0];
      // What the room's sockets and the app's webhooks hear of it, written with the change
      // (server/events/room.ts derives both).
      await emitRoomChange(
        tx,
        { action: out.action ?? action, before: room, after, detail: out.detail, result: out.result },
        now,
      );
      await audit(tx, lock.actor?.(room) ?? ctx.actor, now, {
        appId: room.appId,
        action: out.action ?? action,
        targetType: "room",
        targetId: room.id,
        detail: detailOrNone({ ...out.detail, ...roomDiff(room, after) }),
      });
    }
    return out.result;
  });
}
