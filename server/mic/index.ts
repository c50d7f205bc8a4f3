// Co-hosting: a viewer requests, the host approves or rejects, the approved member reports on/off,
// the host can end anyone's co-hosting; seats are limited per room and requests expire. All moves
// lock the room row, so seat counts and "one open request per member" hold under concurrency.
import { and, asc, eq, inArray, lte, ne } from "drizzle-orm";
import { z } from "zod";
import { requireUser, type Ctx } from "../actor";
import { audit } from "../audit";
import type { Tx } from "../db/client";
import { MEMBER_ROLE, micSessions, roomMembers, users, type MicState } from "../db/schema";
import { env } from "../env";
import { AppError, forbidden, notFound } from "../errors";
import { canManageRoom, findManagedRoom, findRoom, roomRef, type RoomRow } from "../rooms";
import { ACTIVE_MIC_STATES, MIC_MOVES, SEATED_MIC_STATES, type MicMove } from "./states";

export const micRoomInput = z.object({ room: roomRef });
export const micDecideInput = z.object({ room: roomRef, userId: z.string().uuid() });
export const micReportInput = z.object({
  room: roomRef,
  status: z.enum(["on", "off"]),
  cameraOpened: z.boolean().optional(),
  micOpened: z.boolean().optional(),
});
export const meetingMember = z.object({
  user_id: z.string().min(1).max(64),
  user_nick: z.string().max(64).default(""),
  user_avatar: z.string().max(1024).default(""),
  camera_opened: z.boolean().default(true),
  mic_opened: z.boolean().default(true),
  rtc_pull_url: z.string().max(1024).default(""),
});
export const updateMeetingInput = z.object({ room: roomRef, members: z.array(meetingMember).max(64) });

type MicRow = typeof micSessions.$inferSelect;
export const micView = (m: MicRow) => ({
  id: m.id,
  userId: m.userId,
  userNick: m.userNick,
  userAvatar: m.userAvatar,
  state: m.state,
  cameraOpened: m.cameraOpened,
  micOpened: m.micOpened,
  rtcPullUrl: m.rtcPullUrl,
  requestedAt: m.requestedAt,
  expiresAt: m.expiresAt,
  updatedAt: m.updatedAt,
});

/** Pending requests past their expiry become `expired` (lazily, inside the room lock). */
async function expireRequests(tx: Tx, roomNum: number, now: Date) {
  await tx
    .update(micSessions)
    .set({ state: "expired", updatedAt: now })
    .where(and(eq(micSessions.roomNum, roomNum), eq(micSessions.state, "pending"), lte(micSessions.expiresAt, now)));
}

async function activeOf(tx: Tx, roomNum: number, userId: string) {
  return (
    await tx
      .select()
      .from(micSessions)
      .where(
        and(
          eq(micSessions.roomNum, roomNum),
          eq(micSessions.userId, userId),
          inArray(micSessions.state, [...ACTIVE_MIC_STATES]),
        ),
      )
      .for("update")
  )[0];
}

function assertOpen(room: RoomRow) {
  if (room.status === "ended") throw new AppError("ILLEGAL_TRANSITION", "This room has ended", { status: room.status });
}

async function setMemberRole(tx: Tx, roomNum: number, userId: string, role: number) {
  await tx
    .update(roomMembers)
    .set({ role })
    .where(and(eq(roomMembers.roomNum, roomNum), eq(roomMembers.memberId, userId)));
}

async function move(
  tx: Tx,
  ctx: Ctx,
  room: RoomRow,
  row: MicRow | undefined,
  m: MicMove,
  now: Date,
  extra: Partial<MicRow> = {},
) {
  const rule = MIC_MOVES[m];
  if (rule.to === "approved") extra = { position: now.getTime() * 100, ...extra };
  if (!row) throw new AppError("MIC_REFUSED", "There is no co-host request from this member", { move: m });
  if (!(rule.from as readonly MicState[]).includes(row.state))
    throw new AppError("ILLEGAL_TRANSITION", `Cannot ${m} a co-host request that is ${row.state}`, {
      state: row.state,
      move: m,
    });
  await tx
    .update(micSessions)
    .set({ state: rule.to, updatedAt: now, ...extra })
    .where(eq(micSessions.id, row.id));
  if (rule.to === "on") await setMemberRole(tx, room.num, row.userId, MEMBER_ROLE.cohost);
  if (rule.to === "off" || rule.to === "ended") await setMemberRole(tx, room.num, row.userId, MEMBER_ROLE.viewer);
  await audit(tx, ctx.actor, now, {
    appId: room.appId,
    action: `mic.${m}`,
    targetType: "room",
    targetId: room.id,
    detail: { userId: row.userId },
  });
  return micView((await tx.select().from(micSessions).where(eq(micSessions.id, row.id)))[0]!);
}

async function seatsTaken(tx: Tx, room: RoomRow) {
  const rows = await tx
    .select({ userId: micSessions.userId })
    .from(micSessions)
    .where(
      and(
        eq(micSessions.roomNum, room.num),
        inArray(micSessions.state, [...SEATED_MIC_STATES]),
        ne(micSessions.userId, room.hostId),
      ),
    );
  return rows.length;
}

/** A signed-in member of the room's app asks to co-host. */
export async function requestMic(ctx: Ctx, input: z.infer<typeof micRoomInput>) {
  const me = requireUser(ctx.actor);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const room = await findRoom(tx, me, input.room, true);
    assertOpen(room);
    if (room.hostId === me.userId) throw new AppError("MIC_REFUSED", "The host is already on the mic");
    const kicked = await tx
      .select({ k: roomMembers.kickedAt })
      .from(roomMembers)
      .where(and(eq(roomMembers.roomNum, room.num), eq(roomMembers.memberId, me.userId)));
    if (kicked[0]?.k) throw forbidden("You were removed from this room");
    await expireRequests(tx, room.num, now);
    const open = await activeOf(tx, room.num, me.userId);
    if (open?.state === "pending")
      throw new AppError("MIC_REFUSED", "You already have a pending co-host request", { state: open.state });
    if (open) throw new AppError("MIC_REFUSED", "You are already co-hosting", { state: open.state });
    const u = (await tx.select().from(users).where(eq(users.id, me.userId)))[0];
    const id = crypto.randomUUID();
    await tx.insert(micSessions).values({
      id,
      appId: room.appId,
      roomNum: room.num,
      userId: me.userId,
      userNick: u?.nick ?? "",
      userAvatar: u?.avatarUrl ?? "",
      state: "pending",
      requestedAt: now,
      updatedAt: now,
      expiresAt: new Date(now.getTime() + env().MIC_REQUEST_TTL_S * 1000),
    });
    await audit(tx, me, now, { appId: room.appId, action: "mic.request", targetType: "room", targetId: room.id });
    return micView((await tx.select().from(micSessions).where(eq(micSessions.id, id)))[0]!);
  });
}

/** The requester withdraws a pending request. */
export async function cancelMic(ctx: Ctx, input: z.infer<typeof micRoomInput>) {
  const me = requireUser(ctx.actor);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const room = await findRoom(tx, me, input.room, true);
    await expireRequests(tx, room.num, now);
    return move(tx, ctx, room, await activeOf(tx, room.num, me.userId), "cancel", now);
  });
}

async function hostDecision(ctx: Ctx, input: z.infer<typeof micDecideInput>, m: "approve" | "reject") {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const room = await findManagedRoom(tx, ctx.actor, input.room, true);
    assertOpen(room);
    // Expiry is checked before the move so that an expired request answers "expired", not "not found".
    const row = (
      await tx
        .select()
        .from(micSessions)
        .where(and(eq(micSessions.roomNum, room.num), eq(micSessions.userId, input.userId)))
        .orderBy(asc(micSessions.requestedAt))
        .for("update")
    ).at(-1);
    if (row?.state === "pending" && row.expiresAt && row.expiresAt <= now) {
      await expireRequests(tx, room.num, now);
      throw new AppError("MIC_REFUSED", "This co-host request has expired", { state: "expired" });
    }
    if (m === "approve" && row?.state === "pending" && (await seatsTaken(tx, room)) >= room.micSeats)
      throw new AppError("MIC_REFUSED", `All ${room.micSeats} co-host seats are taken`, { seats: room.micSeats });
    return move(tx, ctx, room, row, m, now);
  });
}
export const approveMic = (ctx: Ctx, input: z.infer<typeof micDecideInput>) => hostDecision(ctx, input, "approve");
export const rejectMic = (ctx: Ctx, input: z.infer<typeof micDecideInput>) => hostDecision(ctx, input, "reject");

/** The approved member reports that they are on (publishing) or off the mic. */
export async function reportMic(ctx: Ctx, input: z.infer<typeof micReportInput>) {
  const me = requireUser(ctx.actor);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const room = await findRoom(tx, me, input.room, true);
    assertOpen(room);
    const row = await activeOf(tx, room.num, me.userId);
    const extra: Partial<MicRow> = {};
    if (input.cameraOpened !== undefined) extra.cameraOpened = input.cameraOpened;
    if (input.micOpened !== undefined) extra.micOpened = input.micOpened;
    return move(tx, ctx, room, row, input.status, now, extra);
  });
}

/** The host (or an admin) ends anyone's co-hosting; a co-host may end their own. */
export async function endMic(ctx: Ctx, input: z.infer<typeof micDecideInput>) {
  const me = requireUser(ctx.actor);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const room = await findRoom(tx, me, input.room, true);
    if (input.userId !== me.userId && !canManageRoom(me, room))
      throw forbidden("Only the room's host or an admin can do this");
    return move(tx, ctx, room, await activeOf(tx, room.num, input.userId), "end", now, { endedBy: me.userId });
  });
}

/** Pending requests (host view), oldest first; expired ones are not shown. */
export async function listMicRequests(ctx: Ctx, input: z.infer<typeof micRoomInput>) {
  const room = await findManagedRoom(ctx.db, ctx.actor, input.room);
  const now = ctx.clock.now();
  const rows = await ctx.db
    .select()
    .from(micSessions)
    .where(and(eq(micSessions.roomNum, room.num), inArray(micSessions.state, [...ACTIVE_MIC_STATES])))
    .orderBy(asc(micSessions.requestedAt));
  return rows.filter((r) => !(r.state === "pending" && r.expiresAt && r.expiresAt <= now)).map(micView);
}

/** The full list of co-hosts (seated members) with camera/mic state and pull URLs (AUI MeetingInfo). */
export async function getMeetingInfo(ctx: Ctx, input: z.infer<typeof micRoomInput>) {
  requireUser(ctx.actor);
  const room = await findRoom(ctx.db, ctx.actor, input.room);
  const rows = await ctx.db
    .select()
    .from(micSessions)
    .where(and(eq(micSessions.roomNum, room.num), inArray(micSessions.state, ["approved", "on"])))
    .orderBy(asc(micSessions.position), asc(micSessions.requestedAt));
  return { members: rows.map(meetingView) };
}

const meetingView = (m: MicRow) => ({
  user_id: m.userId,
  user_nick: m.userNick,
  user_avatar: m.userAvatar,
  camera_opened: m.cameraOpened,
  mic_opened: m.micOpened,
  rtc_pull_url: m.rtcPullUrl,
});

/**
 * The host replaces the co-host list whole (AUI updateMeetingInfo): listed members are on the mic
 * with the given state, everybody else seated is ended. The host may list themself (no seat used).
 */
export async function updateMeetingInfo(ctx: Ctx, input: z.infer<typeof updateMeetingInput>) {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const room = await findManagedRoom(tx, ctx.actor, input.room, true);
    assertOpen(room);
    const ids = [...new Set(input.members.map((m) => m.user_id))];
    if (ids.length !== input.members.length) throw new AppError("BAD_REQUEST", "A member is listed twice");
    const guests = ids.filter((id) => id !== room.hostId);
    if (guests.length > room.micSeats)
      throw new AppError("MIC_REFUSED", `All ${room.micSeats} co-host seats are taken`, { seats: room.micSeats });
    if (guests.length) {
      const known = await tx
        .select({ id: users.id })
        .from(users)
        .where(and(inArray(users.id, guests), eq(users.appId, room.appId)));
      if (known.length !== guests.length) throw notFound("Member");
    }
    const active = await tx
      .select()
      .from(micSessions)
      .where(and(eq(micSessions.roomNum, room.num), inArray(micSessions.state, [...ACTIVE_MIC_STATES])))
      .for("update");
    for (const a of active) {
      if (ids.includes(a.userId)) continue;
      if (a.state === "pending") continue;
      await tx
        .update(micSessions)
        .set({ state: "ended", updatedAt: now, endedBy: ctx.actor.kind === "user" ? ctx.actor.userId : null })
        .where(eq(micSessions.id, a.id));
      await setMemberRole(tx, room.num, a.userId, MEMBER_ROLE.viewer);
    }
    for (const [i, m] of input.members.entries()) {
      const set = {
        position: now.getTime() * 100 + i,
        state: "on" as const,
        userNick: m.user_nick,
        userAvatar: m.user_avatar,
        cameraOpened: m.camera_opened,
        micOpened: m.mic_opened,
        rtcPullUrl: m.rtc_pull_url,
        updatedAt: now,
      };
      const cur = active.find((a) => a.userId === m.user_id);
      if (cur) await tx.update(micSessions).set(set).where(eq(micSessions.id, cur.id));
      else
        await tx
          .insert(micSessions)
          .values({
            id: crypto.randomUUID(),
            appId: room.appId,
            roomNum: room.num,
            userId: m.user_id,
            requestedAt: now,
            ...set,
          });
      if (m.user_id !== room.hostId) await setMemberRole(tx, room.num, m.user_id, MEMBER_ROLE.cohost);
    }
    await audit(tx, ctx.actor, now, {
      appId: room.appId,
      action: "mic.update_meeting",
      targetType: "room",
      targetId: room.id,
      detail: { members: ids },
    });
    const rows = await tx
      .select()
      .from(micSessions)
      .where(and(eq(micSessions.roomNum, room.num), inArray(micSessions.state, ["approved", "on"])))
      .orderBy(asc(micSessions.position), asc(micSessions.requestedAt));
    return { members: rows.map(meetingView) };
  });
}
