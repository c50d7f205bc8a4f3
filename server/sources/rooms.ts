// Sources of ordinary rooms, as the console's admins manage them: list, add or edit (URL and mode),
// remove, and probe now. Admins act on their own app's rooms (platform admins on any): the room is
// found with the tenant in its WHERE clause (other apps' rooms answer NOT_FOUND), other roles FORBIDDEN.
import { eq } from "drizzle-orm";
import { z } from "zod";
import { dbOf, requireRole, transaction, type Ctx } from "../actor";
import { audit } from "../audit";
import { streamSources } from "../db/schema";
import { AppError, notFound } from "../errors";
import { MANUAL_PROBE_MS, probeSource, PullError } from "../media/pulls";
import { assertNotEnded, findRoom, roomRef, type RoomRef } from "../rooms/find";
import {
  sourceTarget,
  checkSourceInput,
  setSource,
  SOURCE_KINDS,
  SOURCE_MODES,
  sourceOf,
  sourcesOfRoom,
  sourceUrl,
  sourceView,
} from ".";

export const sourceRefInput = z.object({ room: roomRef, kind: z.enum(SOURCE_KINDS).default("main") });
export const setSourceInput = sourceRefInput.extend({
  /** Empty or left out when editing: the stored URL stays (it is never shown back to be re-sent). */
  url: z.string().trim().max(2048).optional(),
  mode: z.enum(SOURCE_MODES).default("on_demand"),
});

/** What every answer of these verbs shows of a source (the URL as scheme and host only). */
export const sourceViewOutput = z.object({
  kind: z.enum(SOURCE_KINDS),
  url: z.string(),
  mode: z.enum(SOURCE_MODES),
  state: z.string(),
  lastError: z.string(),
  retries: z.number().int(),
  updatedAt: z.date(),
});
export const probeOutput = z.object({
  video: z.string().optional(),
  audio: z.string().optional(),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
  fps: z.number().optional(),
  ms: z.number().int(),
});

/** The room, when the actor is an admin who may see it (tenant in the WHERE clause). */
function adminRoom(ctx: Ctx, ref: RoomRef, lock = false) {
  requireRole(ctx.actor, "admin");
  return findRoom(dbOf(ctx), ctx.actor, ref, lock);
}

export async function listRoomSources(ctx: Ctx, ref: RoomRef) {
  const room = await adminRoom(ctx, ref);
  return (await sourcesOfRoom(dbOf(ctx), room.num)).map(sourceView);
}

/**
 * Adds or edits a room's main or sub source. A new URL passes the outbound rules first (outside the
 * transaction: it resolves names) and starts the source over; without one, only the mode changes.
 */
export async function setRoomSource(ctx: Ctx, input: z.infer<typeof setSourceInput>) {
  requireRole(ctx.actor, "admin");
  const url = input.url ? (await checkSourceInput(input.url)).toString() : "";
  return transaction(ctx, async (tx, txCtx) => {
    const now = ctx.clock.now();
    const room = await adminRoom(txCtx, input.room, true);
    assertNotEnded(room, "This room has ended: its source cannot change");
    const before = await sourceOf(tx, room.num, input.kind);
    if (url) {
      await setSource(tx, ctx.actor, now, {
        appId: room.appId,
        roomNum: room.num,
        kind: input.kind,
        url,
        mode: input.mode,
      });
    } else {
      if (!before)
        throw new AppError("BAD_REQUEST", "url: a new source needs its URL", {
          fields: { url: "Required" },
          rules: { url: { code: "too_small", origin: "string", min: 1 } },
        });
      if (before.mode !== input.mode) {
        await tx.update(streamSources).set({ mode: input.mode, updatedAt: now }).where(eq(streamSources.id, before.id));
        await audit(tx, ctx.actor, now, {
          appId: room.appId,
          action: "source.mode",
          targetType: "room",
          targetId: room.num,
          detail: { kind: input.kind, from: before.mode, to: input.mode },
        });
      }
    }
    return sourceView((await sourceOf(tx, room.num, input.kind))!);
  });
}

export async function removeRoomSource(ctx: Ctx, input: z.infer<typeof sourceRefInput>) {
  await transaction(ctx, async (tx, txCtx) => {
    const room = await adminRoom(txCtx, input.room, true);
    if (!(await sourceOf(tx, room.num, input.kind))) throw notFound("Source");
    await setSource(tx, ctx.actor, ctx.clock.now(), {
      appId: room.appId,
      roomNum: room.num,
      kind: input.kind,
      url: "",
    });
  });
}

/** ffprobes running for "probe now" in this process: each is a child process for up to its timeout. */
let probing = 0;
const MAX_PROBES = 4;

/**
 * Probes a room's stored source now: codecs, size and frame rate, within the probe's timeout
 * (MANUAL_PROBE_MS, 6 s). A source that cannot be read answers SOURCE_FAILED with the reason (never the URL).
 */
export async function probeRoomSource(ctx: Ctx, input: z.infer<typeof sourceRefInput>) {
  const room = await adminRoom(ctx, input.room);
  const source = await sourceOf(dbOf(ctx), room.num, input.kind);
  if (!source) throw notFound("Source");
  const target = await sourceTarget(new URL(sourceUrl(source)));
  if (target.refused !== undefined) throw new AppError("SOURCE_FAILED", target.refused, { reason: "address refused" });
  const url = target.url;
  if (probing >= MAX_PROBES)
    throw new AppError("TOO_MANY_REQUESTS", "Other probes are running: try again in a few seconds", { retryAfterS: 3 });
  probing++;
  const started = Date.now();
  try {
    const p = await probeSource(url, MANUAL_PROBE_MS, target.args);
    if (!p.video) throw new PullError("codec"); // (no video track: nothing a room can show)
    return { ...p, ms: Date.now() - started };
  } catch (e) {
    if (!(e instanceof PullError)) throw e;
    throw new AppError("SOURCE_FAILED", `The source cannot be read: ${e.message}`, { reason: e.kind ?? e.message });
  } finally {
    probing--;
  }
}
