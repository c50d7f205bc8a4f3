// Tencent Cloud live callbacks, as the 随心播 server takes them (svc=live&cmd=callback): event_type
// 1 push, 0 stop, 100 record; `sign = md5(key + t)` with `t` (unix seconds) no older than 10
// minutes; key = the app's callback key (see README). They drive the same media events as hooks.
import { createHash } from "node:crypto";
import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Clock } from "../../clock";
import { open, safeEqual } from "../../crypto/secretbox";
import type { Db } from "../../db/client";
import { recordings } from "../../db/schema";
import { firstUse } from "../../limits";
import { roomByStream, streamStarted, streamStopped } from "../../media/streams";
import { vendorKeys } from "../../media/urls";
import { createRecording } from "../../recordings";
import { parse, SXB, sxbError } from "./common";

const callbackBody = z
  .object({
    event_type: z.coerce.number().int(),
    t: z.coerce.number().int(),
    sign: z.string().min(32).max(64),
    stream_id: z.string().max(128).optional(),
    channel_id: z.string().max(128).optional(),
    video_url: z.string().max(2048).optional(),
    duration: z.coerce.number().optional(),
    file_size: z.coerce.number().optional(),
    file_id: z.string().max(128).optional(),
  })
  .passthrough();

export async function callback(db: Db, clock: Clock, body: Record<string, unknown>) {
  const b = parse(callbackBody, body);
  const stream = b.stream_id ?? b.channel_id ?? "";
  const row = await roomByStream(db, stream);
  if (!row) throw sxbError(SXB.NO_ROOM, "直播房间不存在");
  const key = vendorKeys(open(row.app.secretEnc)).callbackKey;
  const nowS = Math.floor(clock.now().getTime() / 1000);
  if (!safeEqual(createHash("md5").update(`${key}${b.t}`).digest("hex"), b.sign.toLowerCase()))
    throw sxbError(SXB.BAD_REQUEST, "bad sign");
  if (Math.abs(nowS - b.t) > 600) throw sxbError(SXB.BAD_REQUEST, "t is outside the 10 minute window");
  // The seed's sign covers neither the event nor the stream: each (t, sign) is honoured once, on
  // every instance, for as long as it would verify.
  const replayUntil = new Date((b.t + 600) * 1000);
  if (!(await firstUse(db, "sxb:tencent", `${row.app.id}:${b.t}:${b.sign.toLowerCase()}`, replayUntil)))
    throw sxbError(SXB.BAD_REQUEST, "callback already received (replay)");
  const client = `tencent:${stream}`;
  if (b.event_type === 1) await streamStarted(db, clock, stream, client, { trusted: true, via: "tencent" });
  else if (b.event_type === 0) await streamStopped(db, clock, stream, undefined, "tencent");
  else if (b.event_type === 100) {
    if (!b.video_url) throw sxbError(SXB.BAD_DATA, "video_url is required");
    const ctx = { db, clock, actor: { kind: "system" as const, appId: row.room.appId, via: "tencent" } };
    // A recording the client reported (reportrecord) is completed; otherwise a new one is made.
    const pending = (
      await db
        .select()
        .from(recordings)
        .where(and(eq(recordings.roomNum, row.room.num), eq(recordings.status, "processing")))
        .orderBy(desc(recordings.createdAt))
        .limit(1)
    )[0];
    const fields = {
      url: b.video_url,
      durationMs: Math.round((b.duration ?? 0) * 1000),
      sizeBytes: Math.round(b.file_size ?? 0),
      status: "ready" as const,
      updatedAt: clock.now(),
    };
    if (pending) await db.update(recordings).set(fields).where(eq(recordings.id, pending.id));
    else
      await createRecording(ctx, {
        room: row.room.id,
        name: `${row.room.title}`,
        type: 0,
        coverUrl: row.room.coverUrl,
        url: b.video_url,
        durationMs: fields.durationMs,
        sizeBytes: fields.sizeBytes,
      });
  }
  return undefined;
}
