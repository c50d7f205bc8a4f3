// Rooms: create, read, list, edit, lifecycle and delete. Tenant filters sit in every WHERE clause;
// other tenants' rooms answer NOT_FOUND, same-tenant users who do not own the room FORBIDDEN.
import { and, count, desc, eq, inArray, isNull, like, lt, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import { dbOf, requireRole, requireUser, tenantFilter, tenantOf, transaction, type Ctx } from "../actor";
import { audit } from "../audit";
import type { DbOrTx } from "../db/client";
import { containsPattern } from "../db/like";
import { ACTIVE_MIC_STATES } from "../mic/states";
import { changeRoom, managed } from "./change";
import { emitAppEvent } from "../events/outbox";
import { webhookRoom } from "../events/room";
import { assertNotEnded, findRoom, roomRef, type RoomRef, type RoomRow } from "./find";
import {
  micSessions,
  publishRefusals,
  recordings,
  roomFigures,
  roomMembers,
  rooms,
  ROOM_STATUSES,
  streamSources,
  streamHealth,
  roomThumbnails,
  users,
  type RoomStatus,
} from "../db/schema";
import { env } from "../env";
import { AppError, forbidden, notFound } from "../errors";
import { markFigures, roomStats, roomStatsMany } from "../presence/figures";
import { asShared, cacheable, isShared, sharedReads } from "../cache";
import type { RoomStats } from "../presence/stats";
import { STATUS_CODE, TRANSITIONS, type RoomAction } from "./status";
import { newStreamName } from "../media/keys";
import { graceInput, graceOf } from "./grace";

export {
  assertNotEnded,
  canManageRoom,
  findManagedRoom,
  findPublicRoom,
  findPublicRoomShared,
  findRoom,
  roomRef,
  settledFindRoom,
  type RoomRef,
  type RoomRow,
} from "./find";

const url = z
  .string()
  .trim()
  .max(1024)
  .refine((u) => u === "" || /^https?:\/\/\S+$/i.test(u), {
    message: "Must be an http(s) URL",
    params: { rule: "url" },
  });
const fields = {
  title: z.string().trim().min(1).max(256),
  notice: z.string().max(1024),
  coverUrl: url,
  hostNick: z.string().trim().max(256),
  mode: z.number().int().min(0).max(2),
  extends: z.string().max(65_536),
  chatId: z.string().trim().max(256),
  record: z.boolean(),
  micSeats: z.number().int().min(1).max(64),
  clientAppId: z.string().trim().max(32),
  /** Seconds a dropped stream may take to come back before the room ends (null: MEDIA_END_GRACE_S). */
  graceS: graceInput,
};

export const createRoomInput = z.object({
  title: fields.title,
  notice: fields.notice.optional(),
  coverUrl: fields.coverUrl.optional(),
  hostNick: fields.hostNick.optional(),
  mode: fields.mode.default(0),
  extends: fields.extends.optional(),
  chatId: fields.chatId.optional(),
  record: fields.record.default(false),
  micSeats: fields.micSeats.optional(),
  graceS: fields.graceS.optional(),
  /** Admins create rooms for a host of their app. */
  hostId: z.string().uuid().optional(),
});
export const updateRoomInput = z.object({
  room: roomRef,
  title: fields.title.optional(),
  notice: fields.notice.optional(),
  coverUrl: fields.coverUrl.optional(),
  hostNick: fields.hostNick.optional(),
  mode: fields.mode.optional(),
  extends: fields.extends.optional(),
  record: fields.record.optional(),
  micSeats: fields.micSeats.optional(),
  graceS: fields.graceS.optional(),
  /** The client SDK's app id a vendor client reported (随心播 `appid`). */
  clientAppId: fields.clientAppId.optional(),
  /** Chat slow mode: seconds between one member's messages (0 off, at most an hour). */
  chatSlowS: z.number().int().min(0).max(3600).optional(),
  /** Viewers who are not signed in may chat, with a nick. */
  guestChat: z.boolean().optional(),
});
export const listRoomsInput = z.object({
  appId: z.number().int().positive().optional(),
  /** Only rooms reported under this client SDK app id (随心播 `roomlist` `appid`). */
  clientAppId: fields.clientAppId.optional(),
  status: z.enum(ROOM_STATUSES).optional(),
  hostId: z.string().uuid().optional(),
  q: z.string().trim().max(128).optional(),
  limit: z.number().int().min(1).max(100).default(20),
  /** Keyset cursor from a previous page (stable under inserts). */
  cursor: z.string().max(64).optional(),
  /** Offset paging for clients that page by index (the 随心播 and AUI seeds). */
  offset: z.number().int().min(0).max(1_000_000).optional(),
  withMetrics: z.boolean().default(false),
});

export function roomView(r: RoomRow, metrics?: RoomStats) {
  return {
    id: r.id,
    num: r.num,
    appId: r.appId,
    title: r.title,
    notice: r.notice,
    coverUrl: r.coverUrl,
    hostId: r.hostId,
    hostNick: r.hostNick,
    mode: r.mode,
    extends: r.extends,
    chatId: r.chatId,
    meetingId: r.meetingId,
    pkId: r.pkId,
    vodId: r.vodId,
    clientAppId: r.clientAppId,
    status: r.status,
    statusCode: STATUS_CODE[r.status],
    record: r.record,
    micSeats: r.micSeats,
    chatSlowS: r.chatSlowS,
    guestChat: r.guestChat,
    /** The grace that applies (seconds), and whether it is the instance default. */
    graceS: graceOf(r),
    graceDefault: r.graceS === null,
    successorNum: r.successorNum,
    streamName: r.streamName,
    streamOnline: r.streamOnline,
    /** Paused because the stream dropped (not by the host): it resumes when the encoder is back. */
    autoPaused: r.autoPaused,
    keyVersion: r.keyVersion,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    startedAt: r.startedAt,
    pausedAt: r.pausedAt,
    stoppedAt: r.stoppedAt,
    ...(metrics ? { metrics } : {}),
  };
}

export async function createRoom(ctx: Ctx, input: z.infer<typeof createRoomInput>) {
  // Admins and onair itself (an adapter acting for an app) create rooms for a host of the app.
  const me = ctx.actor.kind === "system" ? ctx.actor : requireRole(ctx.actor, "host", "admin");
  const db = dbOf(ctx);
  let host: { id: string; appId: number | null; nick: string };
  if (me.kind === "system" || me.role === "admin") {
    if (!input.hostId) throw new AppError("BAD_REQUEST", "Choose the host of the room", { field: "hostId" });
    const row = (
      await db
        .select()
        .from(users)
        .where(and(eq(users.id, input.hostId), tenantFilter(me, users.appId)))
    )[0];
    if (!row || row.appId === null) throw new AppError("NOT_FOUND", "Host not found", { field: "hostId" });
    if (row.role !== "host") throw new AppError("BAD_REQUEST", "That user is not a host", { field: "hostId" });
    host = row;
  } else {
    if (input.hostId && input.hostId !== me.userId) throw forbidden("Hosts create rooms for themselves");
    const row = (await db.select().from(users).where(eq(users.id, me.userId)))[0];
    if (!row || row.appId === null) throw notFound("User");
    host = row;
  }
  const appId = host.appId!;
  const now = ctx.clock.now();
  return transaction(ctx, async (tx) => {
    const id = crypto.randomUUID();
    const [res] = await tx.insert(rooms).values({
      id,
      appId,
      title: input.title,
      notice: input.notice ?? "",
      coverUrl: input.coverUrl ?? "",
      hostId: host.id,
      hostNick: input.hostNick ?? host.nick,
      mode: input.mode,
      extends: input.extends ?? "",
      chatId: input.chatId ?? "",
      record: input.record,
      streamName: newStreamName(),
      micSeats: input.micSeats ?? env().MIC_SEATS,
      graceS: input.graceS ?? null,
      createdAt: now,
      updatedAt: now,
    });
    const num = res.insertId;
    // The chat group id defaults to the room number, as the 随心播 server assigns it.
    if (!input.chatId)
      await tx
        .update(rooms)
        .set({ chatId: String(num) })
        .where(eq(rooms.num, num));
    await audit(tx, ctx.actor, now, {
      appId,
      action: "room.create",
      targetType: "room",
      targetId: id,
      detail: { title: input.title },
    });
    const row = await reread(tx, num);
    await emitAppEvent(tx, appId, num, "room.created", { room: webhookRoom(row) }, now);
    return roomView(row);
  });
}

const reread = async (db: DbOrTx, num: number) => (await db.select().from(rooms).where(eq(rooms.num, num)))[0]!;

export async function getRoom(ctx: Ctx, ref: RoomRef) {
  requireUser(ctx.actor);
  const db = dbOf(ctx);
  const room = await findRoom(db, ctx.actor, ref);
  // The room it went live again as, by id, for the console's link ("Go live again").
  const successor =
    room.successorNum === null
      ? undefined
      : (await db.select({ id: rooms.id }).from(rooms).where(eq(rooms.num, room.successorNum)))[0];
  return { ...roomView(room, await roomStats(db, room, ctx.clock.now())), successorId: successor?.id ?? null };
}

const encodeCursor = (r: { createdAt: Date; num: number }) => `${r.createdAt.getTime()}_${r.num}`;
function decodeCursor(cursor: string) {
  const m = /^(\d{1,15})_(\d{1,15})$/.exec(cursor);
  if (!m) throw new AppError("BAD_REQUEST", "Bad cursor", { field: "cursor" });
  return { createdAt: new Date(Number(m[1])), num: Number(m[2]) };
}

const sharedPages = sharedReads<Awaited<ReturnType<typeof readPage>>>();
const sharedTotals = sharedReads<number>();

/**
 * Newest first, tie-broken by room number so pages never skip or repeat rows under inserts, with
 * the number of rooms the filter matches. The same page for the same tenant is read at most once
 * a second (server/cache.ts), and the total once a second per filter whatever the page.
 */
export async function listRooms(ctx: Ctx, input: z.infer<typeof listRoomsInput>) {
  const [page, total] = await Promise.all([listRoomPage(ctx, input), countRooms(ctx, input)]);
  return withTotal(page, total);
}

/**
 * listRooms' answer if its page and total have been read for everybody and may still be served
 * (undefined: ask listRooms), for answers made synchronously (server/front/fast.ts). Throws as
 * listRooms does.
 */
export function settledListRooms(ctx: Ctx, input: z.infer<typeof listRoomsInput>) {
  const page = settledRoomPage(ctx, input);
  if (!page) return undefined;
  const total = sharedTotals.settled(totalKey(ctx, input), () => readTotal(ctx, dbOf(ctx), input))?.value;
  return total === undefined ? undefined : withTotal(page, total);
}

function withTotal(page: Awaited<ReturnType<typeof readPage>>, total: number) {
  const shared: boolean = isShared(page); // (a plain boolean: the guard would narrow `page` to never)
  if (!shared) return { ...page, total };
  // The same page with the same total is the same answer (serialised once by the tRPC front).
  let list = withTotals.get(page);
  if (list?.total !== total) withTotals.set(page, (list = asShared({ ...page, total })));
  return list;
}
const withTotals = new WeakMap<object, Awaited<ReturnType<typeof readPage>> & { total: number }>();

/** A page of listRooms without the total, for clients that do not show one (AUI `list`). */
export async function listRoomPage(ctx: Ctx, input: z.infer<typeof listRoomsInput>) {
  requireUser(ctx.actor);
  const db = dbOf(ctx);
  if (!cacheable(db)) return readPage(ctx, db, input);
  return sharedPages(JSON.stringify([tenantOf(ctx.actor), input]), () => readPage(ctx, db, input));
}

/**
 * listRoomPage's page if it has been read for everybody and may still be served (undefined: ask
 * listRoomPage), for answers made synchronously (server/front/fast.ts). Throws as listRoomPage does.
 */
export function settledRoomPage(ctx: Ctx, input: z.infer<typeof listRoomsInput>) {
  requireUser(ctx.actor);
  const db = dbOf(ctx);
  if (!cacheable(db)) return undefined;
  return sharedPages.settled(JSON.stringify([tenantOf(ctx.actor), input]), () => readPage(ctx, db, input))?.value;
}

function roomFilter(ctx: Ctx, input: z.infer<typeof listRoomsInput>) {
  const where: (SQL | undefined)[] = [tenantFilter(ctx.actor, rooms.appId, input.appId)];
  if (input.status) where.push(eq(rooms.status, input.status));
  if (input.clientAppId) where.push(eq(rooms.clientAppId, input.clientAppId));
  if (input.hostId) where.push(eq(rooms.hostId, input.hostId));
  if (input.q) where.push(like(rooms.title, containsPattern(input.q)));
  return where;
}

async function countRooms(ctx: Ctx, input: z.infer<typeof listRoomsInput>) {
  requireUser(ctx.actor);
  const db = dbOf(ctx);
  if (!cacheable(db)) return readTotal(ctx, db, input);
  return sharedTotals(totalKey(ctx, input), () => readTotal(ctx, db, input));
}
/** A total is the filter's, whatever the page. */
function totalKey(ctx: Ctx, input: z.infer<typeof listRoomsInput>) {
  const { appId, clientAppId, status, hostId, q } = input;
  return JSON.stringify([tenantOf(ctx.actor), appId, clientAppId, status, hostId, q]);
}
async function readTotal(ctx: Ctx, db: DbOrTx, input: z.infer<typeof listRoomsInput>) {
  return (
    (
      await db
        .select({ n: count() })
        .from(rooms)
        .where(and(...roomFilter(ctx, input)))
    )[0]?.n ?? 0
  );
}

async function readPage(ctx: Ctx, db: DbOrTx, input: z.infer<typeof listRoomsInput>) {
  const page = roomFilter(ctx, input);
  if (input.cursor) {
    const c = decodeCursor(input.cursor);
    page.push(or(lt(rooms.createdAt, c.createdAt), and(eq(rooms.createdAt, c.createdAt), lt(rooms.num, c.num))));
  }
  // The page's numbers first, from the index that holds the filter and the order (no row is read
  // for the rooms an offset skips, nor for rooms the filter leaves out), then those rows by primary
  // key. (One statement joining the two costs MariaDB a temporary table and a sort.) A room changed
  // between the two reads is shown as it is now; one deleted meanwhile is left out.
  let pick = db
    .select({ num: rooms.num })
    .from(rooms)
    .where(and(...page))
    .orderBy(desc(rooms.createdAt), desc(rooms.num))
    .limit(input.limit + 1)
    .$dynamic();
  if (input.offset !== undefined && !input.cursor) pick = pick.offset(input.offset);
  const nums = (await pick).map((r) => r.num);
  const byNum = new Map(
    (nums.length ? await db.select().from(rooms).where(inArray(rooms.num, nums)) : []).map((r) => [r.num, r]),
  );
  const rows = nums.flatMap((n) => byNum.get(n) ?? []);
  const items = rows.slice(0, input.limit);
  const now = ctx.clock.now();
  const stats = input.withMetrics ? await roomStatsMany(db, items, now) : undefined;
  const views = items.map((r) => roomView(r, stats?.get(r.num)));
  return {
    items: views,
    nextCursor: nums.length > input.limit && items.length ? encodeCursor(items[items.length - 1]!) : null,
  };
}

export async function updateRoom(ctx: Ctx, input: z.infer<typeof updateRoomInput>) {
  const { room: ref, ...patch } = input;
  return changeRoom(ctx, managed(ref), "room.update", async (tx, room, now) => {
    assertNotEnded(room, "This room has ended and can no longer be edited");
    const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    await tx
      .update(rooms)
      .set({ ...set, updatedAt: now })
      .where(eq(rooms.num, room.num));
    const after = await reread(tx, room.num);
    return { result: roomView(after), detail: set, after };
  });
}

const STATUS_WORD: Record<RoomStatus, string> = {
  prepare: "not started",
  live: "live",
  paused: "paused",
  ended: "ended",
};

/**
 * Moves a room through its lifecycle. The UPDATE is conditional on the current status, so two
 * concurrent moves cannot both win; an illegal move answers ILLEGAL_TRANSITION naming both states.
 */
export async function transitionRoom(ctx: Ctx, ref: RoomRef, action: RoomAction) {
  const rule = TRANSITIONS[action];
  return changeRoom(ctx, managed(ref), `room.${action}`, async (tx, room, now) => {
    if (!rule.from.includes(room.status))
      throw new AppError("ILLEGAL_TRANSITION", `Cannot ${action} a room that is ${STATUS_WORD[room.status]}`, {
        status: room.status,
        action,
      });
    const set: Partial<RoomRow> = { status: rule.to, updatedAt: now };
    if (rule.to === "live") {
      set.startedAt = room.startedAt ?? now;
      set.pausedAt = null;
    }
    if (rule.to === "paused") set.pausedAt = now;
    if (rule.to === "ended") set.stoppedAt = now;
    await tx
      .update(rooms)
      .set(set)
      .where(and(eq(rooms.num, room.num), inArray(rooms.status, [...rule.from])));
    if (rule.to === "ended") await endRoomSessions(tx, room.num, now);
    const after = await reread(tx, room.num);
    return { result: roomView(after), detail: { from: room.status, to: rule.to }, after };
  });
}

/** When a room ends everybody leaves and all co-hosting ends. */
export async function endRoomSessions(tx: DbOrTx, num: number, now: Date) {
  await tx
    .update(roomMembers)
    .set({ leftAt: now })
    .where(and(eq(roomMembers.roomNum, num), isNull(roomMembers.leftAt)));
  await markFigures(tx, [num]);
  await tx
    .update(micSessions)
    .set({ state: "ended", updatedAt: now })
    .where(and(eq(micSessions.roomNum, num), inArray(micSessions.state, [...ACTIVE_MIC_STATES])));
}

/** Deletes a room with its members and co-host sessions; its recordings stay (they are VOD assets). */
export async function deleteRoom(ctx: Ctx, ref: RoomRef) {
  return changeRoom(ctx, managed(ref), "room.delete", async (tx, room) => {
    await tx.delete(roomMembers).where(eq(roomMembers.roomNum, room.num));
    await tx.delete(roomFigures).where(eq(roomFigures.roomNum, room.num));
    await tx.delete(micSessions).where(eq(micSessions.roomNum, room.num));
    await tx.delete(streamSources).where(eq(streamSources.roomNum, room.num));
    await tx.delete(streamHealth).where(eq(streamHealth.roomNum, room.num));
    await tx.delete(roomThumbnails).where(eq(roomThumbnails.roomNum, room.num));
    await tx.delete(publishRefusals).where(eq(publishRefusals.roomNum, room.num));
    await tx.delete(rooms).where(eq(rooms.num, room.num));
    const kept = await tx.select({ n: count() }).from(recordings).where(eq(recordings.roomNum, room.num));
    return {
      result: { id: room.id, num: room.num, deleted: true },
      detail: { title: room.title, status: room.status, recordingsKept: kept[0]?.n ?? 0 },
    };
  });
}
