// How a stored room event reaches the fronts at once: an in-process bus, and Redis pub/sub between
// processes and instances when REDIS_URL is set. The bus is only the fast path: every front also
// reads room_events itself (server/events/hub.ts), so an event a broker loses still arrives.
import { createClient } from "redis";
import { env } from "../env";
import { log } from "../log";
import type { RoomEvent } from "./types";

type Listener = (e: RoomEvent) => void;
const listeners = new Set<Listener>();
const CHANNEL = "onair:room-events";

type Redis = ReturnType<typeof createClient>;
let publisher: Promise<Redis | undefined> | undefined;
let subscriber: Redis | undefined;

function redisClient(role: string): Redis {
  const client = createClient({
    url: env().REDIS_URL,
    // A broker that is down must not hold a request: reconnect in the background, never queue.
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (n) => Math.min(100 * 2 ** n, 5000) },
  });
  let warned = false;
  client.on("error", (e: Error) => {
    if (!warned)
      log.warn(`redis ${role} unavailable; room events travel through MySQL meanwhile`, { error: e.message });
    warned = true;
  });
  client.on("ready", () => (warned = false));
  return client;
}

function deliverLocally(e: RoomEvent) {
  for (const l of listeners)
    try {
      l(e);
    } catch (err) {
      log.warn("room event listener failed", { error: (err as Error).message });
    }
}

/** Publishes committed events to this process and, with Redis, to every other. Never throws. */
export function publishEvents(events: RoomEvent[]) {
  if (!events.length) return;
  for (const e of events) deliverLocally(e);
  if (!env().REDIS_URL) return;
  publisher ??= (async () => {
    const c = redisClient("publisher");
    await c.connect();
    return c;
  })().catch(() => {
    publisher = undefined; // try again with the next event
    return undefined;
  });
  void publisher.then(async (c) => {
    if (!c?.isReady) return;
    try {
      await c.publish(CHANNEL, JSON.stringify(events));
    } catch (err) {
      log.debug("redis publish failed", { error: (err as Error).message });
    }
  });
}

/** Listens to every room event published in this process and (with Redis) in the others. */
export async function subscribeEvents(listener: Listener): Promise<() => void> {
  listeners.add(listener);
  if (env().REDIS_URL && !subscriber) {
    subscriber = redisClient("subscriber");
    const s = subscriber;
    await s
      .connect()
      .then(() =>
        s.subscribe(CHANNEL, (message) => {
          let events: RoomEvent[];
          try {
            events = JSON.parse(message) as RoomEvent[];
          } catch {
            return;
          }
          if (Array.isArray(events)) for (const e of events) deliverLocally(e);
        }),
      )
      .catch((e: Error) => log.warn("redis subscribe failed; polling MySQL only", { error: e.message }));
  }
  return () => listeners.delete(listener);
}

export async function closeBus() {
  listeners.clear();
  const p = publisher;
  publisher = undefined;
  const s = subscriber;
  subscriber = undefined;
  await Promise.all([
    p?.then((c) => c?.quit()).catch(() => undefined),
    s?.isOpen ? s.quit().catch(() => undefined) : undefined,
  ]);
}
