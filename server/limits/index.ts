// Rate limits, lockouts and replay guards on the shared store: every instance counts the same
// attempts. Counters live in fixed windows; rows past their window are pruned by the sweeper.
import { and, eq, lt, sql } from "drizzle-orm";
import type { DbOrTx } from "../db/client";
import { rateCounters, seenNonces } from "../db/schema";
import { AppError, isDuplicateKey } from "../errors";

export interface Limit {
  /** At most this many hits per window. */
  max: number;
  windowS: number;
}

/** The current window of `key`: how many hits so far, and when the window ends. */
function windowOf(now: Date, windowS: number) {
  const start = Math.floor(now.getTime() / 1000 / windowS) * windowS;
  return { start, endsAt: new Date((start + windowS) * 1000) };
}

/** Hits of `key` in the window starting at `start` (0 when none). */
async function countIn(db: DbOrTx, key: string, start: number) {
  const row = (
    await db
      .select({ count: rateCounters.count })
      .from(rateCounters)
      .where(and(eq(rateCounters.key, key), eq(rateCounters.windowStart, start)))
  )[0];
  return row?.count ?? 0;
}

/** Seconds until `key` may try again, or 0 when it is under its limit (reads only). */
export async function retryAfterS(db: DbOrTx, key: string, limit: Limit, now: Date): Promise<number> {
  const w = windowOf(now, limit.windowS);
  const count = await countIn(db, key, w.start);
  if (count < limit.max) return 0;
  return Math.max(1, Math.ceil((w.endsAt.getTime() - now.getTime()) / 1000));
}

/** Counts one hit of `key` (atomically, on every instance alike) and returns the count in this window. */
export async function hit(db: DbOrTx, key: string, limit: Limit, now: Date): Promise<number> {
  const w = windowOf(now, limit.windowS);
  await db
    .insert(rateCounters)
    .values({ key, windowStart: w.start, count: 1, expiresAt: w.endsAt })
    .onDuplicateKeyUpdate({ set: { count: sql`${rateCounters.count} + 1` } });
  return Math.max(1, await countIn(db, key, w.start));
}

/** Forgets the hits of `key` (a successful sign-in clears its failures). */
export async function clearHits(db: DbOrTx, key: string) {
  await db.delete(rateCounters).where(eq(rateCounters.key, key));
}

/** Throws TOO_MANY_REQUESTS (with retryAfterS) when any of the keys is over its limit. */
export async function assertUnderLimits(db: DbOrTx, checks: Array<{ key: string; limit: Limit }>, now: Date) {
  const waits = await Promise.all(checks.map((c) => retryAfterS(db, c.key, c.limit, now)));
  const wait = Math.max(0, ...waits);
  if (wait > 0) throw new AppError("TOO_MANY_REQUESTS", "Too many attempts; try again later", { retryAfterS: wait });
}

/**
 * Remembers `nonce` in `scope` until `expiresAt`; false when it was already seen (a replay). The
 * primary key makes the first of two concurrent uses win on every instance.
 */
export async function firstUse(db: DbOrTx, scope: string, nonce: string, expiresAt: Date): Promise<boolean> {
  try {
    await db.insert(seenNonces).values({ scope, nonce: nonce.slice(0, 191), expiresAt });
    return true;
  } catch (e) {
    if (isDuplicateKey(e)) return false;
    throw e;
  }
}

/** Drops counters and nonces whose window is over (the periodic sweeper, any instance). */
export async function pruneLimits(db: DbOrTx, now: Date) {
  await db.delete(rateCounters).where(lt(rateCounters.expiresAt, now));
  await db.delete(seenNonces).where(lt(seenNonces.expiresAt, now));
}
