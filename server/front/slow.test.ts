import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { slowGuard } from "./slow";

describe("slowGuard", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function socket(max = 100) {
    const s = { buffered: 0, drops: 0 };
    const g = slowGuard(
      () => s.buffered,
      max,
      () => s.drops++,
      2000,
    );
    return { s, g };
  }

  it("a write that finds the socket over the limit drops it at once", () => {
    const { s, g } = socket();
    expect(g.check()).toBe(true);
    s.buffered = 101;
    expect(g.check()).toBe(false);
    expect(s.drops).toBe(1);
  });

  it("a socket left over the limit by the last write is dropped after the grace, with no later write", () => {
    const { s, g } = socket();
    expect(g.check()).toBe(true);
    s.buffered = 5000; // one burst, then nothing more to send
    g.wrote();
    vi.advanceTimersByTime(1999);
    expect(s.drops).toBe(0);
    vi.advanceTimersByTime(1);
    expect(s.drops).toBe(1);
  });

  it("a reader that drains within the grace keeps its socket; a later burst gets a grace of its own", () => {
    const { s, g } = socket();
    s.buffered = 5000;
    g.wrote();
    vi.advanceTimersByTime(500);
    s.buffered = 0;
    vi.advanceTimersByTime(5000);
    expect(s.drops).toBe(0);
    s.buffered = 5000;
    g.wrote();
    vi.advanceTimersByTime(2000);
    expect(s.drops).toBe(1);
  });

  it("a write that finds the socket drained ends the last burst's grace: the next burst gets a whole one", () => {
    const { s, g } = socket();
    s.buffered = 5000;
    g.wrote();
    vi.advanceTimersByTime(1900);
    s.buffered = 0; // drained
    expect(g.check()).toBe(true); // the next write
    s.buffered = 5000; // another burst
    g.wrote();
    vi.advanceTimersByTime(200); // where the first burst's grace would have ended
    expect(s.drops).toBe(0);
    vi.advanceTimersByTime(1800);
    expect(s.drops).toBe(1);
  });

  it("writes under the limit arm nothing, and stop() disarms a pending grace", () => {
    const { s, g } = socket();
    s.buffered = 100;
    g.wrote();
    expect(vi.getTimerCount()).toBe(0);
    s.buffered = 101;
    g.wrote();
    g.wrote();
    expect(vi.getTimerCount()).toBe(1);
    g.stop();
    vi.advanceTimersByTime(10_000);
    expect(s.drops).toBe(0);
  });
});
