// The slow-consumer rule of the room event transports (WebSocket and SSE).

/** How long a write may leave more than EVENTS_MAX_BUFFER_BYTES unread before the socket is dropped. */
export const SLOW_GRACE_MS = 2000;

/**
 * The slow-consumer rule of both transports. A write that finds more than `max` bytes still unread
 * drops the socket at once. A write that leaves more than `max` waiting (a burst: a batch, a replay)
 * gives it SLOW_GRACE_MS to drain, so a socket that does not read is dropped even when no further
 * event comes to find it full.
 */
export function slowGuard(buffered: () => number, max: number, drop: () => void, graceMs = SLOW_GRACE_MS) {
  let timer: NodeJS.Timeout | undefined;
  return {
    /** False (and the socket dropped) when it is already too far behind to be written to. */
    check() {
      if (buffered() <= max) {
        // Drained: a later burst gets a whole grace of its own, not what is left of this one's.
        clearTimeout(timer);
        timer = undefined;
        return true;
      }
      drop();
      return false;
    },
    wrote() {
      if (timer || buffered() <= max) return;
      timer = setTimeout(() => {
        timer = undefined;
        if (buffered() > max) drop();
      }, graceMs);
      timer.unref();
    },
    stop: () => clearTimeout(timer),
  };
}
