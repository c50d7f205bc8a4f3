"use client";
// Reads are shared across requests for up to a second per process (server/cache.ts), so a page that
// reads just after a live event about another process's change (the media server's "the stream is
// up") may still be answered with the state from before it. The event is the newer word: the page
// looks again, a bounded few times, until what it reads agrees with it.
import { useCallback, useEffect, useRef } from "react";

/** What a status event says, and what a read must show to agree with it. */
export type SeenStatus = { status: string; streamOnline: boolean };

export const agrees = (read: SeenStatus | undefined | null, seen: SeenStatus) =>
  !!read && read.status === seen.status && read.streamOnline === seen.streamOnline;

/**
 * The waits before each look: at once, then twice more, the last more than a second (the shared
 * reads' lifetime) after the first, so it cannot be answered from a read made before the change.
 */
export const SETTLE_DELAYS_MS = [0, 500, 1100] as const;

/** Runs `look` until it answers true, once per delay; the returned function stops it. */
export function settle(look: () => Promise<boolean>, delays: readonly number[] = SETTLE_DELAYS_MS): () => void {
  let stopped = false;
  void (async () => {
    for (const ms of delays) {
      if (ms) await new Promise((r) => setTimeout(r, ms));
      if (stopped) return;
      if (await look().catch(() => false)) return;
    }
  })();
  return () => {
    stopped = true;
  };
}

/** `settle` for a component: a newer event's looks replace the older's, and unmounting stops them. */
export function useSettle() {
  const stop = useRef<(() => void) | undefined>(undefined);
  useEffect(() => () => stop.current?.(), []);
  return useCallback((look: () => Promise<boolean>) => {
    stop.current?.();
    stop.current = settle(look);
  }, []);
}
