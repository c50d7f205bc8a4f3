// Refused publishes, per room, for the host: every media server's refusal (wrong key, room ended,
// already publishing…) is recorded here and shown on the go-live panel, live on the room's socket
// (managers only). Bounded four ways: at most REFUSALS_PER_S writes a second per room and
// REFUSALS_PER_S_ALL across all rooms in this process (more are only logged: wrong keys pushed at
// every live room's public stream name would otherwise cost two locked transactions a second per
// room), a repeat of the room's newest refusal within a minute counts on that row, and only the
// newest REFUSALS_KEEP rows of a room are kept.
import { and, desc, eq, lt } from "drizzle-orm";
import { z } from "zod";
import { dbOf, type Ctx } from "../actor";
import type { Clock } from "../clock";
import type { Db } from "../db/client";
import { publishRefusals, rooms } from "../db/schema";
import { toAppError } from "../errors";
import { MANAGERS } from "../events/types";
import { emitRoomEvent, withEvents } from "../events/outbox";
import { errorText, log } from "../log";
import { findManagedRoom, roomRef } from "../rooms";

export const REFUSALS_KEEP = 50;
const REFUSALS_PER_S = 2;
export const REFUSALS_PER_S_ALL = 20;
const REPEAT_WINDOW_MS = 60_000;

/** Why a publish was refused, as the panel says it (translated there). */
export const REFUSAL_REASONS = ["bad_key", "expired", "ended", "busy", "app_disabled", "refused"] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** The reason of a refusal from the domain's error (or "busy", which the media server itself decides). */
export function refusalReason(error: unknown): RefusalReason {
  const a = toAppError(error);
  switch (a.code) {
    case "TOKEN_INVALID":
    case "UNAUTHENTICATED":
      return "bad_key";
    case "TOKEN_EXPIRED":
      return "expired";
    case "ILLEGAL_TRANSITION":
      return "ended";
    case "DISABLED":
      return "app_disabled";
    case "CONFLICT":
      return "busy";
    default:
      return "refused";
  }
}

type Bucket = { tokens: number; at: number };
/** A token bucket of `perS` a second (bursts of twice that) refilled up to `now`. */
function refill(b: Bucket | undefined, perS: number, now: number): Bucket {
  if (!b) return { tokens: perS * 2, at: now };
  b.tokens = Math.min(perS * 2, b.tokens + (Math.max(0, now - b.at) / 1000) * perS);
  b.at = Math.max(b.at, now);
  return b;
}
/** Per-room token buckets of this process (bounded: cleared when too many rooms are tracked), and one for all rooms. */
const buckets = new Map<string, Bucket>();
let all: Bucket | undefined;
function allowWrite(stream: string, now: number) {
  if (buckets.size > 10_000) buckets.clear();
  const b = refill(buckets.get(stream), REFUSALS_PER_S, now);
  buckets.set(stream, b);
  all = refill(all, REFUSALS_PER_S_ALL, now);
  if (b.tokens < 1 || all.tokens < 1) return false;
  b.tokens--;
  all.tokens--;
  return true;
}

/** Forgets the buckets (tests that refuse many publishes in a row). */
export const resetRefusalLimitsForTests = () => {
  buckets.clear();
  all = undefined;
};

export interface RefusedPublish {
  stream: string;
  reason: RefusalReason;
  via: string;
  /** The encoder's address, when the media server gives it. */
  addr?: string;
}

const printableAddr = (a: string | undefined) => (a && /^[\w.:[\]-]{1,64}$/.test(a) ? a : "");

/**
 * Records one refused publish against the room of its stream. Never throws (a refusal must stay a
 * refusal whatever happens here); a stream no room has is not recorded. Resolves to whether a row
 * was written or counted.
 */
export async function recordRefusal(db: Db, clock: Clock, r: RefusedPublish): Promise<boolean> {
  const now = clock.now();
  if (!allowWrite(r.stream, now.getTime())) return false;
  try {
    return await withEvents(db, async (tx) => {
      // The room's row is the lock: one refusal of a room at a time (locking the newest refusal instead
      // takes gap locks that deadlock two first refusals).
      const room = (
        await tx
          .select({ num: rooms.num, appId: rooms.appId })
          .from(rooms)
          .where(eq(rooms.streamName, r.stream))
          .for("update")
      )[0];
      if (!room) return false;
      const addr = printableAddr(r.addr);
      const newest = (
        await tx
          .select()
          .from(publishRefusals)
          .where(eq(publishRefusals.roomNum, room.num))
          .orderBy(desc(publishRefusals.id))
          .limit(1)
      )[0];
      let row: typeof publishRefusals.$inferSelect;
      if (
        newest &&
        newest.reason === r.reason &&
        newest.via === r.via &&
        newest.addr === addr &&
        now.getTime() - newest.lastAt.getTime() < REPEAT_WINDOW_MS
      ) {
        row = { ...newest, count: newest.count + 1, lastAt: now };
        await tx
          .update(publishRefusals)
          .set({ count: row.count, lastAt: now })
          .where(eq(publishRefusals.id, newest.id));
      } else {
        const [res] = await tx.insert(publishRefusals).values({
          roomNum: room.num,
          appId: room.appId,
          reason: r.reason,
          via: r.via,
          addr,
          firstAt: now,
          lastAt: now,
        });
        row = {
          id: Number(res.insertId),
          roomNum: room.num,
          appId: room.appId,
          reason: r.reason,
          via: r.via,
          addr,
          count: 1,
          firstAt: now,
          lastAt: now,
        };
        // Keep the newest REFUSALS_KEEP: drop everything below the oldest of those.
        const keep = await tx
          .select({ id: publishRefusals.id })
          .from(publishRefusals)
          .where(eq(publishRefusals.roomNum, room.num))
          .orderBy(desc(publishRefusals.id))
          .limit(1)
          .offset(REFUSALS_KEEP - 1);
        if (keep[0])
          await tx
            .delete(publishRefusals)
            .where(and(eq(publishRefusals.roomNum, room.num), lt(publishRefusals.id, keep[0].id)));
      }
      await emitRoomEvent(tx, room.num, "publish.refused", refusalView(row), now, MANAGERS);
      return true;
    });
  } catch (e) {
    log.warn("refused publish not recorded", { error: errorText(e) });
    return false;
  }
}

export const refusalView = (r: typeof publishRefusals.$inferSelect) => ({
  id: r.id,
  reason: r.reason as RefusalReason,
  via: r.via,
  addr: r.addr,
  count: r.count,
  firstAt: r.firstAt,
  lastAt: r.lastAt,
});

export const listRefusalsInput = z.object({ room: roomRef });

/** The room's refused publishes, newest first: for its host and the admins of its app. */
export async function listRefusals(ctx: Ctx, input: z.infer<typeof listRefusalsInput>) {
  const db = dbOf(ctx);
  const room = await findManagedRoom(db, ctx.actor, input.room);
  const rows = await db
    .select()
    .from(publishRefusals)
    .where(eq(publishRefusals.roomNum, room.num))
    .orderBy(desc(publishRefusals.id))
    .limit(REFUSALS_KEEP);
  return rows.map(refusalView);
}
