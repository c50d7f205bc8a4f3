// The audience chart: one label per tick (samples every 10 s used to repeat "20:01" six times) and
// a line that drops to zero when the room ends instead of holding its last count.
import { describe, expect, it } from "vitest";
import { audienceChart } from "../lib/chart";

const start = Date.UTC(2026, 11, 3, 12, 0, 0);
const every10s = (n: number, online = (i: number) => i % 7) =>
  Array.from({ length: n }, (_, i) => ({ at: new Date(start + i * 10_000).toISOString(), online: online(i) }));

describe("audience chart", () => {
  for (const [what, n] of [
    ["two minutes", 12],
    ["ten minutes", 60],
    ["two hours", 720],
  ] as const)
    it(`labels its ticks without repeating any over ${what} of samples`, () => {
      const c = audienceChart(every10s(n), { status: "live" }, "en-US");
      const labels = c.ticks.map(c.label);
      expect(c.ticks.length).toBeGreaterThanOrEqual(2);
      expect(c.ticks.length).toBeLessThanOrEqual(8);
      expect(new Set(labels).size).toBe(labels.length);
      for (const tick of c.ticks) {
        expect(tick).toBeGreaterThanOrEqual(c.data[0]!.at);
        expect(tick).toBeLessThanOrEqual(c.data.at(-1)!.at);
      }
    });

  it("drops to zero when the room ended", () => {
    const samples = every10s(12, () => 5);
    const stoppedAt = new Date(start + 125_000).toISOString();
    const c = audienceChart(samples, { status: "ended", stoppedAt }, "en-US");
    expect(c.data.at(-1)).toEqual({ at: start + 125_000, online: 0 });
    expect(c.data.slice(0, -1).every((d) => d.online === 5)).toBe(true);
    // A live room's last value is its current count.
    expect(audienceChart(samples, { status: "live" }, "en-US").data.at(-1)!.online).toBe(5);
  });
});
