// Short-lived answers shared across requests, for the reads every client polls (room lists,
// member lists): computed at most twice per key per second and per process (a key read all the
// time is read again in the second half of its life, so its readers never wait for the database),
// so a thousand viewers refreshing a list cost two queries a second, not a thousand. Freshness:
// what is served was read less than a second ago; a write this process makes (rooms, members,
// flushed heartbeats) makes every cached answer stale at once, so its own clients read their
// writes; another instance's writes show within the second, as /api/rooms/state does.
import type { DbOrTx } from "./db/client";

let version = 0;
const sharedValues = new WeakSet<object>();
/** Whether a value is an answer shared across requests (never to be changed: callers may serialise it once). */
export const isShared = (v: unknown): v is object => typeof v === "object" && v !== null && sharedValues.has(v);
/** Marks a value made only of shared answers (e.g. two of them joined) as shared itself. */
export function asShared<T extends object>(v: T): T {
  sharedValues.add(v);
  return v;
}
/** Called after a write commits: answers cached before it are not served again. */
export function readsChanged() {
  version++;
}

/** Reads inside a transaction see that transaction's writes: they are never cached. */
export const cacheable = (db: DbOrTx) => !("rollback" in db);

/**
 * A map that keeps at least the `keep` entries used last (read or set; deleted ones count among
 * them until their generation goes) and forgets older ones in bulk: two
 * generations of at most `keep` each (so up to 2 × keep entries in memory); when the newer fills
 * up, the older goes whole. An entry read from the older is moved to the newer (still in use).
 * Every operation is O(1): a Map whose oldest entries are deleted one at a time makes
 * `keys().next()` walk the deleted slots, about 5 µs an operation at 10,000 entries (measured),
 * which 100,000 viewers' tokens turned into a tenth of the front's CPU. Generations used to be
 * keep/2: a working set of exactly that size (100,000 viewers' tokens with 200,000 kept) then moved
 * every entry from the older to the newer on every round of reads, 1.6 µs a read instead of 0.75
 * (measured), and all of it garbage. `dropped`, if given, is told of each value forgotten so.
 */
export class RecentMap<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly generation: number;
  constructor(
    keep: number,
    private readonly dropped?: (v: V) => void,
  ) {
    this.generation = Math.max(1, Math.floor(keep));
  }
  get(k: K): V | undefined {
    const v = this.young.get(k);
    if (v !== undefined) return v;
    const o = this.old.get(k);
    if (o !== undefined) this.set(k, o);
    return o;
  }
  set(k: K, v: V) {
    this.old.delete(k);
    this.young.set(k, v);
    if (this.young.size >= this.generation) {
      if (this.dropped) for (const v of this.old.values()) this.dropped(v);
      this.old = this.young;
      this.young = new Map();
    }
  }
  delete(k: K) {
    this.young.delete(k);
    this.old.delete(k);
  }
  get size() {
    return this.young.size + this.old.size;
  }
}

/** Whether a value read at `at` (with writes counted up to `version`) may be served `now`. */
const servable = (e: { at: number; version: number }, now: number, ttlMs: number) =>
  e.version === version && now - e.at < ttlMs && now >= e.at;

/** A shared read's entry: its value while it is read, and once read (`done`) the value itself. */
interface SharedEntry<T> {
  at: number;
  version: number;
  value: Promise<T>;
  done?: { value: T };
  renewing?: boolean;
}

export function sharedReads<T>(ttlMs = 1000, max = 5000) {
  // At most `max` keys held (the last max/2 read surely).
  const entries = new RecentMap<string, SharedEntry<T>>(Math.ceil(max / 2));
  const run = (key: string, compute: () => Promise<T>, at: number, v: number): SharedEntry<T> => {
    const entry = { at, version: v } as SharedEntry<T>;
    const value = (entry.value = compute().then((out) => {
      if (typeof out === "object" && out !== null) sharedValues.add(out);
      entry.done = { value: out };
      return out;
    }));
    value.catch(() => {
      if (entries.get(key)?.value === value) entries.delete(key);
    });
    return entry;
  };
  /** The key's entry if it may still be served (read less than ttlMs ago, no write since), renewed meanwhile. */
  const fresh = (key: string, compute: () => Promise<T>, now: number) => {
    const hit = entries.get(key);
    if (!hit || !servable(hit, now, ttlMs)) return undefined;
    // A key still read in the second half of its life is read again meanwhile, and the new value
    // replaces it once there: its readers never wait for the database, and what they get was
    // still read less than ttlMs ago. A write in this process makes both stale as before.
    if (!hit.renewing && now - hit.at >= ttlMs / 2) {
      hit.renewing = true;
      const next = run(key, compute, now, version);
      next.value.then(
        () => {
          if (entries.get(key) !== hit) return;
          entries.set(key, next);
        },
        () => (hit.renewing = false),
      );
    }
    return hit;
  };
  const read = (key: string, compute: () => Promise<T>): Promise<T> => {
    const now = Date.now();
    const hit = fresh(key, compute, now);
    if (hit) return hit.value;
    const entry = run(key, compute, now, version);
    entries.set(key, entry);
    return entry.value;
  };
  return Object.assign(read, {
    /**
     * The key's value if it has been read and may still be served (as `read` would serve it), for
     * answers made synchronously (server/front/fast.ts); undefined starts no read (`read` will).
     */
    settled(key: string, compute: () => Promise<T>): { value: T } | undefined {
      return fresh(key, compute, Date.now())?.done;
    },
  });
}

/**
 * sharedReads for keys that one statement reads many at a time (`readMany`: the keys' values, a key
 * missing from its answer being `undefined`), for the rows hooks ask for key by key at high rates (a
 * stream's room and app, per publish hook). The same freshness: nothing served was read `ttlMs` ago
 * or more, or before a write this process committed. Keys asked for and not held are read together
 * on the next turn of the event loop (every key asked for in a turn, in one statement per `maxKeys`);
 * a key held and asked for in the second half of its life is served at once and read again with the
 * others due at most every `renewEveryMs` (well within the half life left). A thousand streams
 * each asked for a hundred times a second cost a statement or two every `renewEveryMs`, where a
 * read per key (sharedReads) would cost two thousand statements a second, all at once when the keys
 * were first read together. Bounded as sharedReads is (`max` keys held; the keys being read are
 * the keys asked for meanwhile).
 */
export function batchedReads<T>(
  readMany: (keys: string[]) => Promise<Map<string, T>>,
  { ttlMs = 1000, max = 5000, renewEveryMs = 100, maxKeys = 500 } = {},
) {
  interface Entry {
    at: number;
    version: number;
    value: T | undefined;
  }
  interface Asked {
    key: string;
    promise: Promise<T | undefined>;
    resolve: (v: T | undefined) => void;
    reject: (e: unknown) => void;
    version: number;
    at: number;
  }
  const entries = new RecentMap<string, Entry>(Math.ceil(max / 2));
  /** Keys asked for whose read is not done (at most one each), and those whose read has not started. */
  const asked = new Map<string, Asked>();
  let queue: Asked[] = [];
  let turn: NodeJS.Immediate | undefined;
  let timer: NodeJS.Timeout | undefined;

  const flush = () => {
    clearImmediate(turn);
    clearTimeout(timer);
    turn = timer = undefined;
    const batch = queue;
    queue = [];
    for (let i = 0; i < batch.length; i += maxKeys) {
      const part = batch.slice(i, i + maxKeys);
      // Served as read when the statement was sent, and only while no write follows it.
      const at = Date.now();
      const v = version;
      const done = () => {
        for (const a of part) if (asked.get(a.key) === a) asked.delete(a.key);
      };
      readMany(part.map((a) => a.key)).then(
        (found) => {
          done();
          for (const a of part) {
            const value = found.get(a.key);
            const held = entries.get(a.key);
            if (!held || held.at <= at || held.version !== version) entries.set(a.key, { at, version: v, value });
            a.resolve(value);
          }
        },
        (e: unknown) => {
          done();
          for (const a of part) a.reject(e);
        },
      );
    }
  };
  const ask = (key: string, now: boolean): Asked => {
    let a = asked.get(key);
    const at = Date.now();
    // Joined while it can still answer fresh: a read that hangs (asked ttlMs ago) is not waited for.
    if (!a || !servable(a, at, ttlMs)) {
      let resolve!: Asked["resolve"];
      let reject!: Asked["reject"];
      const promise = new Promise<T | undefined>((res, rej) => ((resolve = res), (reject = rej)));
      // A renewal nobody waits for must not fail unhandled; a reader still gets the rejection.
      promise.catch(() => undefined);
      a = { key, promise, resolve, reject, version, at };
      asked.set(key, a);
      queue.push(a);
    }
    if (now) turn ??= setImmediate(flush);
    else if (!turn) timer ??= setTimeout(flush, renewEveryMs);
    return a;
  };
  /** The key's value if it may be served now (renewed meanwhile when due); undefined starts no read. */
  const settled = (key: string): { value: T | undefined } | undefined => {
    const held = entries.get(key);
    const now = Date.now();
    if (!held || !servable(held, now, ttlMs)) return undefined;
    if (now - held.at >= ttlMs / 2 && !asked.has(key)) ask(key, false);
    return { value: held.value };
  };
  return {
    settled,
    /** The key's value as held, or read with the other keys asked for in this turn. */
    read(key: string): Promise<T | undefined> {
      const held = settled(key);
      return held ? Promise.resolve(held.value) : ask(key, true).promise;
    },
  };
}

/**
 * Reads that must start after they are asked for, shared by everyone who asks for the same key
 * before the read starts. A room-event socket's hello must say at least what was committed before
 * the socket registered for events, so a read already under way cannot serve it; a read that has
 * not started yet can serve any number of them. A key's read starts on the next turn of the event
 * loop, but not before the previous one is done nor sooner than `minGapMs` after it started:
 * whoever asks meanwhile joins the next. A socket alone waits no longer than before; five thousand
 * opening in one room cost a read every `minGapMs` at most, not five thousand. A key is forgotten
 * once its last read is done and its gap over. A read still running after `stuckMs` (a hung
 * connection) no longer holds the next one back. Times are monotonic (a clock stepped back does
 * not stretch a gap).
 */
export function readsAfterAsking<K, T>(read: (key: K) => Promise<T>, minGapMs = 0, stuckMs = 5000) {
  interface State {
    next?: Promise<T>;
    running?: Promise<T>;
    startedAt: number;
    timer?: NodeJS.Timeout;
  }
  const keys = new Map<K, State>();
  /** Forgets an idle key once its gap is over (a read asked for within it must still wait). */
  const settle = (key: K, st: State) => {
    if (st.next || st.running) return;
    const wait = st.startedAt + minGapMs - performance.now();
    if (wait > 0) {
      st.timer = setTimeout(() => {
        st.timer = undefined;
        settle(key, st);
      }, wait);
      st.timer.unref();
    } else if (keys.get(key) === st) keys.delete(key);
  };
  return (key: K): Promise<T> => {
    let st = keys.get(key);
    if (st?.next) return st.next;
    if (!st) keys.set(key, (st = { startedAt: -Infinity }));
    const s = st;
    clearTimeout(s.timer);
    s.timer = undefined;
    s.next = new Promise<T>((resolve, reject) => {
      const start = () => {
        s.next = undefined;
        s.startedAt = performance.now();
        // A read that throws at once fails like one that rejects. The gap counts from the read's
        // call, a turn of the microtask queue later (which a collection can make a fraction of a
        // millisecond): counted from here, the next read could be called that much early.
        const r = Promise.resolve().then(() => {
          s.startedAt = performance.now();
          return read(key);
        });
        s.running = r;
        const done = () => {
          if (s.running === r) s.running = undefined;
          settle(key, s);
        };
        r.then(done, done);
        r.then(resolve, reject);
      };
      const whenDue = () => {
        const wait = s.startedAt + minGapMs - performance.now();
        // Looked at again when the timer fires: a timer armed late in a long turn of the event loop
        // counts from the turn's start and can fire before the gap is over.
        if (wait > 0) setTimeout(whenDue, wait);
        else setImmediate(start);
      };
      if (s.running) {
        // After the running read, or once it has run `stuckMs`, whichever comes first (once).
        let due = false;
        const once = () => {
          if (due) return;
          due = true;
          clearTimeout(stuck);
          whenDue();
        };
        const stuck = setTimeout(once, Math.max(0, s.startedAt + stuckMs - performance.now()));
        stuck.unref();
        s.running.then(once, once);
      } else whenDue();
    });
    return s.next;
  };
}
