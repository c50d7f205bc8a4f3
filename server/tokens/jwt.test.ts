import { createSecretKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { memberSubject, signAccessToken, signRoomToken, verifyAccessToken, verifyRoomToken } from ".";
import { signCompact, signJwt, verifyCompact, verifyJwt } from "./jwt";
import { revocationSet } from "./revocations";

const key = createSecretKey(Buffer.from("k".repeat(32)));
const other = createSecretKey(Buffer.from("o".repeat(32)));
const code = (f: () => unknown) => {
  try {
    f();
    return "ok";
  } catch (e) {
    return (e as { code: string }).code;
  }
};

describe("HS256 tokens", () => {
  const now = 1_800_000_000_000;
  const tok = signJwt({ sub: "u", exp: now / 1000 + 60 }, key);

  it("round-trips and uses only URL-safe characters", () => {
    expect(tok).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyJwt<{ sub: string; exp: number }>(tok, key, now).sub).toBe("u");
  });
  it("tells expired from invalid", () => {
    expect(code(() => verifyJwt(tok, key, now + 61_000))).toBe("TOKEN_EXPIRED");
    expect(code(() => verifyJwt(tok, other, now))).toBe("TOKEN_INVALID");
    const [h, p, s] = tok.split(".");
    const forged = Buffer.from(JSON.stringify({ sub: "admin", exp: now / 1000 + 60 })).toString("base64url");
    expect(code(() => verifyJwt(`${h}.${forged}.${s}`, key, now))).toBe("TOKEN_INVALID");
    expect(code(() => verifyJwt(`${h}.${p}`, key, now))).toBe("TOKEN_INVALID");
    expect(code(() => verifyJwt(`${tok}.x`, key, now))).toBe("TOKEN_INVALID");
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    expect(code(() => verifyJwt(`${none}.${p}.`, key, now))).toBe("TOKEN_INVALID");
    expect(code(() => verifyJwt(signJwt({ sub: "u" }, key), key, now))).toBe("TOKEN_INVALID");
  });
});

describe("HS256 tokens checked again (signatures kept per key)", () => {
  const now = 1_800_000_000_000;
  it("still expire, are still refused under another key or when altered, and are never changed by a caller", () => {
    const tok = signJwt({ sub: "viewer", exp: now / 1000 + 60 }, key);
    expect(verifyJwt<{ sub: string; exp: number }>(tok, key, now).sub).toBe("viewer");
    const p = verifyJwt<{ sub: string; exp: number }>(tok, key, now); // kept
    expect(p.sub).toBe("viewer");
    expect(code(() => verifyJwt(tok, key, now + 60_000))).toBe("TOKEN_EXPIRED");
    expect(code(() => verifyJwt(tok, other, now))).toBe("TOKEN_INVALID");
    const [h, , s] = tok.split(".");
    const forged = Buffer.from(JSON.stringify({ sub: "admin", exp: now / 1000 + 60 })).toString("base64url");
    expect(code(() => verifyJwt(`${h}.${forged}.${s}`, key, now))).toBe("TOKEN_INVALID");
    expect(code(() => verifyJwt(`${tok}x`, key, now))).toBe("TOKEN_INVALID");
    expect(() => ((p as { sub: string }).sub = "admin")).toThrow(TypeError);
    expect(verifyJwt<{ sub: string; exp: number }>(tok, key, now).sub).toBe("viewer");
  });
  it("take a signature in its one spelling only (others decode to the same bytes and would each be kept)", () => {
    const tok = signJwt({ sub: "viewer", exp: now / 1000 + 60 }, key);
    const sig = tok.slice(tok.lastIndexOf(".") + 1);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // A 43-character signature's last character carries 2 unused bits.
    const sameBits = alphabet[alphabet.indexOf(sig.at(-1)!) ^ 1]!;
    const spellings = [`${tok}=`, `${tok}!!`, `${tok}=x`, `${tok.slice(0, -1)}${sameBits}`];
    for (const t of spellings) {
      expect(Buffer.from(t.slice(t.lastIndexOf(".") + 1), "base64url").equals(Buffer.from(sig, "base64url"))).toBe(
        true,
      );
      expect(code(() => verifyJwt(t, key, now))).toBe("TOKEN_INVALID");
    }
    expect(verifyJwt<{ sub: string; exp: number }>(tok, key, now).sub).toBe("viewer");
    const compact = signCompact({ u: "viewer", e: now / 1000 + 60 }, key);
    for (const t of [`${compact}=`, `${compact}~~`])
      expect(code(() => verifyCompact(t, key, now))).toBe("TOKEN_INVALID");
  });
  it("access tokens are refused once their session is revoked, after a check that passed", () => {
    const at = new Date();
    const sid = "0b6f2d4a-8c1e-4f3a-9b7d-5e2c1a0f9d8e";
    const t = signAccessToken({ sub: "5c3e1a9b-7d2f-4e8a-b6c4-1f0e9d8c7b6a", app: null, role: "viewer", sid }, at, 600);
    expect(verifyAccessToken(t.token, at).sid).toBe(sid);
    expect(verifyAccessToken(t.token, at).sid).toBe(sid); // kept
    revocationSet.apply("session", sid, at.getTime() + 1);
    expect(code(() => verifyAccessToken(t.token, at))).toBe("TOKEN_INVALID");
  });
});

describe("compact tokens checked again (signatures kept per key)", () => {
  const now = 1_800_000_000_000;
  it("still expire, are still refused under another key or when altered, and are never changed by a caller", () => {
    const tok = signCompact({ u: "viewer", e: now / 1000 + 60 }, key);
    expect(verifyCompact<{ u: string; e: number }>(tok, key, now).u).toBe("viewer");
    expect(verifyCompact<{ u: string; e: number }>(tok, key, now).u).toBe("viewer"); // kept
    expect(code(() => verifyCompact(tok, key, now + 60_000))).toBe("TOKEN_EXPIRED");
    expect(code(() => verifyCompact(tok, other, now))).toBe("TOKEN_INVALID");
    const [body, sig] = tok.split(".");
    const forged = Buffer.from(JSON.stringify({ u: "admin", e: now / 1000 + 60 })).toString("base64url");
    expect(code(() => verifyCompact(`${forged}.${sig}`, key, now))).toBe("TOKEN_INVALID");
    expect(code(() => verifyCompact(`${body}.${sig}x`, key, now))).toBe("TOKEN_INVALID");
    const p = verifyCompact<{ u: string; e: number }>(tok, key, now);
    expect(() => ((p as { u: string }).u = "admin")).toThrow(TypeError);
    expect(verifyCompact<{ u: string; e: number }>(tok, key, now).u).toBe("viewer");
  });
});

describe("room tokens checked again", () => {
  it("are refused once their holder is revoked, after a check that passed", () => {
    const at = new Date();
    const room = "2f1e7f1c-6d2a-4b8e-9a51-0c7d3e5b9a10";
    const sub = "7a9c2b4e-1f3d-4c5a-8e6b-9d0f1a2b3c4d";
    const t = signRoomToken({ scope: "play", app: 987_654, room, num: 987_654, st: "s1", sub }, at, 600);
    expect(verifyRoomToken(t.token, { scope: "play", room }, at).sub).toBe(sub);
    revocationSet.apply("member", memberSubject(987_654, sub), at.getTime() + 1);
    expect(code(() => verifyRoomToken(t.token, { scope: "play", room }, at))).toBe("TOKEN_INVALID");
    expect(code(() => verifyRoomToken(t.token, { scope: "publish", room }, at))).toBe("TOKEN_INVALID");
  });
});
