// The room follows the real stream. Every media server's events (embedded node-media-server,
// SRS callbacks, nginx-rtmp notifications) land here: idempotent and order-tolerant.
//   publish allowed → live;  unpublish → paused (auto);  no re-publish within the grace → ended.
import { and, eq, inArray, sql } from "drizzle-orm";
import { anonymous } from "../actor";
import type { Clock } from "../clock";
import { batchedReads } from "../cache";
import { prepared, type Db, type DbOrTx } from "../db/client";
import { apps, rooms, streamSources } from "../db/schema";
import { sourceOf } from "../sources";
import { env } from "../env";
import { AppError, notFound } from "../errors";
import { assertNotEnded, endRoomSessions, type RoomRow } from "../rooms";
import { changeRoom, type RoomLock } from "../rooms/change";
import { graceOf } from "../rooms/grace";
import { verifyRoomToken, type RoomClaims } from "../tokens";
import { publishKeyVersion } from "./keys";
import { vendorPublishCheck } from "./urls";
import { open } from "../crypto/secretbox";

/** Rooms with their apps (the publish check needs both). */
const roomsWithApps = (db: DbOrTx) =>
  db.select({ room: rooms, app: apps }).from(rooms).innerJoin(apps, eq(apps.id, rooms.appId));

const roomAndAppOfStream = prepared((db) => roomsWithApps(db).where(eq(rooms.streamName, sql.placeholder("stream"))));

/** The room of a stream and its app (not locked). */
export async function roomByStream(db: DbOrTx, streamName: string) {
  return (await roomAndAppOfStream(db, { stream: streamName }))[0];
}

type AppRow = typeof apps.$inferSelect;
type StreamRow = { room: RoomRow; app: AppRow };

/**
 * Rooms of streams with their apps as read less than a second ago, many in a statement
 * (server/cache.ts: a write this process commits makes them stale at once; another instance's
 * shows within the second). Only what no write since the read can have changed is answered from
 * them (`answeredFromRecent`). One reader per database handle.
 */
const recentStreamsOf = new WeakMap<Db, ReturnType<typeof batchedReads<StreamRow>>>();
function recentStreams(db: Db) {
  let r = recentStreamsOf.get(db);
  if (!r) {
    r = batchedReads<StreamRow>(async (names) => {
      const rows = await roomsWithApps(db).where(inArray(rooms.streamName, names));
      return new Map(rows.map((row) => [row.room.streamName, row]));
    });
    recentStreamsOf.set(db, r);
  }
  return r;
}

/** Whether a publish may go ahead: room exists and is not over, app enabled, credentials valid. */
export function checkPublish(
  row: { room: RoomRow; app: AppRow },
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
  const r = vendorPublishCheck({ ...app, secret: () => open(app.secretEnc) }, room, query, nowS);
  if (r !== "ok") throw new AppError(r === "expired" ? "TOKEN_EXPIRED" : "TOKEN_INVALID", `Publish signature ${r}`);
}

// Every publish and unpublish runs this (built once: server/db/client.ts `prepared`).
const lockedRoomOfStream = prepared((db) =>
  db
    .select()
    .from(rooms)
    .where(eq(rooms.streamName, sql.placeholder("stream")))
    .for("update"),
);

/** The room of a stream, locked; the audit rows name the media server acting for the room's app. */
const byStream = (streamName: string, via: string): RoomLock => ({
  find: async (tx) => {
    const row = (await lockedRoomOfStream(tx, { stream: streamName }))[0];
    if (!row) throw notFound("Stream");
    return row;
  },
  actor: (room) => ({ kind: "system", appId: room.appId, via }),
});

/** Thrown inside the start's transaction: the room's stream is on from another connection. */
class OnFromAnother extends Error {
  constructor(readonly client: string) {
    super("the stream is on from another connection");
  }
}

interface StartOpts {
  query?: Record<string, string | undefined>;
  trusted?: boolean;
  via?: string;
  /** Whether the server still has the room's current publisher (`client`) on. */
  stillOn?: (client: string) => Promise<boolean>;
}

/**
 * A publisher is on: the room goes (or stays) live. `client` identifies the connection at its server.
 *
 * A start from another connection while the room's stream is on is either a publisher that came
 * back (the old connection's unpublish late or lost: it takes the stream over) or a second encoder
 * the media server is about to refuse as busy: SRS and nginx-rtmp send their publish hook before
 * they look, and nginx then reports the refused one's end, which would pause a room still on the
 * air. `stillOn` (the server's own word: SRS's and nginx's listings, an embedded node's lease) tells
 * them apart: while the room's publisher is still on, the newcomer is refused (CONFLICT, recorded as
 * "busy"); when it is not, or that cannot be told, the newcomer takes over.
 */
export async function streamStarted(
  db: Db,
  clock: Clock,
  streamName: string,
  client: string,
  opts: StartOpts = {},
): Promise<RoomRow> {
  let app: AppRow | undefined;
  if (!opts.trusted) {
    // Checked before the room's lock is taken: a wrong key, an ended room or a disabled app is
    // refused without it (past the few refusals a second recorded for the host, a flood of bad
    // keys at a live room's stream neither waits for its row nor holds it against its host), and a
    // start the room already has (the same connection, live) is answered from the row as it
    // stands. Anything else is checked again under the lock. What a recent read can answer, the
    // hooks answered before calling (`publishAnsweredNow`); with one held that could not, the room
    // is read anew, and without, with the others asked for in this turn (kept for the repeats and
    // floods to come).
    const query = opts.query ?? {};
    const nowS = Math.floor(clock.now().getTime() / 1000);
    const recent = recentStreams(db);
    const row = recent.settled(streamName) ? await roomByStream(db, streamName) : await recent.read(streamName);
    if (!row) throw notFound("Stream");
    checkPublish(row, query, nowS);
    if (alreadyOn(row.room, client)) return row.room;
    app = row.app;
  }
  try {
    return await startStream(db, clock, streamName, client, opts, app);
  } catch (e) {
    if (!(e instanceof OnFromAnother)) throw e;
    // Asked outside the room's lock (a listing may take a moment).
    if (await opts.stillOn?.(e.client))
      throw new AppError("CONFLICT", "Another encoder is already publishing this stream");
    return startStream(db, clock, streamName, client, { ...opts, stillOn: undefined }, app);
  }
}

/**
 * A publish that a recent read answers at once (no promise; hooks answer it synchronously, before
 * `streamStarted`): the room for a repeat, a throw for a refusal that stands, undefined when the
 * room must be read (`streamStarted` then does). See `answeredFromRecent`.
 */
export function publishAnsweredNow(
  db: Db,
  clock: Clock,
  streamName: string,
  client: string,
  query: Record<string, string | undefined> = {},
): RoomRow | undefined {
  const held = recentStreams(db).settled(streamName)?.value;
  return held && answeredFromRecent(held, query, client, Math.floor(clock.now().getTime() / 1000));
}

/**
 * A publish answered from the room as read less than a second ago, where that read cannot be
 * wrong: the same connection is already live with a key that passes (a repeat: SRS retrying its
 * hook, nginx and SRS both reporting; nothing to change, and a stop or end elsewhere in that second
 * acts on the connection itself), or a refusal no write since the read can lift: the room has
 * ended (for good), or the publish key is forged or older than the room's (key versions only go
 * up). Returns the room for a repeat, throws for those refusals, and leaves everything else (a real
 * start, a key newer than the read, a disabled app, a vendor signature) to a fresh read.
 */
function answeredFromRecent(row: StreamRow, query: Record<string, string | undefined>, client: string, nowS: number) {
  try {
    checkPublish(row, query, nowS);
  } catch (e) {
    if (!(e instanceof AppError)) return undefined;
    if (e.code === "ILLEGAL_TRANSITION") throw e;
    if (e.code === "TOKEN_INVALID" && (row.app.signScheme === "onair" || query.key)) {
      const v = publishKeyVersion(row.room.streamName, query.key);
      if (v === undefined || v < row.room.keyVersion) throw e;
    }
    return undefined;
  }
  return alreadyOn(row.room, client) ? row.room : undefined;
}

/** The room is live from this very connection: a start has nothing to change. */
const alreadyOn = (room: RoomRow, client: string) =>
  room.streamOnline && room.streamClient === client && room.status === "live" && !room.autoPaused;

/** `app`: the room's app as read just before (its key and settings; apps are not locked by a start). */
function startStream(db: Db, clock: Clock, streamName: string, client: string, opts: StartOpts, app?: AppRow) {
  const ctx = { db, clock, actor: anonymous };
  return changeRoom(ctx, byStream(streamName, opts.via ?? "media"), "room.stream_start", async (tx, room, now) => {
    if (app) checkPublish({ room, app }, opts.query ?? {}, Math.floor(now.getTime() / 1000));
    else assertNotEnded(room);
    if (opts.stillOn && room.streamOnline && room.streamClient && room.streamClient !== client)
      throw new OnFromAnother(room.streamClient);
    // The same connection again (a listing that found it, a hook raced by another): nothing to write.
    if (alreadyOn(room, client)) return { result: room, audit: false };
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
    const after = { ...room, ...set };
    return {
      result: after,
      // The row as written (its columns are all here): changeRoom need not read it again.
      after,
      // A repeated start of the same connection changes nothing worth recording.
      audit: !room.streamOnline || room.streamClient !== client || !!set.status,
      detail: { client, from: room.status, to: set.status ?? room.status },
    };
  });
}

type StreamStop = { changed: false } | { changed: true; room: RoomRow };

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
): Promise<StreamStop> {
  const ctx = { db, clock, actor: anonymous };
  return changeRoom<StreamStop>(ctx, byStream(streamName, via), "room.stream_stop", async (tx, room, now) => {
    if (!room.streamOnline || (client && room.streamClient && client !== room.streamClient))
      return { result: { changed: false as const }, audit: false };
    const set: Partial<RoomRow> = { streamOnline: false, streamChangedAt: now, updatedAt: now };
    if (room.status === "live") Object.assign(set, { status: "paused", pausedAt: now, autoPaused: true });
    await tx.update(rooms).set(set).where(eq(rooms.num, room.num));
    const after = { ...room, ...set };
    return {
      result: { changed: true as const, room: after },
      after,
      detail: { client, from: room.status, to: set.status ?? room.status },
    };
  }).catch((e: unknown) => {
    // A stream no room has (deleted meanwhile) has nothing to stop.
    if (e instanceof AppError && e.code === "NOT_FOUND") return { changed: false as const };
    throw e;
  });
}

/**
 * A room whose source was stopped on purpose (an on-demand pull with no viewer left) is not
 * abandoned: its next viewer starts the pull again.
 */
const notPulledOnDemand = sql`NOT EXISTS (SELECT 1 FROM ${streamSources} WHERE ${streamSources.roomNum} = ${rooms.num} AND ${streamSources.kind} = 'main' AND ${streamSources.state} = 'idle')`;

/**
 * Rooms paused by a lost stream with no re-publish within their grace (their own, or
 * MEDIA_END_GRACE_S: server/rooms/grace.ts) end. Safe on every instance. `scope.appId` sweeps one
 * app's rooms only: a test that sweeps with a clock ahead of time ends its own rooms, not those of
 * test files running beside it on the same database (it ended a source test's paused room in CI).
 */
export async function endAbandonedRooms(db: Db, clock: Clock, scope: { appId?: number } = {}) {
  const now = clock.now();
  const defaultS = env().MEDIA_END_GRACE_S;
  const abandoned = (r: RoomRow) =>
    r.status === "paused" &&
    r.autoPaused &&
    !r.streamOnline &&
    !!r.streamChangedAt &&
    r.streamChangedAt.getTime() + graceOf(r) * 1000 < now.getTime();
  const due = await db
    .select({ num: rooms.num })
    .from(rooms)
    .where(
      and(
        scope.appId === undefined ? undefined : eq(rooms.appId, scope.appId),
        eq(rooms.status, "paused"),
        eq(rooms.autoPaused, true),
        eq(rooms.streamOnline, false),
        // Each room's own grace (null: the default), as graceOf computes it; re-checked under the lock.
        sql`TIMESTAMPADD(SECOND, COALESCE(${rooms.graceS}, ${defaultS}), ${rooms.streamChangedAt}) < ${sql.param(now, rooms.streamChangedAt)}`,
        notPulledOnDemand,
      ),
    )
    .limit(500);
  const ctx = { db, clock, actor: anonymous };
  const lock = (num: number): RoomLock => ({
    find: async (tx) => {
      const row = (await tx.select().from(rooms).where(eq(rooms.num, num)).for("update"))[0];
      if (!row) throw notFound("Room");
      return row;
    },
    actor: (room) => ({ kind: "system", appId: room.appId, via: "grace" }),
  });
  let ended = 0;
  for (const { num } of due) {
    // A room deleted since the scan has nothing to end.
    const changed = await changeRoom(ctx, lock(num), "room.stream_abandoned", async (tx, room) => {
      // Re-checked under the lock: a publish may have come back since the scan.
      if (!abandoned(room) || (await sourceOf(tx, num, "main"))?.state === "idle")
        return { result: false, audit: false };
      await tx
        .update(rooms)
        .set({ status: "ended", stoppedAt: now, updatedAt: now, autoPaused: false })
        .where(eq(rooms.num, num));
      await endRoomSessions(tx, num, now);
      return { result: true, detail: { graceS: graceOf(room) } };
    }).catch((e: unknown) => {
      if (e instanceof AppError && e.code === "NOT_FOUND") return false;
      throw e;
    });
    if (changed) ended++;
  }
  return ended;
}

/**
 * Converge rooms with what a media server really publishes (its clients start with `clientPrefix`):
 * a room marked on that the listing lacks is stopped (its unpublish was lost), a listed stream not
 * marked on is started (its publish hook was lost). With `listedAt`, rooms whose stream changed
 * since the listing was taken are left alone: a hook that raced the listing knows better.
 */
export async function reconcileStreams(
  db: Db,
  clock: Clock,
  clientPrefix: string,
  publishing: Map<string, string>,
  listedAt?: Date,
) {
  const fresh = (changedAt: Date | null) => !!listedAt && !!changedAt && changedAt >= listedAt;
  const marked = await db
    .select({ streamName: rooms.streamName, client: rooms.streamClient, changedAt: rooms.streamChangedAt })
    .from(rooms)
    .where(and(eq(rooms.streamOnline, true), sql`${rooms.streamClient} LIKE ${clientPrefix + "%"}`));
  for (const m of marked)
    if (!publishing.has(m.streamName) && !fresh(m.changedAt))
      await streamStopped(db, clock, m.streamName, m.client, "reconcile");
  const unmarked = [...publishing].filter(
    ([name, client]) => !marked.some((m) => m.streamName === name && m.client === client),
  );
  if (!unmarked.length) return;
  const changed = new Map(
    (
      await db
        .select({ streamName: rooms.streamName, changedAt: rooms.streamChangedAt })
        .from(rooms)
        .where(
          inArray(
            rooms.streamName,
            unmarked.map(([name]) => name),
          ),
        )
    ).map((r) => [r.streamName, r.changedAt]),
  );
  for (const [name, client] of unmarked) {
    if (!changed.has(name) || fresh(changed.get(name) ?? null)) continue;
    await streamStarted(db, clock, name, client, { trusted: true, via: "reconcile" }).catch(() => undefined);
  }
}

/** The pure play check: a play token for exactly this stream (signature, expiry, scope, revocation). */
export function checkPlayToken(token: string | undefined, streamName: string, now: Date): RoomClaims {
  if (!token) throw new AppError("UNAUTHENTICATED", "A play token is required (?token=…)");
  return verifyRoomToken(token, { scope: "play", stream: streamName }, now);
}
