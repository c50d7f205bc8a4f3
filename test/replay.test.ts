// The replay's URL renewal (lib/replay.ts): what a watch page keeps between looks at media.replay.
// In a browser this happens after 45 minutes; here the clocks are given.
import { describe, expect, it } from "vitest";
import { keepUrls, nextLook, RENEW_BEFORE_MS, type ReplayAnswer } from "../lib/replay";

const MIN = 60_000;
const server = Date.UTC(2026, 11, 5, 2, 0, 0);
/** The browser's clock runs 7 minutes ahead of the server's. */
const skew = 7 * MIN;

function answer(at: number, items: Array<[id: string, url: string, lifeMs: number | null]>, pending = 0): ReplayAnswer {
  return {
    now: at,
    pending,
    items: items.map(([id, url, life]) => ({ id, url, expiresAt: life === null ? null : at + life })),
  };
}

describe("keepUrls", () => {
  it("moves expiries to the browser's clock and keeps a URL while its token has a while to run", () => {
    const first = keepUrls(undefined, answer(server, [["r1", "u1", 60 * MIN]]), server + skew);
    expect(first.items[0]).toEqual({ id: "r1", url: "u1", expiresAt: server + skew + 60 * MIN });
    // Five minutes later the server signs again: the old URL stays (a new one would restart the video).
    const later = keepUrls(first, answer(server + 5 * MIN, [["r1", "u2", 60 * MIN]]), server + skew + 5 * MIN);
    expect(later.items[0]).toEqual({ id: "r1", url: "u1", expiresAt: server + skew + 60 * MIN });
  });

  it("takes the new URL once less than RENEW_BEFORE_MS is left of the old one's token", () => {
    const first = keepUrls(undefined, answer(server, [["r1", "u1", 60 * MIN]]), server + skew);
    const at = 60 * MIN - RENEW_BEFORE_MS + 1;
    const near = keepUrls(first, answer(server + at, [["r1", "u2", 60 * MIN]]), server + skew + at);
    expect(near.items[0]).toEqual({ id: "r1", url: "u2", expiresAt: server + skew + at + 60 * MIN });
    // Just before that point it was still kept.
    const before = keepUrls(first, answer(server + at - 2, [["r1", "u2", 60 * MIN]]), server + skew + at - 2);
    expect(before.items[0]!.url).toBe("u1");
  });

  it("with tokens shorter than an hour, renews at a quarter of their life", () => {
    const life = 8 * MIN;
    const first = keepUrls(undefined, answer(server, [["r1", "u1", life]]), server);
    const kept = keepUrls(first, answer(server + 5 * MIN, [["r1", "u2", life]]), server + 5 * MIN);
    expect(kept.items[0]!.url).toBe("u1"); // 3 min left of 8: more than a quarter
    const renewed = keepUrls(first, answer(server + 6.5 * MIN, [["r1", "u2", life]]), server + 6.5 * MIN);
    expect(renewed.items[0]!.url).toBe("u2"); // 1.5 min left: less than 2
  });

  it("a part that became ready is added; a URL that never expires is kept; a part gone is gone", () => {
    const first = keepUrls(
      undefined,
      answer(server, [
        ["r1", "u1", null],
        ["r2", "v1", 60 * MIN],
      ]),
      server,
    );
    const next = keepUrls(
      first,
      answer(server + 59 * MIN, [
        ["r1", "u2", null],
        ["r3", "w1", 60 * MIN],
      ]),
      server + 59 * MIN,
    );
    expect(next.items.map((i) => [i.id, i.url])).toEqual([
      ["r1", "u1"],
      ["r3", "w1"],
    ]);
  });
});

describe("nextLook", () => {
  it("looks every 5 s while a part is pending or nothing is ready, else at a quarter of the shortest token's life, 5 min at most", () => {
    expect(nextLook(undefined)).toBe(5000);
    expect(nextLook(answer(server, []), server)).toBe(5000);
    expect(nextLook(answer(server, [["r1", "u1", 60 * MIN]], 1), server)).toBe(5000);
    expect(nextLook(answer(server, [["r1", "u1", 60 * MIN]]), server)).toBe(5 * MIN);
    expect(
      nextLook(
        answer(server, [
          ["r1", "u1", 60 * MIN],
          ["r2", "v1", 8 * MIN],
        ]),
        server,
      ),
    ).toBe(2 * MIN);
    expect(nextLook(answer(server, [["r1", "u1", 10_000]]), server)).toBe(5000);
    expect(nextLook(answer(server, [["r1", "u1", null]]), server)).toBe(5 * MIN);
  });
});
