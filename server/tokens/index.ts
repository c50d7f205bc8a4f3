// Access tokens (SDK bearer) and room tokens (play / publish / presence), signed with HS256.
// Verification never touches the database: signature, expiry, audience and the in-memory
// revocation mirror (see revocations.ts).
import { AppError } from "../errors";
import { tokenKey } from "../crypto/keys";
import type { Role } from "../db/schema";
import type { KeyObject } from "node:crypto";
import { env } from "../env";
import { compactBody, decodeJson, signCompactBytes, signJwt, verifyJwt } from "./jwt";
import { KeptRoomTokens } from "./kept-room";
import { decodeRoomBytes, encodeRoomBytes, uuidText } from "./room-bytes";
import { revocationSet } from "./revocations";

export interface AccessClaims {
  typ: "access";
  sub: string;
  app: number | null;
  role: Role;
  sid: string;
  iat: number;
  exp: number;
}

export const ROOM_SCOPES = ["play", "publish", "presence"] as const;
export type RoomScope = (typeof ROOM_SCOPES)[number];

export interface RoomClaims {
  typ: "room";
  scope: RoomScope;
  app: number;
  /** Room string id and number. */
  room: string;
  num: number;
  /** Public stream name (play/publish tokens): a token plays only its own stream. */
  st?: string;
  /** Member id: a user id or guest:<uuid>. */
  sub: string;
  /** Member role code (1 host, 0 viewer, 2 co-host) for presence tokens. */
  mr?: number;
  iat: number;
  exp: number;
}

/** iat is fractional seconds (allowed by RFC 7519) so revocation "before" compares at ms precision. */
const iat = (now: Date) => now.getTime() / 1000;

export function signAccessToken(c: Omit<AccessClaims, "typ" | "iat" | "exp">, now: Date, ttlS: number) {
  const claims: AccessClaims = { typ: "access", ...c, iat: iat(now), exp: Math.floor(now.getTime() / 1000) + ttlS };
  return { token: signJwt({ ...claims }, tokenKey()), expiresAt: new Date(claims.exp * 1000) };
}

function notRevoked(kind: "session" | "user" | "member", subject: string, iatS: number) {
  if (iatS * 1000 <= revocationSet.revokedBefore(kind, subject))
    throw new AppError("TOKEN_INVALID", "Token has been revoked");
}

/** Every token of a disabled app is refused, whatever its kind (access, room, vendor tokens). */
export function assertAppLive(appId: number | null) {
  if (revocationSet.appDisabled(appId)) throw new AppError("DISABLED", "This app is disabled");
}

export function verifyAccessToken(token: string, now: Date): AccessClaims {
  const c = verifyJwt<AccessClaims>(token, tokenKey(), now.getTime());
  if (c.typ !== "access" || typeof c.sub !== "string" || typeof c.sid !== "string")
    throw new AppError("TOKEN_INVALID", "Not an access token");
  assertAccessNotRevoked(c);
  return c;
}

/** The revocation checks of an access token (its session, its user, its app), expiry aside. */
export function assertAccessNotRevoked(c: AccessClaims) {
  notRevoked("session", c.sid, c.iat);
  notRevoked("user", c.sub, c.iat);
  assertAppLive(c.app);
}

const SCOPE_NUMBER: Record<RoomScope, 0 | 1 | 2> = { play: 0, publish: 1, presence: 2 };

/** Room tokens use the compact format (see jwt.ts) over a payload of bytes (room-bytes.ts): they travel in media URLs. */
export function signRoomToken(c: Omit<RoomClaims, "typ" | "iat" | "exp">, now: Date, ttlS: number) {
  const iatMs = now.getTime();
  const exp = Math.floor(iatMs / 1000) + ttlS;
  const body = encodeRoomBytes({
    scope: SCOPE_NUMBER[c.scope],
    app: c.app,
    num: c.num,
    room: c.room,
    sub: c.sub,
    iatMs,
    exp,
    st: c.st,
    mr: c.mr,
  });
  return { token: signCompactBytes(body, tokenKey()), expiresAt: new Date(exp * 1000) };
}

function decodeRoom(body: Buffer): RoomClaims {
  // Tokens signed before the byte format carry JSON (`{`): they stay valid until they expire.
  return body[0] === 0x7b ? legacyClaims(body) : bytesClaims(body);
}

function bytesClaims(body: Buffer): RoomClaims {
  const b = decodeRoomBytes(body);
  return {
    typ: "room",
    scope: ROOM_SCOPES[b.scope],
    app: b.app,
    room: b.room,
    num: b.num,
    st: b.st,
    sub: b.sub,
    mr: b.mr,
    iat: b.iatMs / 1000,
    exp: b.exp,
  };
}

// The JSON payload of room tokens signed before the byte format.
const SCOPE_OF: Record<string, RoomScope> = { p: "play", b: "publish", r: "presence" };
const unpackId = (s: string) => {
  if (s.startsWith("=")) return s.slice(1);
  return uuidText(Buffer.from(s.slice(1), "base64url"), s[0] === "g" ? "guest:" : "");
};
interface Packed {
  k: string;
  a: number;
  r: string;
  n: number;
  s?: string;
  u: string;
  m?: number;
  i: number;
  e: number;
}

function legacyClaims(body: Buffer): RoomClaims {
  const p = decodeJson<Packed>(body);
  const scope = SCOPE_OF[p.k];
  if (
    !scope ||
    typeof p.n !== "number" ||
    typeof p.u !== "string" ||
    typeof p.r !== "string" ||
    typeof p.i !== "number" ||
    typeof p.a !== "number"
  )
    throw new AppError("TOKEN_INVALID", "Not a room token");
  return {
    typ: "room",
    scope,
    app: p.a,
    room: unpackId(p.r),
    num: p.n,
    st: p.s,
    sub: unpackId(p.u),
    mr: p.m,
    iat: p.i,
    exp: p.e,
  };
}

/** Room tokens whose signature checked out, per key (./kept-room.ts). */
const keptRoomTokens = new WeakMap<KeyObject, KeptRoomTokens>();

/** A room token's claims (a new object): its signature checked once (then kept), its expiry every time. */
function checkedRoomClaims(token: string, nowMs: number): RoomClaims {
  const key = tokenKey();
  let kept = keptRoomTokens.get(key);
  if (!kept) keptRoomTokens.set(key, (kept = new KeptRoomTokens(env().VERIFIED_TOKENS_KEPT)));
  let c = kept.get(token);
  if (c === undefined) {
    c = decodeRoom(compactBody(token, key));
    kept.set(token, c);
  }
  if (c.exp * 1000 <= nowMs) throw new AppError("TOKEN_EXPIRED", "Token expired");
  return c;
}

export const memberSubject = (roomNum: number, memberId: string) => `${roomNum}:${memberId}`;

/**
 * Whether a room token's holder has been revoked since it was issued (kicked, user or app
 * disabled), its expiry aside: media already flowing to them is cut when this turns true.
 */
export function roomClaimsRevoked(c: RoomClaims): boolean {
  const ms = c.iat * 1000;
  return (
    ms <= revocationSet.revokedBefore("member", memberSubject(c.num, c.sub)) ||
    (!c.sub.startsWith("guest:") && ms <= revocationSet.revokedBefore("user", c.sub)) ||
    revocationSet.appDisabled(c.app)
  );
}

/**
 * Verifies a room token for one scope and, when given, one room (by id or number): signature,
 * expiry, scope, room, and revocation (kicked member, disabled user).
 */
export function verifyRoomToken(
  token: string,
  expect: { scope: RoomScope; room?: string; num?: number; stream?: string },
  now: Date,
): RoomClaims {
  const c = checkedRoomClaims(token, now.getTime());
  if (c.scope !== expect.scope) throw new AppError("TOKEN_INVALID", `Token is not valid for ${expect.scope}`);
  if (
    (expect.room !== undefined && c.room !== expect.room) ||
    (expect.num !== undefined && c.num !== expect.num) ||
    (expect.stream !== undefined && c.st !== expect.stream)
  )
    throw new AppError("TOKEN_INVALID", "Token is for another room");
  notRevoked("member", memberSubject(c.num, c.sub), c.iat);
  if (!c.sub.startsWith("guest:")) notRevoked("user", c.sub, c.iat);
  assertAppLive(c.app);
  return c;
}
