// Short-lived answers shared across requests, for the reads every client polls (room lists,
// member lists): computed at most once per key per second and per process, so a thousand viewers
// refreshing a list cost one query a second, not a thousand. Freshness: a write this process makes
// (rooms, members, flushed heartbeats) makes every cached answer stale at once, so its own clients
// read their writes; another instance's writes show within the second, as /api/rooms/state does.
import type { DbOrTx } from "./db/client";

let version = 0;
const sharedValues = new WeakSet<object>();
/** Whether a value is an answer shared across requests (never to be changed: callers may serialise it once). */
export const isShared = (v: unknown): v is object => typeof v === "object" && v !== null && sharedValues.has(v);
/** Called after a write commits: answers cached before it are not served again. */
export function readsChanged() {
  version++;
}

/** Reads inside a transaction see that transaction's writes: they are never cached. */
export const cacheable = (db: DbOrTx) => !("rollback" in db);

export function sharedReads<T>(ttlMs = 1000, max = 5000) {
  const entries = new Map<string, { at: number; version: number; value: Promise<T> }>();
  return (key: string, compute: () => Promise<T>): Promise<T> => {
    const now = Date.now();
    const hit = entries.get(key);
    if (hit && hit.version === version && now - hit.at < ttlMs && now >= hit.at) return hit.value;
    const value = compute().then((v) => {
      if (typeof v === "object" && v !== null) sharedValues.add(v);
      return v;
    });
    if (hit) entries.delete(key); // re-inserted last: the oldest entries are first in the map
    entries.set(key, { at: now, version, value });
    value.catch(() => {
      if (entries.get(key)?.value === value) entries.delete(key);
    });
    while (entries.size > max) entries.delete(entries.keys().next().value!);
    return value;
  };
}
