// The console's session cookie read by the raw HTTP handlers (front, tRPC, REST): decoded once per
// cookie and kept, but its expiry, a sign-out, a disabled user and a tampered cookie count on every
// request as before.
import { describe, expect, it } from "vitest";
import { consoleSessionToken, makeTenant } from "../../test/helpers";
import { revokeSessionById } from "../accounts";
import { getDb } from "../db/client";
import { actorFromHeaders } from "./actor";

describe("console session cookies", () => {
  it("are decoded once and still refused when expired, signed out or tampered with", async () => {
    const t = await makeTenant();
    const maxAge = 3600;
    const { token, sid } = await consoleSessionToken(t.host, maxAge);
    const cookie = (value: string) => ({ cookie: `next-auth.session-token=${value}` });
    const now = new Date();
    const expected = { kind: "user", userId: t.host.userId, role: "host", appId: t.app.id, sessionId: sid };
    expect(await actorFromHeaders(cookie(token), now)).toEqual(expected);
    // Again (kept): the same actor; but not once it has expired by the caller's clock.
    expect(await actorFromHeaders(cookie(token), now)).toEqual(expected);
    const expiry = new Date(now.getTime() + maxAge * 1000 + 1000);
    expect(await actorFromHeaders(cookie(token), expiry)).toEqual({ kind: "anonymous" });
    // Tampered with: any byte of its ciphertext or tag.
    const parts = token.split(".");
    for (const i of [3, 4]) {
      const p = parts[i]!;
      const flipped = parts.map((x, k) => (k === i ? (p[0] === "A" ? "B" : "A") + p.slice(1) : x)).join(".");
      expect(await actorFromHeaders(cookie(flipped), now)).toEqual({ kind: "anonymous" });
    }
    // Signed out (its session revoked): refused from the next request on, kept or not.
    await revokeSessionById(getDb(), sid, new Date());
    expect(await actorFromHeaders(cookie(token), new Date())).toEqual({ kind: "anonymous" });
  });
});
