// Co-hosting: a viewer requests, the host approves or rejects, the approved member reports on/off,
// the host can end anyone's co-hosting; seats are limited per room and requests expire. All moves
// lock the room row, so seat counts and "one open request per member" hold under concurrency.
import { markFigures } from "../presence/figures";
import { and, asc, eq, inArray, lte, ne } from "drizzle-orm";
import { z } from "zod";
import { dbOf, requireUser, type Ctx } from "../actor";
import type { DbOrTx, Tx } from "../db/client";
import { MEMBER_ROLE, micSessions, roomMembers, users, type MicState } from "../db/schema";
import { env } from "../env";
import { AppError, forbidden, notFound } from "../errors";
import { assertNotKicked } from "../presence/kicked";
import { assertNotEnded, canManageRoom, findManagedRoom, findRoom, roomRef, type RoomRow } from "../rooms";
import { changeRoom, managed, visible, type RoomChange } from "../rooms/change";
import { ACTIVE_MIC_STATES, MEETING_MIC_STATES, MIC_MOVES, SEATED_MIC_STATES, type MicMove } from "./states";

export const micRoomInput = z.object({ room: roomRef });
export const micDecideInput = z.object({ room: roomRef, userId: z.string().uuid() });
export const micReportInput = z.object({
  room: roomRef,
  status: z.enum(["on", "off"]),
  cameraOpened: z.boolean().optional(),
  micOpened: z.boolean().optional(),
});
/**
 * A meeting member onair does not know: a host's client (AUI updateMeetingInfo) may name members by
 * ids of its RTC layer. They are kept as `rtc:<id>`, hold a seat, and are listed back as sent.
 */
export const EXTERNAL_MEMBER = "rtc:";
export const meetingMember = z.object({
  user_id: z.string().min(1).max(72),
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

async function setMemberRole(tx: Tx, roomNum: number, userId: string, role: number) {
  await tx
    .update(roomMembers)
    .set({ role })
    .where(and(eq(roomMembers.roomNum, roomNum), eq(roomMembers.memberId, userId)));
  await markFigures(tx, [roomNum]);
}

const reread = async (tx: Tx, id: string) =>
  micView((await tx.select().from(micSessions).where(eq(micSessions.id, id)))[0]!);

/** Applies one move of the state machine to a member's session, or refuses it. */
async function move(
  tx: Tx,
  room: RoomRow,
  row: MicRow | undefined,
  name: MicMove,
  now: Date,
  extra: Partial<MicRow> = {},
): Promise<RoomChange<ReturnType<typeof micView>>> {
  const rule = MIC_MOVES[name];
  if (rule.to === "approved") extra = { position: now.getTime() * 100, ...extra };
  if (!row) throw new AppError("MIC_REFUSED", "There is no co-host request from this member", { move: name });
  if (!(rule.from as readonly MicState[]).includes(row.state))
    throw new AppError("ILLEGAL_TRANSITION", `Cannot ${name} a co-host request that is ${row.state}`, {
      state: row.state,
      move: name,
    });
  await tx
    .update(micSessions)
    .set({ state: rule.to, updatedAt: now, ...extra })
    .where(eq(micSessions.id, row.id));
  if (rule.to === "on") await setMemberRole(tx, room.num, row.userId, MEMBER_ROLE.cohost);
  if (rule.to === "off" || rule.to === "ended") await setMemberRole(tx, room.num, row.userId, MEMBER_ROLE.viewer);
  return { result: await reread(tx, row.id), action: `mic.${name}`, detail: { userId: row.userId } };
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
  return changeRoom(ctx, visible(input.room), "mic.request", async (tx, room, now) => {
    assertNotEnded(room);
    if (room.hostId === me.userId) throw new AppError("MIC_REFUSED", "The host is already on the mic");
    await assertNotKicked(tx, room.num, me.userId);
    await expireRequests(tx, room.num, now);
    const open = await activeOf(tx, room.num, me.userId);
    if (open?.state === "pending")
      throw new AppError("MIC_REFUSED", "You already have a pending co-host request", { state: open.state });
    if (open) throw new AppError("MIC_REFUSED", "You are already co-hosting", { state: open.state });
    const user = (await tx.select().from(users).where(eq(users.id, me.userId)))[0];
    const id = crypto.randomUUID();
    await tx.insert(micSessions).values({
      id,
      appId: room.appId,
      roomNum: room.num,
      userId: me.userId,
      userNick: user?.nick ?? "",
      userAvatar: user?.avatarUrl ?? "",
      state: "pending",
      requestedAt: now,
      updatedAt: now,
      expiresAt: new Date(now.getTime() + env().MIC_REQUEST_TTL_S * 1000),
    });
    return { result: await reread(tx, id) };
  });
}

/** The requester withdraws a pending request. */
export async function cancelMic(ctx: Ctx, input: z.infer<typeof micRoomInput>) {
  const me = requireUser(ctx.actor);
  return changeRoom(ctx, visible(input.room), "mic.cancel", async (tx, room, now) => {
    await expireRequests(tx, room.num, now);
    return move(tx, room, await activeOf(tx, room.num, me.userId), "cancel", now);
  });
}

async function hostDecision(ctx: Ctx, input: z.infer<typeof micDecideInput>, decision: "approve" | "reject") {
  return changeRoom(ctx, managed(input.room), `mic.${decision}`, async (tx, room, now) => {
    assertNotEnded(room);
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
      return { result: null, audit: false };
    }
    if (decision === "approve" && row?.state === "pending" && (await seatsTaken(tx, room)) >= room.micSeats)
      throw new AppError("MIC_REFUSED", `All ${room.micSeats} co-host seats are taken`, { seats: room.micSeats });
    return move(tx, room, row, decision, now);
  }).then((view) => {
    // Thrown after the commit, so the request stays expired.
    if (!view) throw new AppError("MIC_REFUSED", "This co-host request has expired", { state: "expired" });
    return view;
  });
}
export const approveMic = (ctx: Ctx, input: z.infer<typeof micDecideInput>) => hostDecision(ctx, input, "approve");
export const rejectMic = (ctx: Ctx, input: z.infer<typeof micDecideInput>) => hostDecision(ctx, input, "reject");

/**
 * The approved member reports that they are on (publishing) or off the mic. `approvedElsewhere`:
 * the host approved over the clients' own IM, which onair never sees (随心播), so a pending,
 * unexpired request goes on the mic directly while a seat is free.
 */
export async function reportMic(
  ctx: Ctx,
  input: z.infer<typeof micReportInput>,
  opts: { approvedElsewhere?: boolean } = {},
) {
  const me = requireUser(ctx.actor);
  return changeRoom(ctx, visible(input.room), `mic.${input.status}`, async (tx, room, now) => {
    assertNotEnded(room);
    let row = await activeOf(tx, room.num, me.userId);
    if (
      opts.approvedElsewhere &&
      input.status === "on" &&
      row?.state === "pending" &&
      !(row.expiresAt && row.expiresAt <= now)
    ) {
      if ((await seatsTaken(tx, room)) >= room.micSeats)
        throw new AppError("MIC_REFUSED", `All ${room.micSeats} co-host seats are taken`, { seats: room.micSeats });
      const position = now.getTime() * 100;
      await tx
        .update(micSessions)
        .set({ state: "approved", position, updatedAt: now })
        .where(eq(micSessions.id, row.id));
      row = { ...row, state: "approved", position };
    }
    const extra: Partial<MicRow> = {};
    if (input.cameraOpened !== undefined) extra.cameraOpened = input.cameraOpened;
    if (input.micOpened !== undefined) extra.micOpened = input.micOpened;
    return move(tx, room, row, input.status, now, extra);
  });
}

/** The host (or an admin) ends anyone's co-hosting; a co-host may end their own. */
export async function endMic(ctx: Ctx, input: z.infer<typeof micDecideInput>) {
  const me = requireUser(ctx.actor);
  return changeRoom(ctx, visible(input.room), "mic.end", async (tx, room, now) => {
    if (input.userId !== me.userId && !canManageRoom(me, room))
      throw forbidden("Only the room's host or an admin can do this");
    return move(tx, room, await activeOf(tx, room.num, input.userId), "end", now, { endedBy: me.userId });
  });
}

/** Pending requests (host view), oldest first; expired ones are not shown. */
export async function listMicRequests(ctx: Ctx, input: z.infer<typeof micRoomInput>) {
  const db = dbOf(ctx);
  const room = await findManagedRoom(db, ctx.actor, input.room);
  const now = ctx.clock.now();
  const rows = await db
    .select()
    .from(micSessions)
    .where(and(eq(micSessions.roomNum, room.num), inArray(micSessions.state, [...ACTIVE_MIC_STATES])))
    .orderBy(asc(micSessions.requestedAt));
  return rows.filter((r) => !(r.state === "pending" && r.expiresAt && r.expiresAt <= now)).map(micView);
}

const meetingView = (m: MicRow) => ({
  user_id: m.userId,
  user_nick: m.userNick,
  user_avatar: m.userAvatar,
  camera_opened: m.cameraOpened,
  mic_opened: m.micOpened,
  rtc_pull_url: m.rtcPullUrl,
});

/** The room's meeting: members on the mic or approved for it, in seat order. */
async function meetingMembers(db: DbOrTx, roomNum: number) {
  return { members: (await meetingsOf(db, [roomNum])).get(roomNum) ?? [] };
}

/**
 * The meetings of several rooms in one query, by room number (for lists; the caller has already
 * found the rooms for its actor).
 */
export async function meetingsOf(db: DbOrTx, roomNums: number[]) {
  const out = new Map<number, Array<ReturnType<typeof meetingView>>>();
  if (!roomNums.length) return out;
  const rows = await db
    .select()
    .from(micSessions)
    .where(and(inArray(micSessions.roomNum, roomNums), inArray(micSessions.state, [...MEETING_MIC_STATES])))
    .orderBy(asc(micSessions.position), asc(micSessions.requestedAt));
  for (const r of rows) {
    const list = out.get(r.roomNum) ?? [];
    list.push(meetingView(r));
    out.set(r.roomNum, list);
  }
  return out;
}

/** The full list of co-hosts (seated members) with camera/mic state and pull URLs (AUI MeetingInfo). */
export async function getMeetingInfo(ctx: Ctx, input: z.infer<typeof micRoomInput>) {
  requireUser(ctx.actor);
  const room = await findRoom(dbOf(ctx), ctx.actor, input.room);
  return meetingMembers(dbOf(ctx), room.num);
}

/**
 * The host replaces the co-host list whole (AUI updateMeetingInfo): listed members are on the mic
 * with the given state, everybody else seated is ended. The host may list themself (no seat used).
 */
export async function updateMeetingInfo(ctx: Ctx, input: z.infer<typeof updateMeetingInput>) {
  return changeRoom(ctx, managed(input.room), "mic.update_meeting", async (tx, room, now) => {
    assertNotEnded(room);
    const ids = [...new Set(input.members.map((m) => m.user_id))];
    if (ids.length !== input.members.length) throw new AppError("BAD_REQUEST", "A member is listed twice");
    const guests = ids.filter((id) => id !== room.hostId);
    if (guests.length > room.micSeats)
      throw new AppError("MIC_REFUSED", `All ${room.micSeats} co-host seats are taken`, { seats: room.micSeats });
    const appUsers = guests.filter((id) => !id.startsWith(EXTERNAL_MEMBER));
    if (appUsers.length) {
      const known = await tx
        .select({ id: users.id })
        .from(users)
        .where(and(inArray(users.id, appUsers), eq(users.appId, room.appId)));
      if (known.length !== appUsers.length) throw notFound("Member");
    }
    const active = await tx
      .select()
      .from(micSessions)
      .where(and(eq(micSessions.roomNum, room.num), inArray(micSessions.state, [...ACTIVE_MIC_STATES])))
      .for("update");
    for (const session of active) {
      if (ids.includes(session.userId) || session.state === "pending") continue;
      await tx
        .update(micSessions)
        .set({ state: "ended", updatedAt: now, endedBy: ctx.actor.kind === "user" ? ctx.actor.userId : null })
        .where(eq(micSessions.id, session.id));
      await setMemberRole(tx, room.num, session.userId, MEMBER_ROLE.viewer);
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
      const current = active.find((a) => a.userId === m.user_id);
      if (current) await tx.update(micSessions).set(set).where(eq(micSessions.id, current.id));
      else
        await tx.insert(micSessions).values({
          id: crypto.randomUUID(),
          appId: room.appId,
          roomNum: room.num,
          userId: m.user_id,
          requestedAt: now,
          ...set,
        });
      if (m.user_id !== room.hostId) await setMemberRole(tx, room.num, m.user_id, MEMBER_ROLE.cohost);
    }
    return { result: await meetingMembers(tx, room.num), detail: { members: ids } };
  });
}
