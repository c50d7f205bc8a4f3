// Password hashing with scrypt (memory-hard, in node:crypto): N=2^15, r=8, p=1 uses 32 MiB per hash.
// Hashes run in libuv's pool, at most PASSWORD_HASH_CONCURRENCY at a time per process, with a
// bounded queue: a burst of sign-ins waits its turn or is told to come back, never starves the rest.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { env } from "../env";
import { AppError } from "../errors";

const MAX_WAITING = 256;
let active = 0;
const waiting: Array<() => void> = [];

/** Runs `fn` when a hashing slot is free; TOO_MANY_REQUESTS when the queue is full. */
async function gated<T>(fn: () => Promise<T>): Promise<T> {
  if (active < env().PASSWORD_HASH_CONCURRENCY) active++;
  else {
    if (waiting.length >= MAX_WAITING)
      throw new AppError("TOO_MANY_REQUESTS", "Too many sign-ins at once; try again shortly", { retryAfterS: 1 });
    // The slot is handed over by the finishing hash (active stays counted).
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else active--;
  }
}

const scrypt = (pw: string, salt: Buffer, len: number, opts: ScryptOptions) =>
  gated(
    () =>
      new Promise<Buffer>((resolve, reject) =>
        scryptCb(pw, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))),
      ),
  );

const PARAMS = { N: 1 << 15, r: 8, p: 1 };
const KEYLEN = 32;
const maxmem = 128 * PARAMS.N * PARAMS.r * 2;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize("NFKC"), salt, KEYLEN, { ...PARAMS, maxmem });
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, "base64url");
  const expected = Buffer.from(parts[5]!, "base64url");
  const key = await scrypt(password.normalize("NFKC"), salt, expected.length, {
    N,
    r,
    p,
    maxmem: 128 * N * r * 2,
  });
  return timingSafeEqual(key, expected);
}

/** A hash to compare against when the user does not exist, so timing does not reveal usernames. */
let dummy: Promise<string> | undefined;
export const dummyHash = () => (dummy ??= hashPassword(randomBytes(16).toString("hex")));
