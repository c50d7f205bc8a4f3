// Members and presence: join, heartbeat, leave, kick and the member list.
import { and, asc, count, eq, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { dbOf, requireUser, transaction, type Ctx } from "../actor";
import { cacheable, readsChanged, sharedReads } from "../cache";
import { runTransaction, type Db, type DbOrTx } from "../db/client";
import { MEMBER_ROLE, micSessions, roomMembers, users, type RoomStatus } from "../db/schema";
import { env } from "../env";
import { AppError, notFound } from "../errors";
import { ACTIVE_MIC_STATES } from "../mic/states";
import { assertNotEnded, findPublicRoom, findRoom, roomRef, settledFindRoom } from "../rooms";
import { changeRoom, managed } from "../rooms/change";
import { assertAppLive, memberSubject, signRoomToken, verifyRoomToken } from "../tokens";
import { revoke } from "../tokens/revocations";
import { presenceBuffer, type PresenceBuffer } from "./buffer";
import { assertNotKicked } from "./kicked";
import { countsOnline, onlineWhere } from "./stats";
import { markFigures } from "./figures";

export const HEARTBEAT_INTERVAL_S = 10;

export const joinInput = z.object({
  room: roomRef,
  nick: z.string().trim().max(64).optional(),
  guestId: z.string().uuid().optional(),
});
export const heartbeatInput = z.object({
  token: z.string().min(10).max(4096),
  /** The member's running like total (not an increment). */
  likes: z.number().int().min(0).max(2_000_000_000).optional(),
});
export const leaveInput = z.object({ token: z.string().min(10).max(4096) });
export const kickInput = z.object({ room: roomRef, memberId: z.string().min(1).max(64) });
export const listMembersInput = z.object({
  room: roomRef,
  onlineOnly: z.boolean().default(true),
  limit: z.number().int().min(1).max(200).default(50),
  offset: z.number().int().min(0).max(1_000_000).default(0),
});

/**
 * Enters a room: counts a join (pv), issues the presence token the client heartbeats with.
 * The host joins as 1, an active co-host as 2, everybody else as 0.
 */
export async function joinRoom(ctx: Ctx, input: z.infer<typeof joinInput>) {
  const now = ctx.clock.now();
  // Visitors who are not signed in watch as guests (rooms are public to watch).
  const db = dbOf(ctx);
  const memberId = ctx.actor.kind === "user" ? ctx.actor.userId : `guest:${input.guestId ?? crypto.randomUUID()}`;
  const room =
    ctx.actor.kind === "user" ? await findRoom(db, ctx.actor, input.room) : await findPublicRoom(db, input.room);
  assertAppLive(room.appId);
  assertNotEnded(room);
  const [, mic, user] = await Promise.all([
    assertNotKicked(db, room.num, memberId),
    db
      .select({ id: micSessions.id })
      .from(micSessions)
      .where(and(eq(micSessions.roomNum, room.num), eq(micSessions.userId, memberId), eq(micSessions.state, "on"))),
    memberId.startsWith("guest:")
      ? Promise.resolve([])
      : db.select({ nick: users.nick }).from(users).where(eq(users.id, memberId)),
  ]);
  const role = memberId === room.hostId ? MEMBER_ROLE.host : mic.length ? MEMBER_ROLE.cohost : MEMBER_ROLE.viewer;
  const nick = input.nick ?? user[0]?.nick ?? "";
  await transaction(ctx, async (tx) => {
    await tx.execute(sql`
      INSERT INTO room_members (room_num, member_id, app_id, nick, role, joined_at, last_seen_at, join_count)
      VALUES (${room.num}, ${memberId}, ${room.appId}, ${nick}, ${role}, ${now}, ${now}, 1)
      ON DUPLICATE KEY UPDATE join_count = join_count + 1, left_at = NULL, nick = VALUES(nick),
        role = VALUES(role), joined_at = VALUES(joined_at), last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at))`);
    await markFigures(tx, [room.num]);
  });
  const ttl = Math.max(env().PLAY_TOKEN_TTL_S, 60);
  const issued = signRoomToken(
    { scope: "presence", app: room.appId, room: room.id, num: room.num, sub: memberId, mr: role },
    now,
    ttl,
  );
  return {
    roomId: room.id,
    roomNum: room.num,
    memberId: memberId,
    role,
    presenceToken: issued.token,
    expiresAt: issued.expiresAt,
    heartbeatIntervalS: HEARTBEAT_INTERVAL_S,
  };
}

/** The hot path: verify the presence token (no database) and buffer the beat. */
export function heartbeat(buffer: PresenceBuffer, input: z.infer<typeof heartbeatInput>, now: Date) {
  const c = verifyRoomToken(input.token, { scope: "presence" }, now);
  buffer.record({
    roomNum: c.num,
    appId: c.app,
    memberId: c.sub,
    role: c.mr ?? 0,
    seenAt: now.getTime(),
    likes: input.likes ?? 0,
  });
  return { ok: true as const, intervalS: HEARTBEAT_INTERVAL_S };
}

/** Leaves a room (one UPDATE; heartbeats buffered before it cannot bring the member back). */
export async function leaveRoom(
  db: Db,
  input: z.infer<typeof leaveInput>,
  now: Date,
  /** The buffer this process's beats go to: its next beat from the member is written, not skipped. */
  buffer: PresenceBuffer = presenceBuffer,
) {
  const c = verifyRoomToken(input.token, { scope: "presence" }, now);
  await runTransaction(db, async (tx) => {
    await tx
      .update(roomMembers)
      .set({ leftAt: now })
      .where(and(eq(roomMembers.roomNum, c.num), eq(roomMembers.memberId, c.sub), isNull(roomMembers.leftAt)));
    await markFigures(tx, [c.num]);
  });
  buffer.forget(c.num, c.sub, now.getTime());
  readsChanged();
  return { ok: true as const };
}

/** Host or admin removes a member: out of the room now, and their play/presence tokens stop working. */
export async function kickMember(ctx: Ctx, input: z.infer<typeof kickInput>) {
  return changeRoom(ctx, managed(input.room), "member.kick", async (tx, room, now) => {
    if (input.memberId === room.hostId)
      throw new AppError("BAD_REQUEST", "The host cannot be removed from their own room");
    const member = and(eq(roomMembers.roomNum, room.num), eq(roomMembers.memberId, input.memberId));
    const found = await tx.select().from(roomMembers).where(member).for("update");
    if (!found[0]) throw notFound("Member");
    await tx.update(roomMembers).set({ kickedAt: now, leftAt: now, role: MEMBER_ROLE.viewer }).where(member);
    await markFigures(tx, [room.num]);
    await tx
      .update(micSessions)
      .set({ state: "ended", endedBy: ctx.actor.kind === "user" ? ctx.actor.userId : null, updatedAt: now })
      .where(
        and(
          eq(micSessions.roomNum, room.num),
          eq(micSessions.userId, input.memberId),
          inArray(micSessions.state, [...ACTIVE_MIC_STATES]),
        ),
      );
    const keep = new Date(now.getTime() + Math.max(env().PLAY_TOKEN_TTL_S, 60) * 1000 + 60_000);
    await revoke(tx, "member", memberSubject(room.num, input.memberId), now, keep);
    return { result: { ok: true as const }, detail: { memberId: input.memberId } };
  });
}

/** Members of a room, online ones first by default; paged. Visible to everybody in the app. */
export async function listMembers(ctx: Ctx, input: z.infer<typeof listMembersInput>) {
  requireUser(ctx.actor);
  const db = dbOf(ctx);
  const room = await findRoom(db, ctx.actor, input.room);
  if (!cacheable(db)) return readMembers(db, room, input, ctx.clock.now());
  return sharedMembers(membersKey(room, input), () => readMembers(db, room, input, ctx.clock.now()));
}
const sharedMembers = sharedReads<Awaited<ReturnType<typeof readMembers>>>();
const membersKey = (room: { num: number; status: RoomStatus }, input: z.infer<typeof listMembersInput>) =>
  JSON.stringify([room.num, room.status, input.onlineOnly, input.limit, input.offset]);

/**
 * listMembers' page if its room and the page have been read for everybody and may still be served,
 * for answers made synchronously (server/front/fast.ts); undefined: ask listMembers (which also
 * answers a room that is not there). Throws as listMembers does for a caller who is nobody.
 */
export function settledListMembers(ctx: Ctx, input: z.infer<typeof listMembersInput>) {
  requireUser(ctx.actor);
  const db = dbOf(ctx);
  if (!cacheable(db)) return undefined;
  const room = settledFindRoom(db, ctx.actor, input.room)?.value;
  return (
    room && sharedMembers.settled(membersKey(room, input), () => readMembers(db, room, input, ctx.clock.now()))?.value
  );
}

async function readMembers(
  db: DbOrTx,
  room: { num: number; status: RoomStatus },
  input: z.infer<typeof listMembersInput>,
  now: Date,
) {
  const online = onlineWhere(now);
  const live = countsOnline(room.status);
  const where = and(eq(roomMembers.roomNum, room.num), input.onlineOnly && live ? online : undefined);
  const [rows, total] = await Promise.all([
    db
      .select({
        memberId: roomMembers.memberId,
        nick: roomMembers.nick,
        role: roomMembers.role,
        joinedAt: roomMembers.joinedAt,
        lastSeenAt: roomMembers.lastSeenAt,
        leftAt: roomMembers.leftAt,
        kickedAt: roomMembers.kickedAt,
        likes: roomMembers.likes,
        online: sql<number>`(${online})`,
      })
      .from(roomMembers)
      .where(where)
      .orderBy(
        sql`${roomMembers.role} = ${MEMBER_ROLE.host} DESC`,
        sql`${roomMembers.role} = ${MEMBER_ROLE.cohost} DESC`,
        asc(roomMembers.joinedAt),
        asc(roomMembers.memberId),
      )
      .limit(input.limit)
      .offset(input.offset),
    db.select({ n: count() }).from(roomMembers).where(where),
  ]);
  return {
    items: rows.map((r) => ({ ...r, online: live && Number(r.online) === 1 })),
    total: total[0]?.n ?? 0,
  };
}
