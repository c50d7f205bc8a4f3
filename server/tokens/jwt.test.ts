import { createSecretKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signJwt, verifyJwt } from "./jwt";

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
