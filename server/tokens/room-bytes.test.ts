import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { tokenKey } from "../crypto/keys";
import { AppError } from "../errors";
import { signRoomToken, verifyRoomToken, type RoomClaims } from ".";
import { signCompact, signCompactBytes } from "./jwt";
import { decodeRoomBytes, encodeRoomBytes, uuidText, type RoomBytesClaims } from "./room-bytes";

const code = (f: () => unknown) => {
  try {
    f();
    return "ok";
  } catch (e) {
    return e instanceof AppError ? e.code : `not an AppError: ${String(e)}`;
  }
};

describe("room token bytes", () => {
  it("writes 16 bytes as a UUID's text, after a prefix when given", () => {
    const b = Buffer.from("00ff10a9b2c3d4e5f60718293a4b5c6d", "hex");
    expect(uuidText(b)).toBe("00ff10a9-b2c3-d4e5-f607-18293a4b5c6d");
    expect(uuidText(b, "guest:")).toBe("guest:00ff10a9-b2c3-d4e5-f607-18293a4b5c6d");
    const id = randomUUID();
    expect(uuidText(Buffer.from(id.replace(/-/g, ""), "hex"))).toBe(id);
    expect(() => uuidText(b.subarray(1))).toThrow();
  });

  const base: RoomBytesClaims = {
    scope: 0,
    app: 1,
    num: 1,
    room: randomUUID(),
    sub: randomUUID(),
    iatMs: 1_796_374_915_623,
    exp: 1_796_382_115,
  };
  it("round-trips every kind of claim", () => {
    const cases: RoomBytesClaims[] = [
      base,
      { ...base, scope: 1, st: "s0123456789abcdef01" },
      { ...base, scope: 2, sub: `guest:${randomUUID()}`, mr: 0 },
      { ...base, sub: "sxb-user 你好", mr: 2, st: "custom/Stream-名" },
      { ...base, room: "not-a-uuid", app: 4_294_967_295, num: Number.MAX_SAFE_INTEGER },
      { ...base, sub: `guest:${"x".repeat(10)}`, st: "S0123456789ABCDEF01" },
      { ...base, iatMs: 0, exp: 1 },
    ];
    for (const c of cases) expect(decodeRoomBytes(encodeRoomBytes(c))).toEqual(c);
  });
  it("refuses any body out of shape with TOKEN_INVALID", () => {
    const good = encodeRoomBytes({ ...base, st: "s0123456789abcdef01", mr: 1 });
    for (let n = 0; n < good.length; n++)
      expect(code(() => decodeRoomBytes(good.subarray(0, n)))).toBe("TOKEN_INVALID");
    expect(code(() => decodeRoomBytes(Buffer.concat([good, Buffer.from([0])])))).toBe("TOKEN_INVALID");
    expect(code(() => decodeRoomBytes(Buffer.from([3, ...good.subarray(1)])))).toBe("TOKEN_INVALID");
    // A varint that never ends, a scope that does not exist, a text longer than any onair signs.
    expect(code(() => decodeRoomBytes(Buffer.from([2, 0, ...Array(9).fill(0xff)])))).toBe("TOKEN_INVALID");
    expect(code(() => decodeRoomBytes(Buffer.from([2, 3, 1, 1])))).toBe("TOKEN_INVALID");
    expect(code(() => decodeRoomBytes(Buffer.from([2, 0, 1, 1, 0xff, 0x01, ...Array(300).fill(97)])))).toBe(
      "TOKEN_INVALID",
    );
    // Random bodies: decoded or refused, never another kind of failure.
    for (let i = 0; i < 2000; i++) {
      const r = randomBytes(1 + (i % 80));
      r[0] = 2;
      expect(["ok", "TOKEN_INVALID"]).toContain(code(() => decodeRoomBytes(r)));
    }
  });
});

describe("room tokens", () => {
  const now = new Date();
  const claims = {
    scope: "play" as const,
    app: 12,
    room: randomUUID(),
    num: 12_345,
    st: "s0123456789abcdef01",
    sub: randomUUID(),
  };
  it("are short enough for six to a listed room and any media server's query limit", () => {
    const t = signRoomToken(claims, now, 7200).token;
    expect(t).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    // 221 characters with the JSON payload they had before.
    expect(t.length).toBeLessThanOrEqual(120);
    const c = verifyRoomToken(t, { scope: "play", room: claims.room, stream: claims.st }, now);
    expect({ ...c }).toMatchObject({ ...claims, typ: "room", iat: now.getTime() / 1000 });
    expect(c.exp).toBe(Math.floor(now.getTime() / 1000) + 7200);
    expect(code(() => verifyRoomToken(t, { scope: "play" }, new Date(now.getTime() + 7201_000)))).toBe("TOKEN_EXPIRED");
  });
  it("signed with the JSON payload before the byte format still verify, with the same claims", () => {
    const hex = (id: string) => Buffer.from(id.replace(/-/g, ""), "hex").toString("base64url");
    const guest = randomUUID();
    const iat = now.getTime() / 1000;
    const legacy = signCompact(
      { k: "r", a: 12, r: `u${hex(claims.room)}`, n: 12_345, u: `g${hex(guest)}`, m: 0, i: iat, e: iat + 60 },
      tokenKey(),
    );
    const c: RoomClaims = verifyRoomToken(legacy, { scope: "presence", num: 12_345 }, now);
    expect({ ...c }).toMatchObject({ room: claims.room, sub: `guest:${guest}`, mr: 0, iat, app: 12 });
    // A JSON payload that is not a room token's is refused, not half read.
    const stranger = signCompact({ k: "l", a: 12, e: iat + 60 }, tokenKey());
    expect(code(() => verifyRoomToken(stranger, { scope: "play" }, now))).toBe("TOKEN_INVALID");
  });
  it("refuses a signed body of another format or with bytes to spare", () => {
    const body = encodeRoomBytes({
      scope: 0,
      app: 12,
      num: 1,
      room: claims.room,
      sub: claims.sub,
      iatMs: now.getTime(),
      exp: Math.floor(now.getTime() / 1000) + 60,
    });
    expect(code(() => verifyRoomToken(signCompactBytes(body, tokenKey()), { scope: "play" }, now))).toBe("ok");
    const extra = signCompactBytes(Buffer.concat([body, Buffer.from([1])]), tokenKey());
    expect(code(() => verifyRoomToken(extra, { scope: "play" }, now))).toBe("TOKEN_INVALID");
    const other = signCompactBytes(Buffer.from([9, ...body.subarray(1)]), tokenKey());
    expect(code(() => verifyRoomToken(other, { scope: "play" }, now))).toBe("TOKEN_INVALID");
  });
});
