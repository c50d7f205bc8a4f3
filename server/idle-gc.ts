// A process that has gone quiet after a busy spell hands back what its heap grew in it. V8 collects
// when it allocates, and its own "memory reducer" shrinks a heap once allocation slows, but when it
// gets to it varies: measured 40 s after a bench's last load, the front held 136 MiB (PSS) in one
// run and 90 in another, 71 MiB of it V8 heap pages, most of them garbage (one full collection took
// it to 63 MiB). So every long-running process looks every few seconds: if it used almost no CPU
// since the last look (nobody is waiting on its event loop) and its heap's old generation grew by
// IDLE_GC_GROWTH_MIB since the last collection, it collects once. A busy process is never stopped
// for it; a process that stays quiet collects once, not again until its heap grows anew.
//
// It waits until the process has been quiet for a while (10 s), not just since the last look: V8
// hands back its young generation (grown to 32 MiB under any burst) at a collection only when its
// recent allocation rate, as V8 estimates it, is low, which it finds 8 to 15 s after a busy spell.
// Measured apart: a compacting collection 5 or 6 s after a burst left the young generation at 32
// MiB, one 8 to 12 s after (how long depending on the burst) took it to 1 MiB. Collecting at the
// first quiet look (5-10 s after a load) is what left the front at 84 MiB after one full bench and
// 115 after another. A young generation still grown at a quiet time is reason enough for a
// collection, whatever the old generation did: up to three, a look apart, in one quiet spell.
import { cpuUsage } from "node:process";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * A full collection that also compacts (V8's `gc`, made callable without starting node with
 * --expose-gc). A plain full collection frees the garbage but hands back only pages left empty, and
 * what survives a busy spell is scattered over most of the pages it filled (a kept token here, a
 * member there): measured, 400,000 objects of which one in fifty stayed left 89 MiB of old
 * generation committed after `gc()`, and 5.5 MiB (RSS 161 → 71 MiB) when the collection also moved
 * the survivors together. V8 compacts only the pages it picks unless told to; the flag is set for
 * this one collection and cleared after it, so the collections V8 runs by itself under load stay as
 * they were. It pauses the process longer than a plain one: it runs at start-up and in idle spells.
 */
export function fullCollection(): () => void {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  return () => {
    setFlagsFromString("--compact-on-every-full-gc");
    try {
      gc();
    } finally {
      setFlagsFromString("--no-compact-on-every-full-gc");
    }
  };
}

/** Collections a quiet spell may have for a young generation V8 keeps grown (./idle-gc.ts, above). */
const MAX_YOUNG_TRIES = 3;

export interface IdleGcOptions {
  /** How often to look (ms). */
  everyMs: number;
  /** Heap growth since the last collection that makes one worth it (bytes). */
  growthBytes: number;
  /** CPU share of one core under which the process counts as idle over a look's interval. */
  idleShare: number;
  /** How long the process must have been idle (ms, over whole looks) before it collects. */
  quietMs: number;
  /** A young generation this large (bytes) at a quiet time is collected (up to 3 times a quiet spell). */
  youngBytes: number;
}

export interface IdleGcProbe {
  /** CPU time used so far (µs, user + system). */
  cpuMicros(): number;
  /**
   * The old generation's committed size (bytes): the young generation is left out, as it grows to
   * its maximum under any burst and back by itself, and would make every burst look like growth.
   */
  heapBytes(): number;
  /** The young generation's committed size (bytes). */
  youngBytes(): number;
  collect(): void;
  now(): number;
}

/** The committed size of the young generation's spaces (`new_…`), or of all the others. */
function heapSpaces(young: boolean) {
  let n = 0;
  for (const space of getHeapSpaceStatistics())
    if (space.space_name.startsWith("new_") === young) n += space.space_size;
  return n;
}

const realProbe = (): IdleGcProbe => {
  let gc: (() => void) | undefined;
  return {
    cpuMicros: () => {
      const u = cpuUsage();
      return u.user + u.system;
    },
    heapBytes: () => heapSpaces(false),
    youngBytes: () => heapSpaces(true),
    collect: () => (gc ??= fullCollection())(),
    now: () => performance.now(),
  };
};

/**
 * The looker: `look()` is what the timer calls (exposed for tests). `collections` counts what it did.
 * The baseline is the heap right after its last collection (or the smallest it has seen since, when
 * V8 shrank it by itself).
 */
export class IdleGc {
  collections = 0;
  private cpu: number;
  private at: number;
  private base: number;
  /** When the process's current quiet spell began (the start of its first quiet look), if it is in one. */
  private quietSince: number | undefined;
  /** Collections this quiet spell has had while its young generation was grown. */
  private youngTries = 0;
  constructor(
    private readonly opts: IdleGcOptions,
    private readonly probe: IdleGcProbe = realProbe(),
  ) {
    this.cpu = probe.cpuMicros();
    this.at = probe.now();
    this.base = probe.heapBytes();
  }
  look() {
    const cpu = this.probe.cpuMicros();
    const at = this.probe.now();
    const heap = this.probe.heapBytes();
    const cpuShare = (cpu - this.cpu) / 1000 / Math.max(1, at - this.at);
    if (heap < this.base) this.base = heap;
    if (cpuShare >= this.opts.idleShare) {
      this.quietSince = undefined;
      this.youngTries = 0;
    } else {
      this.quietSince ??= this.at;
      const young = this.youngTries < MAX_YOUNG_TRIES && this.probe.youngBytes() >= this.opts.youngBytes;
      if (at - this.quietSince >= this.opts.quietMs && (young || heap - this.base >= this.opts.growthBytes)) {
        this.probe.collect();
        this.collections++;
        if (young) this.youngTries++;
        this.base = this.probe.heapBytes();
      }
    }
    // The collection's own CPU is not counted against the next interval.
    this.cpu = this.probe.cpuMicros();
    this.at = this.probe.now();
  }
  start() {
    setInterval(() => this.look(), this.opts.everyMs).unref();
    return this;
  }
}

/** The process's looker (IDLE_GC_GROWTH_MIB; 0 turns it off). */
export function startIdleGc(growthMiB: number) {
  if (growthMiB <= 0) return undefined;
  return new IdleGc({
    everyMs: 5000,
    growthBytes: growthMiB * 1024 * 1024,
    idleShare: 0.02,
    quietMs: 10_000,
    youngBytes: 8 * 1024 * 1024,
  }).start();
}
