import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
import { describe, expect, it } from "vitest";
import { IdleGc, type IdleGcProbe } from "./idle-gc";

const MiB = 1024 * 1024;
const opts = { everyMs: 5000, growthBytes: 16 * MiB, idleShare: 0.02, quietMs: 10_000, youngBytes: 8 * MiB };

/** A process whose CPU time and heap the test moves by hand. */
function fakeProbe() {
  const p = {
    cpu: 0,
    t: 0,
    heap: 50 * MiB,
    /** What a collection leaves. */
    after: 40 * MiB,
    young: 1 * MiB,
    /** The young generation a collection leaves. */
    youngAfter: 1 * MiB,
    collected: 0,
    probe: {} as IdleGcProbe,
  };
  p.probe = {
    cpuMicros: () => p.cpu,
    heapBytes: () => p.heap,
    youngBytes: () => p.young,
    collect: () => {
      p.collected++;
      p.heap = p.after;
      p.young = p.youngAfter;
    },
    now: () => p.t,
  };
  return p;
}
/** 5 s go by, in which the process used `share` of a core and its heap became `heapMiB`. */
function tick(p: ReturnType<typeof fakeProbe>, share: number, heapMiB: number) {
  p.t += 5000;
  p.cpu += share * 5000 * 1000;
  p.heap = heapMiB * MiB;
}

describe("collecting when idle", () => {
  it("collects once a quiet process's heap grew, never while it is busy, and not again until it grows anew", () => {
    const p = fakeProbe();
    const g = new IdleGc(opts, p.probe);
    tick(p, 0.9, 120); // busy, grown by 70 MiB: nobody stops it for a collection
    g.look();
    expect(p.collected).toBe(0);
    tick(p, 0.05, 120); // still above 2 % of a core
    g.look();
    expect(p.collected).toBe(0);
    tick(p, 0.01, 120); // quiet for 5 s: not yet
    g.look();
    expect(p.collected).toBe(0);
    tick(p, 0.01, 120); // quiet for 10 s: collects once
    g.look();
    expect(p.collected).toBe(1);
    tick(p, 0.01, 40); // stays quiet: nothing to do
    g.look();
    tick(p, 0.01, 50); // grown, but by less than 16 MiB
    g.look();
    expect(p.collected).toBe(1);
    tick(p, 0.01, 57); // 17 MiB over what the last collection left
    g.look();
    expect(p.collected).toBe(2);
  });

  it("measures growth from what V8 shrank the heap to by itself", () => {
    const p = fakeProbe();
    const g = new IdleGc(opts, p.probe);
    tick(p, 0.01, 20); // V8's own reducer took it below the start
    g.look();
    tick(p, 0.01, 37); // 17 MiB over that, after 10 s of quiet
    g.look();
    expect(p.collected).toBe(1);
  });

  it("does not count its own collection's CPU against the next interval", () => {
    const p = fakeProbe();
    const g = new IdleGc(opts, p.probe);
    p.probe.collect = () => {
      p.collected++;
      p.heap = p.after;
      p.cpu += 400_000; // a 400-ms collection
    };
    tick(p, 0.01, 50);
    g.look();
    tick(p, 0.01, 80);
    g.look();
    tick(p, 0.01, 100);
    g.look();
    expect(p.collected).toBe(2);
  });

  it("waits for 10 s of quiet, and starts counting again after a busy look", () => {
    const p = fakeProbe();
    const g = new IdleGc(opts, p.probe);
    tick(p, 0.01, 80);
    g.look();
    tick(p, 0.3, 80); // a burst: the quiet spell ends
    g.look();
    tick(p, 0.01, 80);
    g.look();
    expect(p.collected).toBe(0);
    tick(p, 0.01, 80);
    g.look();
    expect(p.collected).toBe(1);
  });

  it("collects a young generation still grown at a quiet time, up to three times a quiet spell", () => {
    const p = fakeProbe();
    const g = new IdleGc(opts, p.probe);
    p.youngAfter = 32 * MiB; // as when V8 keeps it (its estimate of the allocation rate still high)
    const quietLooks = (n: number) => {
      for (let i = 0; i < n; i++) {
        tick(p, 0.01, 50);
        g.look();
      }
    };
    tick(p, 0.5, 50);
    p.young = 32 * MiB;
    g.look();
    quietLooks(1);
    expect(p.collected).toBe(0);
    quietLooks(1); // 10 s quiet: the old generation did not grow, the young one is grown
    expect(p.collected).toBe(1);
    quietLooks(5); // a look apart, twice more, then no more in this quiet spell
    expect(p.collected).toBe(3);
    tick(p, 0.5, 50); // busy again, then quiet: tries anew
    g.look();
    quietLooks(2);
    expect(p.collected).toBe(4);
    p.youngAfter = 1 * MiB; // V8 hands it back at the next one
    quietLooks(4);
    expect(p.collected).toBe(5);
    tick(p, 0.5, 50); // a young generation of 1 MiB is left alone
    g.look();
    quietLooks(4);
    expect(p.collected).toBe(5);
  });

  it("hands a real heap's garbage back", async () => {
    const g = new IdleGc({ ...opts, growthBytes: 8 * MiB, idleShare: 0.5, quietMs: 0, youngBytes: Infinity });
    // 60 MiB or so that reach the old generation, then become garbage: with nothing allocated
    // after it, V8 leaves it there (measured: still 93 MiB committed 10 s later).
    const made = (() => {
      const keep: Array<{ a: number; b: string; c: number[] }> = [];
      for (let i = 0; i < 400_000; i++) keep.push({ a: i, b: `x${i}`, c: [i, i + 1] });
      return keep.length;
    })();
    expect(made).toBe(400_000);
    const grown = getHeapStatistics().total_heap_size;
    g.look(); // busy making it: not now
    expect(g.collections).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    g.look();
    expect(g.collections).toBe(1);
    expect(getHeapStatistics().total_heap_size).toBeLessThan(grown - 32 * MiB);
  });

  it("hands back the pages that a busy spell's few survivors are scattered over", async () => {
    const g = new IdleGc({ ...opts, growthBytes: 8 * MiB, idleShare: 0.5, quietMs: 0, youngBytes: Infinity });
    // As after a join storm: most of what reached the old generation is garbage, one object in
    // fifty stays, on nearly every page. A plain full collection leaves those pages committed.
    const survivors: unknown[] = [];
    const oldGeneration = () =>
      getHeapSpaceStatistics()
        .filter((space) => !space.space_name.startsWith("new_"))
        .reduce((n, space) => n + space.space_size, 0);
    const before = oldGeneration();
    (() => {
      const made: Array<{ a: string; b: number[] }> = [];
      for (let i = 0; i < 400_000; i++) made.push({ a: `x${i}`, b: [i, i + 1, i + 2] });
      for (let i = 0; i < made.length; i += 50) survivors.push(made[i]);
    })();
    const grown = oldGeneration();
    expect(grown - before).toBeGreaterThan(32 * MiB);
    g.look();
    await new Promise((r) => setTimeout(r, 500));
    g.look();
    expect(g.collections).toBe(1);
    expect(survivors).toHaveLength(8000);
    // The survivors' 8,000 objects are well under a MiB; their pages were tens.
    expect(oldGeneration() - before).toBeLessThan(8 * MiB);
  });

  it("hands back a young generation grown in a burst, once the process has been quiet for a while", async () => {
    const young = () =>
      getHeapSpaceStatistics()
        .filter((space) => space.space_name.startsWith("new_"))
        .reduce((n, space) => n + space.space_size, 0);
    // A burst whose objects live a little (as requests' do): V8 grows its young generation to the
    // most it allows (32 MiB on 64-bit Node 20).
    const kept: unknown[][] = [];
    const until = performance.now() + 1500;
    while (performance.now() < until) {
      const batch: unknown[] = [];
      for (let i = 0; i < 20_000; i++) batch.push({ i, s: `x${i}` });
      kept.push(batch);
      if (kept.length > 8) kept.shift();
    }
    kept.length = 0;
    expect(young()).toBeGreaterThanOrEqual(16 * MiB);
    const g = new IdleGc({ ...opts, growthBytes: Infinity, idleShare: 0.5, quietMs: 8_000 });
    g.look(); // the burst: busy
    await new Promise((r) => setTimeout(r, 500));
    g.look(); // quiet, not for long enough
    expect(g.collections).toBe(0);
    // Looked at every 2.5 s from 8 s on, as the process's timer would (every 5 s there): V8 lets the
    // young generation go once its estimate of the allocation rate has come down.
    await new Promise((r) => setTimeout(r, 7_500));
    for (let i = 0; i < 5 && young() >= 8 * MiB; i++) {
      await new Promise((r) => setTimeout(r, 2_500));
      g.look();
    }
    expect(young()).toBeLessThan(8 * MiB);
    expect(g.collections).toBeGreaterThanOrEqual(1);
    expect(g.collections).toBeLessThanOrEqual(3);
  }, 30_000);
});
