// The shared reads' freshness: nothing served was read more than ttlMs ago or before a write this
// process made, and a key read all the time is renewed without its readers waiting.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { batchedReads, readsAfterAsking, readsChanged, sharedReads, RecentMap } from "./cache";

/** A read whose answers the test hands out one by one. */
function source() {
  const pending: Array<(v: string) => void> = [];
  let calls = 0;
  return {
    compute: () => {
      calls++;
      return new Promise<string>((r) => pending.push(r));
    },
    answer: (v: string) => pending.shift()!(v),
    get calls() {
      return calls;
    },
  };
}
const settled = async <T>(p: Promise<T>) => {
  let out: { v: T } | undefined;
  void p.then((v) => (out = { v }));
  await new Promise((r) => setImmediate(r));
  return out;
};

describe("sharedReads", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it("renews a key read in the second half of its life without making readers wait", async () => {
    const read = sharedReads<string>(1000);
    const s = source();
    const first = read("k", s.compute);
    s.answer("v1");
    expect(await first).toBe("v1");
    vi.setSystemTime(1_000_400);
    expect(await read("k", s.compute)).toBe("v1");
    expect(s.calls).toBe(1);
    // Second half: the old value at once, and one renewal.
    vi.setSystemTime(1_000_600);
    expect(await settled(read("k", s.compute))).toEqual({ v: "v1" });
    expect(await settled(read("k", s.compute))).toEqual({ v: "v1" });
    expect(s.calls).toBe(2);
    s.answer("v2");
    await new Promise((r) => setImmediate(r));
    expect(await read("k", s.compute)).toBe("v2");
    // The renewed value lives from when it was read (600): served until 1600, renewed from 1100.
    vi.setSystemTime(1_001_050);
    expect(await read("k", s.compute)).toBe("v2");
    expect(s.calls).toBe(2);
  });

  it("never serves a value read more than ttlMs ago, even while its renewal hangs", async () => {
    const read = sharedReads<string>(1000);
    const s = source();
    const first = read("k", s.compute);
    s.answer("old");
    await first;
    vi.setSystemTime(1_000_700);
    expect(await read("k", s.compute)).toBe("old"); // renewal started, never answered
    vi.setSystemTime(1_001_000);
    const late = read("k", s.compute);
    expect(await settled(late)).toBeUndefined(); // waits for a new read instead
    expect(s.calls).toBe(3);
    s.answer("renewal"); // the hung renewal (read at 700) answers: not what `late` gets
    s.answer("fresh");
    expect(await late).toBe("fresh");
    expect(await read("k", s.compute)).toBe("fresh");
  });

  it("serves nothing read before a write of this process, renewed or not", async () => {
    const read = sharedReads<string>(1000);
    const s = source();
    const first = read("k", s.compute);
    s.answer("before");
    await first;
    vi.setSystemTime(1_000_600);
    expect(await read("k", s.compute)).toBe("before"); // renewal under way
    readsChanged();
    s.answer("renewed-before-the-write");
    await new Promise((r) => setImmediate(r));
    const after = read("k", s.compute);
    expect(s.calls).toBe(3);
    s.answer("after");
    expect(await after).toBe("after");
  });

  it("keeps the value when a renewal fails, until it is ttlMs old", async () => {
    const read = sharedReads<string>(1000);
    let fail = false;
    let n = 0;
    const compute = () => (fail ? Promise.reject(new Error("db down")) : Promise.resolve(`v${++n}`));
    expect(await read("k", compute)).toBe("v1");
    fail = true;
    vi.setSystemTime(1_000_600);
    expect(await read("k", compute)).toBe("v1");
    await new Promise((r) => setImmediate(r));
    expect(await read("k", compute)).toBe("v1");
    vi.setSystemTime(1_001_000);
    await expect(read("k", compute)).rejects.toThrow("db down");
    fail = false;
    expect(await read("k", compute)).toBe("v2");
  });
  it("settled: the value `read` would serve, once read; nothing while it is read, stale or after a write", async () => {
    const read = sharedReads<string>(1000);
    const s = source();
    expect(read.settled("k", s.compute)).toBeUndefined();
    expect(s.calls).toBe(0); // starts no read
    const first = read("k", s.compute);
    expect(read.settled("k", s.compute)).toBeUndefined(); // being read
    s.answer("v1");
    await first;
    expect(read.settled("k", s.compute)).toEqual({ value: "v1" });
    // Second half of its life: served, and renewed as `read` renews it.
    vi.setSystemTime(1_000_600);
    expect(read.settled("k", s.compute)).toEqual({ value: "v1" });
    expect(s.calls).toBe(2);
    s.answer("v2");
    await new Promise((r) => setImmediate(r));
    expect(read.settled("k", s.compute)).toEqual({ value: "v2" });
    readsChanged();
    expect(read.settled("k", s.compute)).toBeUndefined();
    const again = read("k", s.compute);
    s.answer("v3");
    await again;
    vi.setSystemTime(1_001_600); // read at 600: a second old
    expect(read.settled("k", s.compute)).toBeUndefined();
    expect(s.calls).toBe(3);
  });
});

describe("batchedReads", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  /** A many-key read whose statements the test sees and answers one by one. */
  function many() {
    const statements: string[][] = [];
    const pending: Array<{ keys: string[]; answer: (tag: string, missing?: string[]) => void; fail: () => void }> = [];
    const readMany = (keys: string[]) => {
      statements.push(keys);
      return new Promise<Map<string, string>>((res, rej) =>
        pending.push({
          keys,
          answer: (tag, missing = []) =>
            res(new Map(keys.filter((k) => !missing.includes(k)).map((k) => [k, `${k}@${tag}`]))),
          fail: () => rej(new Error("db down")),
        }),
      );
    };
    return { readMany, statements, next: () => pending.shift()! };
  }
  const turn = () => new Promise((r) => setImmediate(r));
  const ms = (n: number) => new Promise((r) => setTimeout(r, n));

  it("reads every key asked for in a turn in one statement (maxKeys at most), each once, and serves them as read", async () => {
    const m = many();
    const r = batchedReads(m.readMany, { maxKeys: 3 });
    const asked = ["a", "b", "a", "c", "d", "b"].map((k) => r.read(k));
    expect(m.statements).toEqual([]); // nothing until the turn ends
    await turn();
    expect(m.statements).toEqual([["a", "b", "c"], ["d"]]);
    m.next().answer("1", ["c"]);
    m.next().answer("1");
    expect(await Promise.all(asked)).toEqual(["a@1", "b@1", "a@1", undefined, "d@1", "b@1"]);
    // Held now: answered at once, no statement.
    expect(r.settled("a")).toEqual({ value: "a@1" });
    expect(r.settled("c")).toEqual({ value: undefined });
    expect(await r.read("d")).toBe("d@1");
    expect(m.statements).toHaveLength(2);
  });

  it("renews the keys read in the second half of their life together, serving them meanwhile; nothing older than ttlMs", async () => {
    const m = many();
    const r = batchedReads(m.readMany, { ttlMs: 1000, renewEveryMs: 5 });
    const first = Promise.all(["a", "b", "c"].map((k) => r.read(k)));
    await turn();
    m.next().answer("1");
    await first;
    vi.setSystemTime(1_000_400);
    expect(r.settled("a")).toEqual({ value: "a@1" });
    await ms(20);
    expect(m.statements).toHaveLength(1); // first half: no renewal
    vi.setSystemTime(1_000_600);
    expect(["a", "b", "a"].map((k) => r.settled(k))).toEqual([{ value: "a@1" }, { value: "b@1" }, { value: "a@1" }]);
    await ms(20);
    expect(m.statements).toEqual([
      ["a", "b", "c"],
      ["a", "b"],
    ]);
    const renewal = m.next();
    // While the renewal is out, "a" is served until it is ttlMs old.
    vi.setSystemTime(1_000_999);
    expect(r.settled("a")).toEqual({ value: "a@1" });
    vi.setSystemTime(1_001_000);
    expect(r.settled("a")).toBeUndefined();
    const late = r.read("a"); // joins the renewal: what it reads is fresh
    await turn();
    expect(m.statements).toHaveLength(2);
    renewal.answer("2"); // read at 600: served until 1600
    expect(await late).toBe("a@2");
    expect(r.settled("a")).toEqual({ value: "a@2" });
    // A renewal that hangs is not joined once it was asked for ttlMs ago: a new statement instead.
    vi.setSystemTime(1_001_200);
    expect(r.settled("a")).toEqual({ value: "a@2" });
    await ms(20);
    expect(m.statements[2]).toEqual(["a"]);
    const hung = m.next();
    vi.setSystemTime(1_002_200);
    const after = r.read("a");
    await turn();
    expect(m.statements[3]).toEqual(["a"]);
    m.next().answer("4");
    expect(await after).toBe("a@4");
    hung.answer("3"); // older than what is held: not kept
    await turn();
    expect(r.settled("a")).toEqual({ value: "a@4" });
    expect(r.settled("c")).toBeUndefined(); // not renewed: read at 0
    vi.setSystemTime(1_001_600);
    expect(r.settled("b")).toBeUndefined();
  });

  it("serves nothing read before a write of this process, and fails only the readers of a failed statement", async () => {
    const m = many();
    const r = batchedReads(m.readMany);
    const a = r.read("a");
    await turn();
    m.next().answer("1");
    expect(await a).toBe("a@1");
    readsChanged();
    expect(r.settled("a")).toBeUndefined();
    const again = r.read("a");
    await turn();
    m.next().fail();
    await expect(again).rejects.toThrow("db down");
    // A read under way when a write commits is not served after it.
    const during = r.read("a");
    await turn();
    const statement = m.next();
    readsChanged();
    statement.answer("2");
    expect(await during).toBe("a@2"); // its reader asked before the write
    expect(r.settled("a")).toBeUndefined();
    const last = r.read("a");
    await turn();
    m.next().answer("3");
    expect(await last).toBe("a@3");
    expect(m.statements).toHaveLength(4);
  });
});

describe("RecentMap", () => {
  it("keeps the `keep` entries used last, holds at most twice that, and drops the oldest in bulk", () => {
    const m = new RecentMap<string, number>(5);
    for (let i = 0; i < 5; i++) m.set(`k${i}`, i);
    // The fifth filled the newer generation: all five are now the older one.
    expect(m.size).toBe(5);
    // k0 is read (moved to the newer); the rest of the older go when the newer fills up.
    expect(m.get("k0")).toBe(0);
    for (let i = 5; i < 9; i++) m.set(`k${i}`, i);
    expect(m.get("k0")).toBe(0);
    expect(m.get("k1")).toBeUndefined();
    m.set("k0", 100);
    expect(m.get("k0")).toBe(100);
    m.delete("k0");
    expect(m.get("k0")).toBeUndefined();
    for (let i = 0; i < 1000; i++) {
      m.set(`x${i}`, i);
      expect(m.size).toBeLessThanOrEqual(10);
      // The last five set are always there.
      for (let j = Math.max(0, i - 4); j <= i; j++) expect(m.get(`x${j}`)).toBe(j);
    }
  });

  it("reads a working set smaller than `keep` round after round without moving it", () => {
    const m = new RecentMap<string, number>(100);
    for (let i = 0; i < 99; i++) m.set(`t${i}`, i);
    const young = (m as unknown as { young: Map<string, number> }).young;
    for (let round = 0; round < 5; round++) for (let i = 0; i < 99; i++) expect(m.get(`t${i}`)).toBe(i);
    // Still the same generation: nothing was moved or dropped.
    expect((m as unknown as { young: Map<string, number> }).young).toBe(young);
    expect(m.size).toBe(99);
  });
});

describe("readsAfterAsking", () => {
  /** A read per key whose answers the test gives; each records how many had asked when it started. */
  function reads() {
    let asked = 0;
    const started: Array<{ key: string; askedBefore: number; answer: (v: number) => void; fail: (e: Error) => void }> =
      [];
    const read = readsAfterAsking(
      (key: string) => new Promise<number>((answer, fail) => started.push({ key, askedBefore: asked, answer, fail })),
    );
    return {
      ask: (key: string) => {
        asked++;
        return read(key);
      },
      started,
    };
  }
  const turn = () => new Promise((r) => setImmediate(r));

  it("serves everyone who asked before a read started with that read, and nobody from a read already under way", async () => {
    const r = reads();
    const a = r.ask("room1");
    const b = r.ask("room1");
    expect(r.started).toHaveLength(0);
    await turn();
    expect(r.started).toHaveLength(1);
    expect(r.started[0]!.askedBefore).toBe(2);
    // Asked while the first is under way: they wait for a read of their own, one for all of them.
    const c = r.ask("room1");
    const d = r.ask("room1");
    await turn();
    expect(r.started).toHaveLength(1);
    r.started[0]!.answer(1);
    expect(await a).toBe(1);
    expect(await b).toBe(1);
    await turn();
    expect(r.started).toHaveLength(2);
    expect(r.started[1]!.askedBefore).toBe(4);
    r.started[1]!.answer(2);
    expect([await c, await d]).toEqual([2, 2]);
    // Nothing kept: the next to ask starts a read again.
    const e = r.ask("room1");
    await turn();
    expect(r.started).toHaveLength(3);
    r.started[2]!.answer(3);
    expect(await e).toBe(3);
  });

  it("keeps keys apart, and a failed read fails only those who joined it", async () => {
    const r = reads();
    const a = r.ask("room1");
    const b = r.ask("room2");
    await turn();
    expect(r.started.map((s) => s.key)).toEqual(["room1", "room2"]);
    const c = r.ask("room1");
    r.started[0]!.fail(new Error("database gone"));
    r.started[1]!.answer(20);
    await expect(a).rejects.toThrow("database gone");
    expect(await b).toBe(20);
    await turn();
    expect(r.started).toHaveLength(3);
    r.started[2]!.answer(10);
    expect(await c).toBe(10);
  });
});

describe("readsAfterAsking with a gap", () => {
  it("starts a key's reads at most once per gap: the first at once, and at once again after a quiet gap", async () => {
    // A gap long enough that "at once" (under 100 ms) and "after the gap" stay apart on a busy machine.
    const starts: number[] = [];
    const read = readsAfterAsking((key: string) => {
      starts.push(Date.now());
      return Promise.resolve(key.length);
    }, 200);
    const t0 = Date.now();
    expect(await read("room1")).toBe(5);
    expect(starts[0]! - t0).toBeLessThan(100);
    // Asked right after: within the gap, so it waits for it; all who ask meanwhile share the read.
    const later = await Promise.all([read("room1"), read("room1"), read("room1")]);
    expect(later).toEqual([5, 5, 5]);
    expect(starts).toHaveLength(2);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(199);
    // Another key is not held back by it.
    const other = Date.now();
    await read("room22");
    expect(starts[2]! - other).toBeLessThan(100);
    // Once the gap is over, a read starts at once again.
    await new Promise((r) => setTimeout(r, 250));
    const again = Date.now();
    await read("room1");
    expect(starts[3]! - again).toBeLessThan(100);
  });
});

describe("readsAfterAsking with a gap of a fraction of a millisecond left", () => {
  it("waits the whole gap: timers count in whole milliseconds and can fire up to one early", async () => {
    const starts: number[] = [];
    const read = readsAfterAsking((key: string) => {
      starts.push(performance.now());
      return Promise.resolve(key.length);
    }, 5);
    let shortest = Infinity;
    for (let i = 0; i < 40; i++) {
      await read("room1");
      // Ask again a fraction of a millisecond later, so that what is left of the gap is fractional.
      const until = performance.now() + (i % 10) / 10;
      while (performance.now() < until);
      await read("room1");
      shortest = Math.min(shortest, starts.at(-1)! - starts.at(-2)!);
      // Past the gap, so the next round's first read starts at once.
      await new Promise((r) => setTimeout(r, 8));
    }
    expect(starts).toHaveLength(80);
    expect(shortest).toBeGreaterThanOrEqual(4.9);
  });
});

describe("readsAfterAsking when things go wrong", () => {
  it("a read that hangs holds the next one back only for stuckMs", async () => {
    let n = 0;
    const read = readsAfterAsking(() => (++n === 1 ? new Promise<number>(() => {}) : Promise.resolve(n)), 0, 50);
    void read("room1");
    await new Promise((r) => setImmediate(r));
    const t0 = performance.now();
    expect(await read("room1")).toBe(2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("a wall clock stepped back does not stretch the gap", async () => {
    const read = readsAfterAsking((key: string) => Promise.resolve(key), 40);
    await read("room1");
    const real = Date.now();
    const clock = vi.spyOn(Date, "now").mockReturnValue(real - 600_000);
    try {
      const t0 = performance.now();
      expect(await read("room1")).toBe("room1");
      expect(performance.now() - t0).toBeLessThan(1000);
    } finally {
      clock.mockRestore();
    }
  });
});
