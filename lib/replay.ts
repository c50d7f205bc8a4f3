// What an ended room's replay keeps between looks at `media.replay`: signed URLs are renewed only
// near their expiry (a new URL reloads the video from the start), and the list is looked at again
// often while a part is still processing. Pure, so the renewal that happens after 45 minutes in a
// browser is tested in milliseconds (test/replay.test.ts).

export type ReplayItem = { id: string; url: string; expiresAt: number | null };
export type ReplayAnswer<I extends ReplayItem = ReplayItem> = { items: I[]; pending: number; now: number };

/** How often the list is looked at again once nothing is pending (less when tokens live shorter). */
export const RENEW_EVERY_MS = 5 * 60_000;
/** A URL is replaced when less than this is left of its token (less when tokens live shorter). */
export const RENEW_BEFORE_MS = 15 * 60_000;

/**
 * The new answer, its expiries moved to this browser's clock (the server's `now` against its own,
 * `here`), each recording's URL kept from the old answer while that is not near its expiry: a
 * quarter of its token's life, at most RENEW_BEFORE_MS.
 */
export function keepUrls<I extends ReplayItem>(
  old: ReplayAnswer<I> | undefined,
  next: ReplayAnswer<I>,
  here = Date.now(),
): ReplayAnswer<I> {
  const local = (at: number | null) => (at === null ? null : here + (at - next.now));
  const kept = new Map(old?.items.map((i) => [i.id, i]));
  return {
    ...next,
    items: next.items.map((i) => {
      const fresh = { ...i, expiresAt: local(i.expiresAt) };
      const k = kept.get(i.id);
      if (!k) return fresh;
      const life = fresh.expiresAt === null ? Infinity : fresh.expiresAt - here;
      const keep = k.expiresAt === null || k.expiresAt - here > Math.min(RENEW_BEFORE_MS, life / 4);
      return keep ? { ...fresh, url: k.url, expiresAt: k.expiresAt } : fresh;
    }),
  };
}

/** When to look again (ms): every 5 s while a part is pending, else a quarter of the shortest token's life (5 min at most). */
export function nextLook(data: ReplayAnswer | undefined, here = Date.now()) {
  if (!data?.items.length || data.pending) return 5000;
  const left = Math.min(...data.items.map((i) => (i.expiresAt === null ? Infinity : i.expiresAt - here)));
  return Math.max(5000, Math.min(RENEW_EVERY_MS, left / 4));
}
