// Finding a room for an actor: tenant filters in the WHERE clause (other tenants' rooms answer
// NOT_FOUND), management rights checked after (same-tenant users who do not own it: FORBIDDEN).
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { AppError, forbidden, notFound } from "../errors";
import { tenantOf, type Actor } from "../actor";
import { prepared, type Db, type DbOrTx } from "../db/client";
import { rooms } from "../db/schema";
import { sharedReads } from "../cache";

export const roomRef = z.union([z.string().uuid(), z.number().int().positive()]);
export type RoomRef = z.infer<typeof roomRef>;
export type RoomRow = typeof rooms.$inferSelect;

/**
 * The look-up every verb starts with, built once (server/db/client.ts `prepared`) and run on the
 * pool or a transaction's connection: building a select of every column costs Drizzle about as much
 * as MariaDB answering it (measured: 2.3k/s built each time against 5.7k/s prepared, on one pool of 10).
 */
const byRef = (ref: "num" | "id", withApp: boolean, lock: boolean) =>
  prepared((db) => {
    const q = db
      .select()
      .from(rooms)
      .where(
        and(
          ref === "num" ? eq(rooms.num, sql.placeholder("ref")) : eq(rooms.id, sql.placeholder("ref")),
          withApp ? eq(rooms.appId, sql.placeholder("app")) : undefined,
        ),
      );
    return lock ? q.for("update") : q;
  });
const statements = new Map<string, ReturnType<typeof byRef>>();
/** The rows of `ref` in `app` (null: any app), locked or not, on `db` (the pool or a transaction). */
export function roomRows(db: DbOrTx, ref: RoomRef, app: number | null, lock: boolean) {
  const kind = typeof ref === "number" ? "num" : "id";
  const key = `${kind} ${app !== null} ${lock}`;
  let statement = statements.get(key);
  if (!statement) statements.set(key, (statement = byRef(kind, app !== null, lock)));
  return statement(db, { ref, app });
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
  return () => roomRows(main, ref, app, false);
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
    rows = await roomRows(db, ref, tenantOf(actor), lock);
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
  const row = (await roomRows(db, ref, null, false))[0];
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
