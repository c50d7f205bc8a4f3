// Reused room tokens (tokens/reuse.ts): handed out again only for the same holder and claims, and
// never past half their life, whatever the TTL is set to.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyRoomToken } from ".";
import { REUSE_MS, reusedRoomToken } from "./reuse";

const claims = () => ({
  scope: "play" as const,
  app: 1,
  room: randomUUID(),
  num: 100 + Math.floor(Math.random() * 1e9),
  st: "s1",
  sub: `guest:${randomUUID()}`,
});

describe("reusedRoomToken", () => {
  it("hands the same token out for a minute with the usual TTL, then signs a new one", () => {
    const c = claims();
    const t0 = new Date("2026-12-06T10:00:00Z");
    const first = reusedRoomToken(c, t0, 3600);
    expect(reusedRoomToken(c, new Date(t0.getTime() + REUSE_MS - 1), 3600).token).toBe(first.token);
    expect(reusedRoomToken({ ...c, sub: `guest:${randomUUID()}` }, t0, 3600).token).not.toBe(first.token);
    const later = reusedRoomToken(c, new Date(t0.getTime() + REUSE_MS), 3600);
    expect(later.token).not.toBe(first.token);
    expect(later.expiresAt.getTime()).toBe(t0.getTime() + REUSE_MS + 3600_000);
  });

  it("with a TTL under two minutes, never hands out a token past half its life (none expired)", () => {
    const c = claims();
    const t0 = new Date("2026-12-06T10:00:00Z");
    const ttlS = 20;
    const first = reusedRoomToken(c, t0, ttlS);
    const at = (ms: number) => new Date(t0.getTime() + ms);
    expect(reusedRoomToken(c, at(9_999), ttlS).token).toBe(first.token);
    for (const ms of [10_000, 25_000, 59_000]) {
      const t = reusedRoomToken(c, at(ms), ttlS);
      // Valid now, for at least half the TTL.
      expect(verifyRoomToken(t.token, { scope: "play", room: c.room }, at(ms)).sub).toBe(c.sub);
      expect(t.expiresAt.getTime() - at(ms).getTime()).toBeGreaterThanOrEqual((ttlS * 1000) / 2);
    }
  });
});
