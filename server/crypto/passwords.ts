// Password hashing with argon2id at OWASP's recommended cost (m = 19 MiB, t = 2, p = 1), on threads
// of their own at a lower CPU priority (hash-threads.ts), never on the event loop and never before
// it when the cores are busy. Hashes made earlier with scrypt
// (N=2^15, below OWASP's scrypt minimum) still verify and are replaced at the next sign-in
// (needsRehash). At most PASSWORD_HASH_CONCURRENCY hashes run at a time per process, with a bounded
// queue: a burst of sign-ins waits its turn or is told to come back, never starves the rest.
import { randomBytes, timingSafeEqual, type ScryptOptions } from "node:crypto";
import type { Algorithm } from "@node-rs/argon2";
import { env } from "../env";
import { AppError } from "../errors";
import { runHashJob } from "./hash-threads";

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

const scrypt = (password: string, salt: Buffer, len: number, options: ScryptOptions & Record<string, number>) =>
  gated(() => runHashJob<Uint8Array>({ op: "scrypt", password, salt, len, options })).then((k) => Buffer.from(k));

/** OWASP's cheaper recommended argon2id setting (Password Storage Cheat Sheet). */
// Algorithm.Argon2id is 2 (a const enum, which verbatimModuleSyntax cannot import as a value).
export const ARGON2 = { algorithm: 2 as Algorithm, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const CURRENT_PREFIX = `$argon2id$v=19$m=${ARGON2.memoryCost},t=${ARGON2.timeCost},p=${ARGON2.parallelism}$`;

export async function hashPassword(password: string): Promise<string> {
  return gated(() => runHashJob<string>({ op: "argon2-hash", password: password.normalize("NFKC"), options: ARGON2 }));
}

/** Whether a stored hash is of an older kind or cost, to be replaced when its password is next given. */
export const needsRehash = (stored: string) => !stored.startsWith(CURRENT_PREFIX);

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const pw = password.normalize("NFKC");
  if (stored.startsWith("$argon2"))
    return gated(() => runHashJob<boolean>({ op: "argon2-verify", stored, password: pw }));
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  // Only the costs onair ever wrote: a stored row must not choose how much memory a check takes.
  if (N !== 1 << 15 || r !== 8 || p !== 1) return false;
  const salt = Buffer.from(parts[4]!, "base64url");
  const expected = Buffer.from(parts[5]!, "base64url");
  if (expected.length !== 32) return false;
  const key = await scrypt(pw, salt, expected.length, { N, r, p, maxmem: 128 * N * r * 2 });
  return timingSafeEqual(key, expected);
}

/** A legacy scrypt hash (for tests of the upgrade path). */
export async function legacyScryptHash(password: string): Promise<string> {
  const salt = randomBytes(16);
  const N = 1 << 15;
  const key = await scrypt(password.normalize("NFKC"), salt, 32, { N, r: 8, p: 1, maxmem: 128 * N * 8 * 2 });
  return `scrypt$${N}$8$1$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** A hash to compare against when the user does not exist, so timing does not reveal usernames. */
let dummy: Promise<string> | undefined;
export const dummyHash = () => (dummy ??= hashPassword(randomBytes(16).toString("hex")));
