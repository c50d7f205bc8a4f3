// Compact HS256 JWTs over node:crypto with the key imported once: verification is a pure function,
// cheap enough for a hook on every viewer join. Output uses only URL-safe characters.
import { createHmac, timingSafeEqual, type KeyObject } from "node:crypto";
import { RecentMap } from "../cache";
import { env } from "../env";
import { AppError } from "../errors";

const HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");

export function signJwt(payload: Record<string, unknown>, key: KeyObject): string {
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  const sig = createHmac("sha256", key).update(`${HEADER}.${body}`).digest("base64url");
  return `${HEADER}.${body}.${sig}`;
}

/**
 * Payloads of HS256 tokens whose signature checked out, per key: a client presents the same access
 * token with every request (a list page, a heartbeat), and its signature cannot change. As for
 * compact tokens (signedPayloads below), only the signature and the decoding are skipped on a hit
 * (4.8 µs a call, measured: 3-4 % of a room-list answer); expiry and the caller's revocation checks
 * run every time. The payload is frozen and shared. Bounded (VERIFIED_TOKENS_KEPT); the oldest go first.
 */
const signedJwts = new WeakMap<KeyObject, RecentMap<string, { exp: number }>>();

/** Checks signature and expiry (`exp`, seconds); TOKEN_EXPIRED is told apart from TOKEN_INVALID. The result is shared: never change it. */
export function verifyJwt<T extends { exp: number }>(token: string, key: KeyObject, nowMs: number): T {
  const payload = checkedOnce(signedJwts, key, token, () => jwtPayload<T>(token, key)) as T;
  if (payload.exp * 1000 <= nowMs) throw new AppError("TOKEN_EXPIRED", "Token expired");
  return payload;
}

/** The frozen payload of an HS256 token whose signature checks out and which has an expiry (not checked). */
function jwtPayload<T extends { exp: number }>(token: string, key: KeyObject): T {
  const a = token.indexOf(".");
  const b = token.indexOf(".", a + 1);
  if (a <= 0 || b <= a + 1 || token.indexOf(".", b + 1) !== -1 || token.length > 4096)
    throw new AppError("TOKEN_INVALID", "Malformed token");
  if (token.slice(0, a) !== HEADER) throw new AppError("TOKEN_INVALID", "Unsupported token header");
  const expected = createHmac("sha256", key).update(token.slice(0, b)).digest();
  const given = signatureBytes(token.slice(b + 1));
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new AppError("TOKEN_INVALID", "Bad token signature");
  let payload: T;
  try {
    payload = JSON.parse(Buffer.from(token.slice(a + 1, b), "base64url").toString("utf8")) as T;
  } catch {
    throw new AppError("TOKEN_INVALID", "Malformed token payload");
  }
  if (typeof payload?.exp !== "number") throw new AppError("TOKEN_INVALID", "Token has no expiry");
  return Object.freeze(payload);
}

/**
 * Compact signed tokens for URLs: `<base64url(JSON)>.<base64url(HMAC-SHA256 truncated to 128 bits)>`.
 * Play URLs must stay short: nginx-rtmp truncates a client's query arguments at 255 bytes.
 */
export function signCompact(payload: Record<string, unknown>, key: KeyObject): string {
  return signCompactBytes(Buffer.from(JSON.stringify(payload)), key);
}

/**
 * Payloads of compact tokens whose signature checked out, per decoder and key: a player or media
 * server presents the same token again and again (every hook, every verify), and its signature
 * cannot change. Only the signature and the decoding are skipped on a hit; expiry (and the caller's
 * revocation checks) run every time. Bounded; the oldest go first (RecentMap). Room tokens, which
 * every viewer presents, are kept apart, in columns (kept-room.ts).
 */
const signedPayloads = new WeakMap<object, WeakMap<KeyObject, RecentMap<string, { e: number }>>>();

/** A compact token's payload as JSON (the format of every compact token but room tokens). */
export function decodeJson<T extends { e: number }>(body: Buffer): T {
  let p: T;
  try {
    p = JSON.parse(body.toString("utf8")) as T;
  } catch {
    throw new AppError("TOKEN_INVALID", "Malformed token payload");
  }
  if (typeof p?.e !== "number") throw new AppError("TOKEN_INVALID", "Token has no expiry");
  return Object.freeze(p);
}

/**
 * Checks a compact token's signature (once per token and key, see signedPayloads), decodes its
 * payload with `decode` (JSON unless given; the result is shared: never change it) and its expiry
 * (`e`, seconds) against `nowMs`.
 */
export function verifyCompact<T extends { e: number }>(
  token: string,
  key: KeyObject,
  nowMs: number,
  decode: (body: Buffer) => T = decodeJson,
): T {
  let byKey = signedPayloads.get(decode);
  if (!byKey) signedPayloads.set(decode, (byKey = new WeakMap()));
  const p = checkedOnce(byKey, key, token, () => decode(compactBody(token, key))) as T;
  if (p.e * 1000 <= nowMs) throw new AppError("TOKEN_EXPIRED", "Token expired");
  return p;
}

/**
 * A token's checked payload: the one kept for its text under `key`, or `check`'s (which throws for a
 * token that does not check out), then kept. Bounded by VERIFIED_TOKENS_KEPT; the oldest go first.
 */
function checkedOnce<P>(
  cache: WeakMap<KeyObject, RecentMap<string, P>>,
  key: KeyObject,
  token: string,
  check: () => P,
) {
  let kept = cache.get(key);
  let p = kept?.get(token);
  if (p === undefined) {
    p = check();
    if (!kept) cache.set(key, (kept = new RecentMap<string, P>(env().VERIFIED_TOKENS_KEPT)));
    kept.set(token, p);
  }
  return p;
}

/** A compact token over a payload of bytes (room tokens' own format, tokens/room-bytes.ts). */
export function signCompactBytes(body: Buffer, key: KeyObject): string {
  const b = body.toString("base64url");
  return `${b}.${createHmac("sha256", key).update(b).digest().subarray(0, 16).toString("base64url")}`;
}

/** The payload bytes of a compact token whose signature checks out (nothing else checked). */
export function compactBody(token: string, key: KeyObject): Buffer {
  const dot = token.indexOf(".");
  if (dot <= 0 || token.indexOf(".", dot + 1) !== -1 || token.length > 1024)
    throw new AppError("TOKEN_INVALID", "Malformed token");
  const expected = createHmac("sha256", key).update(token.slice(0, dot)).digest().subarray(0, 16);
  const given = signatureBytes(token.slice(dot + 1));
  if (given.length !== 16 || !timingSafeEqual(given, expected))
    throw new AppError("TOKEN_INVALID", "Bad token signature");
  return Buffer.from(token.slice(0, dot), "base64url");
}

/**
 * A signature's bytes, from its one spelling. Node's base64url decoder skips characters outside the
 * alphabet, stops at "=" and ignores a last character's unused bits, so many strings decode to the
 * same signature: each would pass as a token of its own, and the caches above (keyed by the token's
 * text) would keep every one, letting the holder of one valid token fill them.
 */
function signatureBytes(text: string): Buffer {
  const bytes = Buffer.from(text, "base64url");
  if (bytes.toString("base64url") !== text) throw new AppError("TOKEN_INVALID", "Bad token signature");
  return bytes;
}
