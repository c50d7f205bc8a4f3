// Recordings (VOD): one row per recorded file of a room. The media plane creates them from
// record-done events; clients may also report them (随心播 reportrecord), naming a URL at most:
// only onair's media side ever sets a recording's file on disk or its status.
import { and, count, desc, eq, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import { dbOf, requireUser, tenantFilter, transaction, type Ctx } from "../actor";
import { audit } from "../audit";
import type { DbOrTx } from "../db/client";
import { recordings, rooms, RECORDING_STATUSES, type RecordingStatus } from "../db/schema";
import { emitAppEvent } from "../events/outbox";
import { webhookRoom } from "../events/room";
import type { RoomRow } from "../rooms/find";
import { forbidden, notFound } from "../errors";
import { canManageRoom, findManagedRoom, findRoom, roomRef } from "../rooms";

const url = z
  .string()
  .trim()
  .max(1024)
  .refine((u) => u === "" || /^https?:\/\/\S+$/i.test(u), "Must be an http(s) URL");

export const createRecordingInput = z.object({
  room: roomRef,
  name: z.string().trim().min(1).max(256),
  type: z.number().int().min(0).max(1000).default(0),
  coverUrl: url.default(""),
  url: url.default(""),
  durationMs: z.number().int().min(0).max(2_000_000_000).default(0),
  sizeBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
});
export const listRecordingsInput = z.object({
  room: roomRef.optional(),
  hostId: z.string().uuid().optional(),
  type: z.number().int().min(0).max(1000).optional(),
  status: z.enum(RECORDING_STATUSES).optional(),
  appId: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(100).default(20),
  offset: z.number().int().min(0).max(1_000_000).default(0),
});

type RecordingRow = typeof recordings.$inferSelect;
/** The on-disk path stays on the server. */
export const recordingView = ({ filePath: _f, ...r }: RecordingRow) => r;

/**
 * A recording a client reports: playable at once when it names a URL, otherwise `processing`
 * until the media side completes it (a record callback).
 */
export const createRecording = (ctx: Ctx, input: z.infer<typeof createRecordingInput>) =>
  insertRecording(ctx, input, { status: input.url ? "ready" : "processing" });

/** A recording of onair's own media side (record-done events): the only writer of status and file. */
export const createMediaRecording = (
  ctx: Ctx,
  input: z.infer<typeof createRecordingInput>,
  media: { status: RecordingStatus; filePath?: string },
) => insertRecording(ctx, input, media);

async function insertRecording(
  ctx: Ctx,
  input: z.infer<typeof createRecordingInput>,
  media: { status: RecordingStatus; filePath?: string },
) {
  const now = ctx.clock.now();
  return transaction(ctx, async (tx) => {
    const room = await findManagedRoom(tx, ctx.actor, input.room);
    const { room: _r, ...rest } = input;
    const id = crypto.randomUUID();
    await tx.insert(recordings).values({
      id,
      appId: room.appId,
      roomNum: room.num,
      hostId: room.hostId,
      ...rest,
      status: media.status,
      filePath: media.filePath ?? "",
      createdAt: now,
      updatedAt: now,
    });
    await audit(tx, ctx.actor, now, {
      appId: room.appId,
      action: "recording.create",
      targetType: "recording",
      targetId: id,
      detail: { room: room.id, name: input.name },
    });
    const row = (await tx.select().from(recordings).where(eq(recordings.id, id)))[0]!;
    if (row.status === "ready") await recordingEvent(tx, row, room, now);
    return recordingView(row);
  });
}

/** recording.ready / recording.failed for the app's webhooks, written with the change. */
async function recordingEvent(tx: DbOrTx, row: RecordingRow, room: RoomRow | undefined, now: Date) {
  if (row.status === "processing") return;
  const recording = {
    id: row.id,
    name: row.name,
    roomNum: row.roomNum,
    status: row.status,
    durationMs: row.durationMs,
    sizeBytes: row.sizeBytes,
    createdAt: row.createdAt,
  };
  const data = room ? { recording, room: webhookRoom(room) } : { recording };
  await emitAppEvent(tx, row.appId, row.roomNum, `recording.${row.status}`, data, now);
}

/**
 * The media side's end of a recording: ready (with its file and figures) or failed. The row, its
 * audit row and the webhook event are written together.
 */
export async function finishMediaRecording(
  ctx: Ctx,
  id: string,
  done:
    | { status: "ready"; filePath: string; durationMs: number; sizeBytes: number; startedAt: Date | null }
    | { status: "failed" },
) {
  const now = ctx.clock.now();
  return transaction(ctx, async (tx) => {
    const row = (await tx.select().from(recordings).where(eq(recordings.id, id)).for("update"))[0];
    if (!row) return undefined;
    await tx
      .update(recordings)
      .set({ ...done, updatedAt: now })
      .where(eq(recordings.id, id));
    const after = { ...row, ...done, updatedAt: now };
    const room = (await tx.select().from(rooms).where(eq(rooms.num, row.roomNum)))[0];
    await audit(tx, ctx.actor, now, {
      appId: row.appId,
      action: `recording.${done.status}`,
      targetType: "recording",
      targetId: id,
      detail: { room: room?.id ?? null, name: row.name },
    });
    await recordingEvent(tx, after, room, now);
    return recordingView(after);
  });
}

/**
 * Recordings visible to the caller, newest first: viewers see ready recordings of their app,
 * hosts also their own unfinished ones, admins everything in their app.
 */
export async function listRecordings(ctx: Ctx, input: z.infer<typeof listRecordingsInput>) {
  const me = requireUser(ctx.actor);
  const db = dbOf(ctx);
  const where: (SQL | undefined)[] = [tenantFilter(me, recordings.appId, input.appId)];
  if (input.room !== undefined) where.push(eq(recordings.roomNum, (await findRoom(db, me, input.room)).num));
  if (input.hostId) where.push(eq(recordings.hostId, input.hostId));
  if (input.type !== undefined) where.push(eq(recordings.type, input.type));
  if (input.status) where.push(eq(recordings.status, input.status));
  if (me.role === "viewer") where.push(eq(recordings.status, "ready"));
  if (me.role === "host") where.push(or(eq(recordings.status, "ready"), eq(recordings.hostId, me.userId)));
  const cond = and(...where);
  const [rows, total] = await Promise.all([
    db
      .select()
      .from(recordings)
      .where(cond)
      .orderBy(desc(recordings.createdAt), desc(recordings.id))
      .limit(input.limit)
      .offset(input.offset),
    db.select({ n: count() }).from(recordings).where(cond),
  ]);
  return { items: rows.map(recordingView), total: total[0]?.n ?? 0 };
}

export async function getRecording(ctx: Ctx, id: string) {
  const me = requireUser(ctx.actor);
  const row = (
    await dbOf(ctx)
      .select()
      .from(recordings)
      .where(and(eq(recordings.id, id), tenantFilter(me, recordings.appId)))
  )[0];
  if (!row || (row.status !== "ready" && me.role === "viewer")) throw notFound("Recording");
  return recordingView(row);
}

export async function deleteRecording(ctx: Ctx, id: string) {
  const me = requireUser(ctx.actor);
  const now = ctx.clock.now();
  return transaction(ctx, async (tx) => {
    const row = (
      await tx
        .select()
        .from(recordings)
        .where(and(eq(recordings.id, id), tenantFilter(me, recordings.appId)))
        .for("update")
    )[0];
    if (!row) throw notFound("Recording");
    if (!canManageRoom(me, row)) throw forbidden("Only the room's host or an admin can delete this recording");
    await tx.delete(recordings).where(eq(recordings.id, id));
    await audit(tx, me, now, {
      appId: row.appId,
      action: "recording.delete",
      targetType: "recording",
      targetId: id,
      detail: { name: row.name },
    });
    return { id, deleted: true, filePath: row.filePath };
  });
}
