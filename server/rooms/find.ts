// Finding a room for an actor: tenant filters in the WHERE clause (other tenants' rooms answer
// NOT_FOUND), management rights checked after (same-tenant users who do not own it: FORBIDDEN).
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { AppError, forbidden, notFound } from "../errors";
import { tenantFilter, tenantOf, type Actor } from "../actor";
import type { Db, DbOrTx } from "../db/client";
import { rooms } from "../db/schema";
import { sharedReads } from "../cache";

export const roomRef = z.union([z.string().uuid(), z.number().int().positive()]);
export type RoomRef = z.infer<typeof roomRef>;
export type RoomRow = typeof rooms.$inferSelect;

const refWhere = (ref: RoomRef) => (typeof ref === "number" ? eq(rooms.num, ref) : eq(rooms.id, ref));

/**
 * The look-up every verb starts with, as prepared statements per pool: building a select of every
 * column costs Drizzle about as much as MariaDB answering it (measured: 2.3k/s built each time
 * against 5.7k/s prepared, on one pool of 10). Transactions and locking reads build theirs.
 */
const statements = new WeakMap<Db, ReturnType<typeof prepare>>();
function prepare(db: Db) {
  const num = sql.placeholder("num");
  const id = sql.placeholder("id");
  const app = sql.placeholder("app");
  return {
    num: db.select().from(rooms).where(eq(rooms.num, num)).prepare(),
    id: db.select().from(rooms).where(eq(rooms.id, id)).prepare(),
    numApp: db
      .select()
      .from(rooms)
      .where(and(eq(rooms.num, num), eq(rooms.appId, app)))
      .prepare(),
    idApp: db
      .select()
      .from(rooms)
      .where(and(eq(rooms.id, id), eq(rooms.appId, app)))
      .prepare(),
  };
}
const isTx = (db: DbOrTx) => "rollback" in db;
const sharedRooms = sharedReads<RoomRow[]>(1000, 20_000);

/** The rows of `ref` in `app` (null: any app), from the prepared statements, shared for up to a second. */
function sharedRoomRows(main: Db, ref: RoomRef, app: number | null) {
  // Outside transactions a room read is shared for up to a second (server/cache.ts): writes lock
  // and re-read it inside their transaction, and this process's own commits are seen at once.
  return sharedRooms(roomKey(ref, app), readRoomRows(main, ref, app));
}
const roomKey = (ref: RoomRef, app: number | null) => `${app}:${typeof ref}:${ref}`;
function readRoomRows(main: Db, ref: RoomRef, app: number | null) {
  let s = statements.get(main);
  if (!s) statements.set(main, (s = prepare(main)));
  const st = s;
  return () =>
    typeof ref === "number"
      ? app === null
        ? st.num.execute({ num: ref })
        : st.numApp.execute({ num: ref, app })
      : app === null
        ? st.id.execute({ id: ref })
        : st.idApp.execute({ id: ref, app });
}

/**
 * findRoom's row if it has been read and may still be served ({value: undefined}: no such room for
 * the actor), for answers made synchronously (server/front/fast.ts); undefined: ask findRoom.
 */
export function settledFindRoom(db: DbOrTx, actor: Actor, ref: RoomRef): { value: RoomRow | undefined } | undefined {
  if (isTx(db)) return undefined;
  const app = tenantOf(actor);
  const rows = sharedRooms.settled(roomKey(ref, app), readRoomRows(db, ref, app));
  return rows && { value: rows.value[0] };
}

/** A room visible to the actor (same app, or any app for platform admins) or NOT_FOUND. */
export async function findRoom(db: DbOrTx, actor: Actor, ref: RoomRef, lock = false): Promise<RoomRow> {
  let rows: RoomRow[];
  if (lock || isTx(db)) {
    const q = db
      .select()
      .from(rooms)
      .where(and(refWhere(ref), tenantFilter(actor, rooms.appId)));
    rows = await (lock ? q.for("update") : q);
  } else {
    rows = await sharedRoomRows(db, ref, tenantOf(actor));
  }
  const row = rows[0];
  if (!row) throw notFound("Room");
  return row;
}

/**
 * A room as the public sees it, read up to a second ago (a read shared across requests): for
 * look-ups whose caller reads it again where the moment counts (a room-event socket's hello).
 */
export async function findPublicRoomShared(db: Db, ref: RoomRef): Promise<RoomRow> {
  const row = (await sharedRoomRows(db, ref, null))[0];
  if (!row) throw notFound("Room");
  return row;
}

/**
 * A room as the public sees it (watch pages, guests joining): rooms are public to watch, so the
 * look-up has no tenant, and no actor is borrowed for it.
 */
export async function findPublicRoom(db: DbOrTx, ref: RoomRef): Promise<RoomRow> {
  const row = (await db.select().from(rooms).where(refWhere(ref)))[0];
  if (!row) throw notFound("Room");
  return row;
}

export const canManageRoom = (actor: Actor, room: { hostId: string }) =>
  actor.kind === "system" || (actor.kind === "user" && (actor.role === "admin" || actor.userId === room.hostId));

/** The room, if the actor is its host or an admin of its app; FORBIDDEN for other same-app users. */
export async function findManagedRoom(db: DbOrTx, actor: Actor, ref: RoomRef, lock = false) {
  if (actor.kind === "anonymous") throw new AppError("UNAUTHENTICATED", "Sign in first");
  const room = await findRoom(db, actor, ref, lock);
  if (!canManageRoom(actor, room)) throw forbidden("Only the room's host or an admin can do this");
  return room;
}

/** Refuses changes to a room that has ended. */
export function assertNotEnded(room: RoomRow, message = "This room has ended") {
  if (room.status === "ended") throw new AppError("ILLEGAL_TRANSITION", message, { status: room.status });
}
