// The kept room tokens' columns against the map they replaced (RecentMap of claims objects): the
// same tokens kept and dropped, each with its own claims, whatever slots are reused.
import { describe, expect, it } from "vitest";
import { RecentMap } from "../cache";
import type { RoomClaims } from ".";
import { KeptRoomTokens } from "./kept-room";

const claims = (i: number): RoomClaims => ({
  typ: "room",
  scope: (["play", "publish", "presence"] as const)[i % 3]!,
  app: 1 + (i % 7),
  room: `room-${i % 11}`,
  num: 1000 + (i % 11),
  st: i % 2 ? `stream${i}` : undefined,
  sub: i % 5 ? `guest:${i}` : `user-${i}`,
  mr: i % 4 === 0 ? undefined : i % 3,
  iat: 1_796_000_000.123 + i / 1000,
  exp: 1_796_003_600 + i,
});

describe("KeptRoomTokens", () => {
  it("gives each hit a claims object of its own, equal to what was kept", () => {
    const kept = new KeptRoomTokens(10);
    kept.set("t1", claims(1));
    kept.set("t4", claims(4));
    const a = kept.get("t1")!;
    expect(a).toEqual(claims(1));
    (a as { sub: string }).sub = "changed by a caller";
    expect(kept.get("t1")).toEqual(claims(1));
    expect(kept.get("t4")).toEqual(claims(4)); // no role, no stream: undefined, as signed
    expect(kept.get("t2")).toBeUndefined();
  });

  it("keeps and drops the same tokens as RecentMap, each with its own claims, over random use", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const keep of [1, 3, 50]) {
      const kept = new KeptRoomTokens(keep);
      const model = new RecentMap<string, RoomClaims>(keep);
      for (let op = 0; op < 20_000; op++) {
        const i = Math.floor(random() * keep * 6);
        const token = `token-${i}`;
        if (random() < 0.5) {
          // A check: a kept token is a hit, another is checked and kept (as verifyRoomToken does).
          const hit = kept.get(token);
          expect(hit).toEqual(model.get(token));
          if (!hit) {
            kept.set(token, claims(i));
            model.set(token, claims(i));
          }
        } else expect(kept.get(token)).toEqual(model.get(token));
        expect(kept.size).toBe(model.size);
        expect(kept.size).toBeLessThanOrEqual(2 * keep);
      }
    }
  });
});
