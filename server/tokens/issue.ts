// Issuing room tokens: play tokens for anybody allowed to watch, publish tokens for the host.
import { z } from "zod";
import { dbOf, requireUser, type Ctx } from "../actor";
import { env } from "../env";
import { forbidden } from "../errors";
import { assertNotKicked } from "../presence/kicked";
import { assertNotEnded, canManageRoom, findRoom, roomRef } from "../rooms";
import { signRoomToken, verifyRoomToken, ROOM_SCOPES } from ".";

export const issueTokenInput = z.object({ room: roomRef, scope: z.enum(["play", "publish"]).default("play") });
export const verifyTokenInput = z.object({
  token: z.string().min(10).max(4096),
  scope: z.enum(ROOM_SCOPES).default("play"),
  room: z.string().max(64).optional(),
  num: z.number().int().positive().optional(),
});

export async function issueRoomToken(ctx: Ctx, input: z.infer<typeof issueTokenInput>) {
  const me = requireUser(ctx.actor);
  const room = await findRoom(dbOf(ctx), me, input.room);
  if (input.scope === "publish" && !canManageRoom(me, room)) throw forbidden("Only the room's host can publish");
  assertNotEnded(room);
  await assertNotKicked(dbOf(ctx), room.num, me.userId);
  const issued = signRoomToken(
    { scope: input.scope, app: room.appId, room: room.id, num: room.num, st: room.streamName, sub: me.userId },
    ctx.clock.now(),
    env().PLAY_TOKEN_TTL_S,
  );
  return {
    token: issued.token,
    expiresAt: issued.expiresAt,
    scope: input.scope,
    roomId: room.id,
    roomNum: room.num,
  };
}

/** The pure check hooks and players use: claims when valid, an AppError (TOKEN_EXPIRED / TOKEN_INVALID) when not. */
export function checkRoomToken(input: z.infer<typeof verifyTokenInput>, now: Date) {
  const c = verifyRoomToken(input.token, { scope: input.scope, room: input.room, num: input.num }, now);
  return { ok: true as const, scope: c.scope, app: c.app, room: c.room, num: c.num, member: c.sub, exp: c.exp };
}
