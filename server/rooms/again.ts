// "Go live again": an ended room is final (the seeds' rule), so going live again makes a new room
// (new id and number) with the ended one's settings, title and host; the ended room records its
// successor, and its watch URL leads viewers on to the newest room of the chain.
import { eq } from "drizzle-orm";
import { audit } from "../audit";
import type { Ctx } from "../actor";
import type { DbOrTx } from "../db/client";
import { rooms, users, type RoomStatus } from "../db/schema";
import { AppError, notFound } from "../errors";
import { newStreamName } from "../media/keys";
import { changeRoom, managed } from "./change";
import { roomView, type RoomRef, type RoomRow } from "./index";

/** How many successors a watch URL follows (a chain longer than this is cut there). */
export const MAX_CONTINUATIONS = 20;

/**
 * Makes the new room, as the room's host or an admin of its app, in the transaction that links it
 * from the ended one (audited on both rooms). Refused unless the room has ended and has no
 * successor yet (details.successor names it then: go live again from that one).
 */
export async function goLiveAgain(ctx: Ctx, ref: RoomRef) {
  return changeRoom(ctx, managed(ref), "room.go_live_again", async (tx, room, now) => {
    if (room.status !== "ended")
      throw new AppError("ILLEGAL_TRANSITION", "Only an ended room can go live again", { status: room.status });
    if (room.successorNum !== null) {
      const next = (await tx.select({ id: rooms.id }).from(rooms).where(eq(rooms.num, room.successorNum)))[0];
      throw new AppError("ILLEGAL_TRANSITION", "This room already went live again", {
        status: room.status,
        successor: next?.id ?? null,
        successorNum: room.successorNum,
      });
    }
    const host = (await tx.select().from(users).where(eq(users.id, room.hostId)))[0];
    if (!host || host.appId !== room.appId) throw notFound("Host");
    if (host.disabled) throw new AppError("DISABLED", "The room's host is disabled");
    const id = crypto.randomUUID();
    const [res] = await tx.insert(rooms).values({
      id,
      appId: room.appId,
      title: room.title,
      notice: room.notice,
      coverUrl: room.coverUrl,
      hostId: room.hostId,
      hostNick: room.hostNick,
      mode: room.mode,
      extends: room.extends,
      chatId: room.chatId,
      clientAppId: room.clientAppId,
      record: room.record,
      chatSlowS: room.chatSlowS,
      guestChat: room.guestChat,
      micSeats: room.micSeats,
      graceS: room.graceS,
      streamName: newStreamName(),
      createdAt: now,
      updatedAt: now,
    });
    const num = res.insertId;
    // A chat group named after the room number (the default) follows the new number.
    if (room.chatId === String(room.num))
      await tx
        .update(rooms)
        .set({ chatId: String(num) })
        .where(eq(rooms.num, num));
    await tx.update(rooms).set({ successorNum: num, updatedAt: now }).where(eq(rooms.num, room.num));
    await audit(tx, ctx.actor, now, {
      appId: room.appId,
      action: "room.create",
      targetType: "room",
      targetId: id,
      detail: { title: room.title, predecessor: room.id },
    });
    const created = (await tx.select().from(rooms).where(eq(rooms.num, num)))[0]!;
    return { result: roomView(created), detail: { successor: id } };
  });
}

export interface Continuation {
  id: string;
  num: number;
  status: RoomStatus;
}

/**
 * The newest room a room's broadcast continues in (following successors, at most
 * MAX_CONTINUATIONS), or null when it has none. Public, as watching is.
 */
export async function continuationOf(db: DbOrTx, room: Pick<RoomRow, "successorNum">): Promise<Continuation | null> {
  let next = room.successorNum;
  let last: Continuation | null = null;
  const seen = new Set<number>();
  for (let hop = 0; next !== null && hop < MAX_CONTINUATIONS && !seen.has(next); hop++) {
    seen.add(next);
    const row = (
      await db
        .select({ id: rooms.id, num: rooms.num, status: rooms.status, successorNum: rooms.successorNum })
        .from(rooms)
        .where(eq(rooms.num, next))
    )[0];
    if (!row) break; // deleted: the chain stops at the last room that exists
    last = { id: row.id, num: row.num, status: row.status };
    next = row.successorNum;
  }
  return last;
}

/** Whether viewers of an ended room are sent on to its continuation now: while that one is on air. */
export const leadsOn = (c: Continuation | null): c is Continuation =>
  !!c && (c.status === "live" || c.status === "paused");

/**
 * What a watch or embed URL shows: the room (null when there is none: the page answers 404), and
 * the room its viewers are sent on to now, if any (its continuation, while that one is on air).
 */
export async function watchTarget(db: DbOrTx, ref: RoomRef) {
  const room = (
    await db
      .select()
      .from(rooms)
      .where(typeof ref === "number" ? eq(rooms.num, ref) : eq(rooms.id, ref))
  )[0];
  if (!room) return null;
  const next = room.status === "ended" ? await continuationOf(db, room) : null;
  return { room, leadTo: leadsOn(next) ? next : null };
}
