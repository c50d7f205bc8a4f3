// Members and presence: join, heartbeat, leave, kick and the member list.
import { and, asc, count, eq, gte, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import { requireUser, type Ctx } from "../actor";
import { audit } from "../audit";
import type { Db } from "../db/client";
import { MEMBER_ROLE, micSessions, roomMembers, users } from "../db/schema";
import { env } from "../env";
import { AppError, notFound } from "../errors";
import { findManagedRoom, findRoom, roomRef } from "../rooms";
import { memberSubject, signRoomToken, verifyRoomToken } from "../tokens";
import { revoke } from "../tokens/revocations";
import type { PresenceBuffer } from "./buffer";
import { presenceCutoffs } from "./stats";

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
  const me =
    ctx.actor.kind === "user"
      ? ctx.actor
      : {
          kind: "user" as const,
          userId: `guest:${input.guestId ?? crypto.randomUUID()}`,
          role: "viewer" as const,
          appId: null,
        };
  const room =
    ctx.actor.kind === "user"
      ? await findRoom(ctx.db, me, input.room)
      : await findRoom(ctx.db, { kind: "system", appId: null, via: "public" }, input.room);
  if (room.status === "ended") throw new AppError("ILLEGAL_TRANSITION", "This room has ended", { status: room.status });
  const [existing, mic, user] = await Promise.all([
    ctx.db
      .select()
      .from(roomMembers)
      .where(and(eq(roomMembers.roomNum, room.num), eq(roomMembers.memberId, me.userId))),
    ctx.db
      .select({ id: micSessions.id })
      .from(micSessions)
      .where(and(eq(micSessions.roomNum, room.num), eq(micSessions.userId, me.userId), eq(micSessions.state, "on"))),
    me.userId.startsWith("guest:")
      ? Promise.resolve([])
      : ctx.db.select({ nick: users.nick }).from(users).where(eq(users.id, me.userId)),
  ]);
  if (existing[0]?.kickedAt) throw new AppError("FORBIDDEN", "You were removed from this room");
  const role = me.userId === room.hostId ? MEMBER_ROLE.host : mic.length ? MEMBER_ROLE.cohost : MEMBER_ROLE.viewer;
  const nick = input.nick ?? user[0]?.nick ?? "";
  await ctx.db.execute(sql`
    INSERT INTO room_members (room_num, member_id, app_id, nick, role, joined_at, last_seen_at, join_count)
    VALUES (${room.num}, ${me.userId}, ${room.appId}, ${nick}, ${role}, ${now}, ${now}, 1)
    ON DUPLICATE KEY UPDATE join_count = join_count + 1, left_at = NULL, nick = VALUES(nick),
      role = VALUES(role), joined_at = VALUES(joined_at), last_seen_at = GREATEST(last_seen_at, VALUES(last_seen_at))`);
  const ttl = Math.max(env().PLAY_TOKEN_TTL_S, 60);
  const t = signRoomToken(
    { scope: "presence", app: room.appId, room: room.id, num: room.num, sub: me.userId, mr: role },
    now,
    ttl,
  );
  return {
    roomId: room.id,
    roomNum: room.num,
    memberId: me.userId,
    role,
    presenceToken: t.token,
    expiresAt: t.expiresAt,
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
export async function leaveRoom(db: Db, input: z.infer<typeof leaveInput>, now: Date) {
  const c = verifyRoomToken(input.token, { scope: "presence" }, now);
  await db
    .update(roomMembers)
    .set({ leftAt: now })
    .where(and(eq(roomMembers.roomNum, c.num), eq(roomMembers.memberId, c.sub), isNull(roomMembers.leftAt)));
  return { ok: true as const };
}

/** Host or admin removes a member: out of the room now, and their play/presence tokens stop working. */
export async function kickMember(ctx: Ctx, input: z.infer<typeof kickInput>) {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const room = await findManagedRoom(tx, ctx.actor, input.room, true);
    if (input.memberId === room.hostId)
      throw new AppError("BAD_REQUEST", "The host cannot be removed from their own room");
    const m = await tx
      .select()
      .from(roomMembers)
      .where(and(eq(roomMembers.roomNum, room.num), eq(roomMembers.memberId, input.memberId)))
      .for("update");
    if (!m[0]) throw notFound("Member");
    await tx
      .update(roomMembers)
      .set({ kickedAt: now, leftAt: now, role: MEMBER_ROLE.viewer })
      .where(and(eq(roomMembers.roomNum, room.num), eq(roomMembers.memberId, input.memberId)));
    await tx
      .update(micSessions)
      .set({ state: "ended", endedBy: ctx.actor.kind === "user" ? ctx.actor.userId : null, updatedAt: now })
      .where(
        and(
          eq(micSessions.roomNum, room.num),
          eq(micSessions.userId, input.memberId),
          sql`${micSessions.state} IN ('pending','approved','on','off')`,
        ),
      );
    const keep = new Date(now.getTime() + Math.max(env().PLAY_TOKEN_TTL_S, 60) * 1000 + 60_000);
    await revoke(tx, "member", memberSubject(room.num, input.memberId), now, keep);
    await audit(tx, ctx.actor, now, {
      appId: room.appId,
      action: "member.kick",
      targetType: "room",
      targetId: room.id,
      detail: { memberId: input.memberId },
    });
    return { ok: true as const };
  });
}

/** Members of a room, online ones first by default; paged. Visible to everybody in the app. */
export async function listMembers(ctx: Ctx, input: z.infer<typeof listMembersInput>) {
  requireUser(ctx.actor);
  const room = await findRoom(ctx.db, ctx.actor, input.room);
  const c = presenceCutoffs(ctx.clock.now());
  const online = and(
    isNull(roomMembers.leftAt),
    or(
      and(eq(roomMembers.role, MEMBER_ROLE.host), gte(roomMembers.lastSeenAt, c.host)),
      and(sql`${roomMembers.role} <> 1`, gte(roomMembers.lastSeenAt, c.viewer)),
    ),
  );
  const where = and(
    eq(roomMembers.roomNum, room.num),
    input.onlineOnly && room.status !== "ended" ? online : undefined,
  );
  const [rows, total] = await Promise.all([
    ctx.db
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
        sql`${roomMembers.role} = 1 DESC`,
        sql`${roomMembers.role} = 2 DESC`,
        asc(roomMembers.joinedAt),
        asc(roomMembers.memberId),
      )
      .limit(input.limit)
      .offset(input.offset),
    ctx.db.select({ n: count() }).from(roomMembers).where(where),
  ]);
  return {
    items: rows.map((r) => ({ ...r, online: room.status !== "ended" && Number(r.online) === 1 })),
    total: total[0]?.n ?? 0,
  };
}
