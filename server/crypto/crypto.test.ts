import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "./passwords";
import { open, safeEqual, seal } from "./secretbox";

describe("passwords", () => {
  it("hashes with scrypt and a random salt; verifies only the right password", async () => {
    const a = await hashPassword("s3cret-pass");
    const b = await hashPassword("s3cret-pass");
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("s3cret-pass");
    expect(await verifyPassword("s3cret-pass", a)).toBe(true);
    expect(await verifyPassword("s3cret-Pass", a)).toBe(false);
    expect(await verifyPassword("x", "garbage")).toBe(false);
  });
});

describe("secret box", () => {
  it("encrypts at rest with authentication", () => {
    const s = seal("app-secret-value");
    expect(s).not.toContain("app-secret-value");
    expect(seal("app-secret-value")).not.toBe(s);
    expect(open(s)).toBe("app-secret-value");
    const parts = s.split(".");
    parts[3] = Buffer.from("tampered!!").toString("base64url");
    expect(() => open(parts.join("."))).toThrow();
  });
  it("compares in constant time, any lengths", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
  });
});
