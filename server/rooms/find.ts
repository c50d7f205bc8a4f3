// Finding a room for an actor: tenant filters in the WHERE clause (other tenants' rooms answer
// NOT_FOUND), management rights checked after (same-tenant users who do not own it: FORBIDDEN).
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { AppError, forbidden, notFound } from "../errors";
import { tenantFilter, type Actor } from "../actor";
import type { DbOrTx } from "../db/client";
import { rooms } from "../db/schema";

export const roomRef = z.union([z.string().uuid(), z.number().int().positive()]);
export type RoomRef = z.infer<typeof roomRef>;
export type RoomRow = typeof rooms.$inferSelect;

const refWhere = (ref: RoomRef) => (typeof ref === "number" ? eq(rooms.num, ref) : eq(rooms.id, ref));

/** A room visible to the actor (same app, or any app for platform admins) or NOT_FOUND. */
export async function findRoom(db: DbOrTx, actor: Actor, ref: RoomRef, lock = false): Promise<RoomRow> {
  const q = db
    .select()
    .from(rooms)
    .where(and(refWhere(ref), tenantFilter(actor, rooms.appId)));
  const row = (await (lock ? q.for("update") : q))[0];
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
