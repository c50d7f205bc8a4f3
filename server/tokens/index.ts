// Access tokens (SDK bearer) and room tokens (play / publish / presence), signed with HS256.
// Verification never touches the database: signature, expiry, audience and the in-memory
// revocation mirror (see revocations.ts).
import { AppError } from "../errors";
import { tokenKey } from "../crypto/keys";
import type { Role } from "../db/schema";
import { signJwt, verifyJwt } from "./jwt";
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

export function verifyAccessToken(token: string, now: Date): AccessClaims {
  const c = verifyJwt<AccessClaims>(token, tokenKey(), now.getTime());
  if (c.typ !== "access" || typeof c.sub !== "string" || typeof c.sid !== "string")
    throw new AppError("TOKEN_INVALID", "Not an access token");
  notRevoked("session", c.sid, c.iat);
  notRevoked("user", c.sub, c.iat);
  return c;
}

export function signRoomToken(c: Omit<RoomClaims, "typ" | "iat" | "exp">, now: Date, ttlS: number) {
  const claims: RoomClaims = { typ: "room", ...c, iat: iat(now), exp: Math.floor(now.getTime() / 1000) + ttlS };
  return { token: signJwt({ ...claims }, tokenKey()), expiresAt: new Date(claims.exp * 1000) };
}

export const memberSubject = (roomNum: number, memberId: string) => `${roomNum}:${memberId}`;

/**
 * Verifies a room token for one scope and, when given, one room (by id or number): signature,
 * expiry, scope, room, and revocation (kicked member, disabled user).
 */
export function verifyRoomToken(
  token: string,
  expect: { scope: RoomScope; room?: string; num?: number; stream?: string },
  now: Date,
): RoomClaims {
  const c = verifyJwt<RoomClaims>(token, tokenKey(), now.getTime());
  if (c.typ !== "room" || typeof c.sub !== "string" || typeof c.num !== "number")
    throw new AppError("TOKEN_INVALID", "Not a room token");
  if (c.scope !== expect.scope) throw new AppError("TOKEN_INVALID", `Token is not valid for ${expect.scope}`);
  if (
    (expect.room !== undefined && c.room !== expect.room) ||
    (expect.num !== undefined && c.num !== expect.num) ||
    (expect.stream !== undefined && c.st !== expect.stream)
  )
    throw new AppError("TOKEN_INVALID", "Token is for another room");
  notRevoked("member", memberSubject(c.num, c.sub), c.iat);
  if (!c.sub.startsWith("guest:")) notRevoked("user", c.sub, c.iat);
  return c;
}
