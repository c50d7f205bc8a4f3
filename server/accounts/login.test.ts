// Sign-in cannot be used to starve the server or guess passwords: batches are bounded, failures
// per account and attempts per address are limited on the shared store (429 with Retry-After), and
// a flood from one address costs no password hashing beyond its allowance.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { legacyScryptHash } from "../crypto/passwords";
import { getDb } from "../db/client";
import { resetEnvForTests } from "../env";
import { users } from "../db/schema";
import { createTrpcHandler } from "../web/trpc";
import { awayFromWindowEdge, makeTenant, PASSWORD, serve, uniq, type Tenant } from "../../test/helpers";

let t: Tenant;
let server: Awaited<ReturnType<typeof serve>>;
let base: string;
// The limit these tests check (the suite's setup raises it for everybody else's sign-ins).
const suiteLimit = process.env.LOGIN_ATTEMPTS_PER_ADDRESS;
beforeAll(async () => {
  process.env.LOGIN_ATTEMPTS_PER_ADDRESS = "30";
  resetEnvForTests();
  t = await makeTenant();
  const trpc = createTrpcHandler();
  server = await serve((req, res) => void trpc(req, res));
  base = server.base;
});
afterAll(() => {
  if (suiteLimit === undefined) delete process.env.LOGIN_ATTEMPTS_PER_ADDRESS;
  else process.env.LOGIN_ATTEMPTS_PER_ADDRESS = suiteLimit;
  resetEnvForTests();
  return server.close();
});

const login = (username: string, password: string, from: string) =>
  fetch(`${base}/api/trpc/auth.login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": from },
    body: JSON.stringify({ username, password }),
  });
const addr = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;

describe("password hashes", () => {
  it("an account hashed with scrypt by an earlier version signs in and is rehashed with argon2id", async () => {
    const db = getDb();
    await db
      .update(users)
      .set({ passwordHash: await legacyScryptHash(PASSWORD) })
      .where(eq(users.id, t.admin.userId));
    expect((await login(t.admin.username, "wrong-password", addr())).status).toBe(401);
    const stillOld = (await db.select().from(users).where(eq(users.id, t.admin.userId)))[0]!;
    expect(stillOld.passwordHash).toMatch(/^scrypt\$/); // a wrong password changes nothing
    expect((await login(t.admin.username, PASSWORD, addr())).status).toBe(200);
    const row = (await db.select().from(users).where(eq(users.id, t.admin.userId)))[0]!;
    expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await login(t.admin.username, PASSWORD, addr())).status).toBe(200);
  });
});

describe("sign-in limits", () => {
  it("refuses a batch larger than TRPC_MAX_BATCH at once, without hashing", async () => {
    const calls = 200;
    const paths = Array.from({ length: calls }, () => "auth.login").join(",");
    const input = Object.fromEntries(
      Array.from({ length: calls }, (_, i) => [i, { username: t.viewer.username, password: "wrong-password" }]),
    );
    const started = Date.now();
    const r = await fetch(`${base}/api/trpc/${paths}?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    expect(r.status).toBe(400);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("locks an account after repeated failures, from any address, with Retry-After", async () => {
    await awayFromWindowEdge(15 * 60);
    for (let i = 0; i < 10; i++) expect((await login(t.host2.username, "wrong-password", addr())).status).toBe(401);
    const locked = await login(t.host2.username, PASSWORD, addr());
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await locked.json()) as { error: { data: { appCode: string } } }).error.data.appCode).toBe(
      "TOO_MANY_REQUESTS",
    );
    // Other accounts are not affected.
    expect((await login(t.viewer2.username, PASSWORD, addr())).status).toBe(200);
  });

  it("a flood from one address is cut off before hashing and does not delay others", async () => {
    await awayFromWindowEdge(60, 25);
    const flooder = "203.0.113.9";
    const flood = Array.from({ length: 120 }, () => login(uniq("nobody"), "wrong-password", flooder));
    const started = Date.now();
    const real = await login(t.admin.username, PASSWORD, "192.0.2.44");
    const realMs = Date.now() - started;
    const statuses = await Promise.all(flood.map(async (p) => (await p).status));
    expect(real.status).toBe(200);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(120 - 30);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(30);
    expect(realMs).toBeLessThan(5000);
  }, 60_000);
});
