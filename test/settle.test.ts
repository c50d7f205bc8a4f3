// A page that hears "the stream is up" looks again until what it reads agrees, a bounded few times,
// and stops when told (a newer event, or the page goes away).
import { describe, expect, it } from "vitest";
import { agrees, settle } from "../components/live/settle";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("settle", () => {
  it("looks until a read agrees, then stops", async () => {
    const reads = [false, false, true];
    let looks = 0;
    settle(() => Promise.resolve(reads[looks++] ?? true), [0, 20, 20, 20]);
    await tick(150);
    expect(looks).toBe(3);
  });

  it("gives up after its last delay; a failed look counts as disagreeing", async () => {
    let looks = 0;
    settle(() => {
      looks++;
      return Promise.reject(new Error("network"));
    }, [0, 10, 10]);
    await tick(100);
    expect(looks).toBe(3);
  });

  it("stops when told, between looks", async () => {
    let looks = 0;
    const stop = settle(() => Promise.resolve((looks++, false)), [0, 50, 50]);
    await tick(10);
    stop();
    await tick(150);
    expect(looks).toBe(1);
  });

  it("agrees only on the same status and stream", () => {
    const seen = { status: "live", streamOnline: true };
    expect(agrees({ status: "live", streamOnline: true }, seen)).toBe(true);
    expect(agrees({ status: "live", streamOnline: false }, seen)).toBe(false);
    expect(agrees({ status: "paused", streamOnline: true }, seen)).toBe(false);
    expect(agrees(undefined, seen)).toBe(false);
  });
});
