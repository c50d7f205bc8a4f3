// Devices (LTStream's monitors): a room that takes its stream from a main source and may have a sub
// source; the room number is the device code players put in /live/<code>.flv. The verbs every
// transport uses (the LTStream adapter today).
import { and, asc, count, eq, inArray } from "drizzle-orm";
import type { Ctx } from "../actor";
import { dbOf, transaction } from "../actor";
import { rooms, streamSources } from "../db/schema";
import { AppError } from "../errors";
import { deleteRoom } from "../rooms";
import { checkSourceInput, createDeviceRoom, DEVICE_HOST, setSource, type SourceRow } from ".";

export interface DeviceInput {
  name: string;
  path: string;
  subPath: string;
  address: string;
}

/** A device's URLs pass the outbound rules before they are stored (and again at each pull). */
async function checkUrls(d: DeviceInput) {
  if (d.path.trim()) await checkSourceInput(d.path, "path");
  if (d.subPath.trim()) await checkSourceInput(d.subPath, "sub_path");
}

const systemCtx = (ctx: Ctx, appId: number): Ctx => ({ ...ctx, actor: { kind: "system", appId, via: "ltstream" } });

export async function addDevice(ctx: Ctx, appId: number, d: DeviceInput) {
  await checkUrls(d);
  const sys = systemCtx(ctx, appId);
  return transaction(sys, async (tx) => {
    const now = ctx.clock.now();
    const num = await createDeviceRoom(tx, appId, d.name, now, d.address);
    await setSource(tx, sys.actor, now, { appId, roomNum: num, kind: "main", url: d.path });
    if (d.subPath.trim()) await setSource(tx, sys.actor, now, { appId, roomNum: num, kind: "sub", url: d.subPath });
    return num;
  });
}

/** The device of an app by its code (room number), or NOT_FOUND. */
async function deviceRoom(ctx: Ctx, appId: number, code: number, lock = false) {
  const q = dbOf(ctx)
    .select()
    .from(rooms)
    .where(and(eq(rooms.num, code), eq(rooms.appId, appId), eq(rooms.hostId, DEVICE_HOST)));
  const row = (await (lock ? q.for("update") : q))[0];
  if (!row) throw new AppError("NOT_FOUND", "No such device");
  return row;
}

export async function updateDevice(ctx: Ctx, appId: number, code: number, d: DeviceInput) {
  await checkUrls(d);
  const sys = systemCtx(ctx, appId);
  await transaction(sys, async (tx, txCtx) => {
    const now = ctx.clock.now();
    await deviceRoom(txCtx, appId, code, true);
    await tx
      .update(rooms)
      .set({ title: d.name, extends: JSON.stringify({ address: d.address }), updatedAt: now })
      .where(eq(rooms.num, code));
    await setSource(tx, sys.actor, now, { appId, roomNum: code, kind: "main", url: d.path });
    // An empty sub_path removes the sub stream (type 2 then answers 1201).
    await setSource(tx, sys.actor, now, { appId, roomNum: code, kind: "sub", url: d.subPath });
  });
  return code;
}

export async function deleteDevice(ctx: Ctx, appId: number, code: number) {
  await deviceRoom(ctx, appId, code);
  await deleteRoom(systemCtx(ctx, appId), code);
}

/** What a device looks like to its app: the URLs as scheme and host only (they may hold credentials). */
function deviceView(room: typeof rooms.$inferSelect, sources: SourceRow[]) {
  const main = sources.find((s) => s.kind === "main");
  const sub = sources.find((s) => s.kind === "sub");
  let address = "";
  try {
    const stored = (JSON.parse(room.extends) as { address?: unknown }).address;
    if (typeof stored === "string") address = stored;
  } catch {
    // Not written by monitor_add/update: no address.
  }
  return {
    code: String(room.num),
    name: room.title,
    path: main?.urlShown ?? "",
    sub_path: sub?.urlShown ?? "",
    address,
    status: room.status,
    online: room.streamOnline,
    state: main?.state ?? "idle",
    last_error: main?.lastError ?? "",
    retries: main?.retries ?? 0,
  };
}

async function views(ctx: Ctx, list: Array<typeof rooms.$inferSelect>) {
  const nums = list.map((r) => r.num);
  const sources = nums.length
    ? await dbOf(ctx).select().from(streamSources).where(inArray(streamSources.roomNum, nums))
    : [];
  return list.map((r) =>
    deviceView(
      r,
      sources.filter((s) => s.roomNum === r.num),
    ),
  );
}

const ofApp = (appId: number) => and(eq(rooms.appId, appId), eq(rooms.hostId, DEVICE_HOST));

export async function deviceInfo(ctx: Ctx, appId: number, code: number) {
  return (await views(ctx, [await deviceRoom(ctx, appId, code)]))[0]!;
}

/** Every device of the app, oldest first (bounded: an app's devices, at most 10,000). */
export async function listDevices(ctx: Ctx, appId: number) {
  const list = await dbOf(ctx).select().from(rooms).where(ofApp(appId)).orderBy(asc(rooms.num)).limit(10_000);
  return views(ctx, list);
}

export async function pageDevices(ctx: Ctx, appId: number, page: number, pageSize: number) {
  const db = dbOf(ctx);
  const [total] = await db.select({ n: count() }).from(rooms).where(ofApp(appId));
  const list = await db
    .select()
    .from(rooms)
    .where(ofApp(appId))
    .orderBy(asc(rooms.num))
    .limit(pageSize)
    .offset((page - 1) * pageSize);
  return { total: total?.n ?? 0, list: await views(ctx, list) };
}
