import { getPriority } from "node:os";
import { describe, expect, it } from "vitest";
import { HASH_THREAD_NICE, hashThreadNices } from "./hash-threads";
import { hashPassword, legacyScryptHash, needsRehash, verifyPassword } from "./passwords";
import { open, safeEqual, seal } from "./secretbox";

describe("passwords", () => {
  it("hashes with argon2id (m=19 MiB, t=2, p=1) and a random salt; verifies only the right password", async () => {
    const a = await hashPassword("s3cret-pass");
    const b = await hashPassword("s3cret-pass");
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(needsRehash(a)).toBe(false);
    expect(a).not.toBe(b);
    expect(a).not.toContain("s3cret-pass");
    expect(await verifyPassword("s3cret-pass", a)).toBe(true);
    expect(await verifyPassword("s3cret-Pass", a)).toBe(false);
    expect(await verifyPassword("x", "garbage")).toBe(false);
    expect(await verifyPassword("x", "$argon2id$v=19$m=19456,t=2,p=1$broken")).toBe(false);
  });

  it("hashes on threads that run below the event loop's priority (Linux nices each thread)", async () => {
    // Two at once: both hashing threads are started.
    await Promise.all([hashPassword("a-pass-word"), hashPassword("b-pass-word")]);
    const nices = await hashThreadNices();
    expect(nices.length).toBeGreaterThanOrEqual(2);
    for (const n of nices) expect(n).toBe(Math.min(19, getPriority() + HASH_THREAD_NICE));
    // The process itself (its event loop) keeps its priority.
    expect(getPriority()).toBeLessThan(nices[0] as number);
  });

  it("still verifies the scrypt hashes of earlier versions, and marks them for a rehash", async () => {
    const old = await legacyScryptHash("s3cret-pass");
    expect(needsRehash(old)).toBe(true);
    expect(await verifyPassword("s3cret-pass", old)).toBe(true);
    expect(await verifyPassword("other-pass", old)).toBe(false);
    // A stored row cannot pick a cost of its own (memory per check).
    expect(await verifyPassword("s3cret-pass", old.replace("scrypt$32768$", "scrypt$1048576$"))).toBe(false);
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
