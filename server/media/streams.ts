// The room follows the real stream. Every media server's events (embedded node-media-server,
// SRS callbacks, nginx-rtmp notifications) land here: idempotent and order-tolerant.
//   publish allowed → live;  unpublish → paused (auto);  no re-publish within the grace → ended.
import { and, eq, lt, sql } from "drizzle-orm";
import type { Actor } from "../actor";
import { audit } from "../audit";
import type { Clock } from "../clock";
import type { Db, DbOrTx } from "../db/client";
import { apps, rooms } from "../db/schema";
import { env } from "../env";
import { AppError, notFound } from "../errors";
import { endRoomSessions, type RoomRow } from "../rooms";
import { verifyRoomToken, type RoomClaims } from "../tokens";
import { publishKeyVersion } from "./keys";
import { vendorPublishCheck } from "./urls";
import { open } from "../crypto/secretbox";

const mediaActor = (via: string, appId: number): Actor => ({ kind: "system", appId, via });

export async function roomByStream(db: DbOrTx, streamName: string, lock = false) {
  const q = db
    .select({ room: rooms, app: apps })
    .from(rooms)
    .innerJoin(apps, eq(apps.id, rooms.appId))
    .where(eq(rooms.streamName, streamName));
  return (await (lock ? q.for("update") : q))[0];
}

/**
 * Synchronous part of a publish check (what node-media-server's listener can afford): the publish
 * key's signature. The room's current key version and status are checked by `streamStarted`.
 */
export function publishKeySignatureOk(streamName: string, key: string | undefined) {
  return publishKeyVersion(streamName, key) !== undefined;
}

/** Whether a publish may go ahead: room exists and is not over, app enabled, credentials valid. */
export function checkPublish(
  row: { room: RoomRow; app: typeof apps.$inferSelect },
  query: Record<string, string | undefined>,
  nowS: number,
) {
  const { room, app } = row;
  if (!app.enabled) throw new AppError("DISABLED", "This app is disabled");
  if (room.status === "ended")
    throw new AppError("ILLEGAL_TRANSITION", "This room has ended; create a new room to go live", {
      status: room.status,
    });
  if (app.signScheme === "onair" || query.key) {
    const v = publishKeyVersion(room.streamName, query.key);
    if (v === undefined || v !== room.keyVersion) throw new AppError("TOKEN_INVALID", "Wrong or revoked publish key");
    return;
  }
  const r = vendorPublishCheck({ ...app, secret: () => open(app.secretEnc) }, room.streamName, query, nowS);
  if (r !== "ok") throw new AppError(r === "expired" ? "TOKEN_EXPIRED" : "TOKEN_INVALID", `Publish signature ${r}`);
}

/** A publisher is on: the room goes (or stays) live. `client` identifies the connection at its server. */
export async function streamStarted(
  db: Db,
  clock: Clock,
  streamName: string,
  client: string,
  opts: { query?: Record<string, string | undefined>; trusted?: boolean; via?: string } = {},
) {
  const via = opts.via ?? "media";
  const now = clock.now();
  return db.transaction(async (tx) => {
    const row = await roomByStream(tx, streamName, true);
    if (!row) throw notFound("Stream");
    if (!opts.trusted) checkPublish(row, opts.query ?? {}, Math.floor(now.getTime() / 1000));
    else if (row.room.status === "ended") throw new AppError("ILLEGAL_TRANSITION", "This room has ended");
    const { room } = row;
    const set: Partial<RoomRow> = {
      streamOnline: true,
      streamClient: client,
      streamChangedAt: now,
      autoPaused: false,
      updatedAt: now,
    };
    if (room.status === "prepare" || room.status === "paused") {
      Object.assign(set, { status: "live", startedAt: room.startedAt ?? now, pausedAt: null });
    }
    await tx.update(rooms).set(set).where(eq(rooms.num, room.num));
    if (!room.streamOnline || room.streamClient !== client || set.status)
      await audit(tx, mediaActor(via, room.appId), now, {
        appId: room.appId,
        action: "room.stream_start",
        targetType: "room",
        targetId: room.id,
        detail: { client, from: room.status, to: set.status ?? room.status },
      });
    return { ...room, ...set } as RoomRow;
  });
}

/**
 * The publisher went away. Ignored when it is not the current publisher (a late event from an
 * earlier connection) or the stream is already off (a duplicate). A live room becomes paused.
 */
export async function streamStopped(
  db: Db,
  clock: Clock,
  streamName: string,
  client: string | undefined,
  via = "media",
) {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const row = await roomByStream(tx, streamName, true);
    if (!row) return { changed: false as const };
    const { room } = row;
    if (!room.streamOnline || (client && room.streamClient && client !== room.streamClient))
      return { changed: false as const };
    const set: Partial<RoomRow> = { streamOnline: false, streamChangedAt: now, updatedAt: now };
    if (room.status === "live") Object.assign(set, { status: "paused", pausedAt: now, autoPaused: true });
    await tx.update(rooms).set(set).where(eq(rooms.num, room.num));
    await audit(tx, mediaActor(via, room.appId), now, {
      appId: room.appId,
      action: "room.stream_stop",
      targetType: "room",
      targetId: room.id,
      detail: { client, from: room.status, to: set.status ?? room.status },
    });
    return { changed: true as const, room: { ...room, ...set } as RoomRow };
  });
}

/** Rooms paused by a lost stream with no re-publish for MEDIA_END_GRACE_S end. Safe on every instance. */
export async function endAbandonedRooms(db: Db, clock: Clock) {
  const now = clock.now();
  const cutoff = new Date(now.getTime() - env().MEDIA_END_GRACE_S * 1000);
  const due = await db
    .select({ num: rooms.num })
    .from(rooms)
    .where(
      and(
        eq(rooms.status, "paused"),
        eq(rooms.autoPaused, true),
        eq(rooms.streamOnline, false),
        lt(rooms.streamChangedAt, cutoff),
      ),
    )
    .limit(500);
  let ended = 0;
  for (const { num } of due) {
    await db.transaction(async (tx) => {
      const r = (await tx.select().from(rooms).where(eq(rooms.num, num)).for("update"))[0];
      if (
        !r ||
        r.status !== "paused" ||
        !r.autoPaused ||
        r.streamOnline ||
        !r.streamChangedAt ||
        r.streamChangedAt >= cutoff
      )
        return;
      await tx
        .update(rooms)
        .set({ status: "ended", stoppedAt: now, updatedAt: now, autoPaused: false })
        .where(eq(rooms.num, num));
      await endRoomSessions(tx, num, now);
      await audit(tx, mediaActor("grace", r.appId), now, {
        appId: r.appId,
        action: "room.stream_abandoned",
        targetType: "room",
        targetId: r.id,
        detail: { graceS: env().MEDIA_END_GRACE_S },
      });
      ended++;
    });
  }
  return ended;
}

/** Rooms a media server says are on but are not in its own list: reconcile as stopped. */
export async function reconcileStreams(db: Db, clock: Clock, clientPrefix: string, publishing: Map<string, string>) {
  const marked = await db
    .select({ streamName: rooms.streamName, client: rooms.streamClient })
    .from(rooms)
    .where(and(eq(rooms.streamOnline, true), sql`${rooms.streamClient} LIKE ${clientPrefix + "%"}`));
  for (const m of marked)
    if (!publishing.has(m.streamName)) await streamStopped(db, clock, m.streamName, m.client, "reconcile");
  for (const [name, client] of publishing) {
    if (!marked.some((m) => m.streamName === name && m.client === client)) {
      await streamStarted(db, clock, name, client, { trusted: true, via: "reconcile" }).catch(() => undefined);
    }
  }
}

/** The pure play check: a play token for exactly this stream (signature, expiry, scope, revocation). */
export function checkPlayToken(token: string | undefined, streamName: string, now: Date): RoomClaims {
  if (!token) throw new AppError("UNAUTHENTICATED", "A play token is required (?token=…)");
  return verifyRoomToken(token, { scope: "play", stream: streamName }, now);
}
