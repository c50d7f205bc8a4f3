// Room tokens reused per holder and room for a short while: a list that signs a play token for its
// caller on every listed room (AUI `list`, polled by every client) signs each one at most once a
// minute per process instead of on every call. A token is only ever handed back for the very claims
// it holds (its holder first of all), and a reused token is checked against revocations as any
// presented token is: once its holder was kicked, disabled or its app disabled, a fresh one is
// signed, as before. The token handed out expires as signed: at least ttl − REUSE_MS from now, and
// at least half its ttl.
import { RecentMap } from "../cache";
import { roomClaimsRevoked, signRoomToken, type RoomClaims } from ".";
import { revocationSet } from "./revocations";

/** How long a signed token is handed out again. */
export const REUSE_MS = 60_000;
/** Tokens kept at most (the oldest dropped in bulk, RecentMap; the last half used surely): about 300 bytes each. */
const MAX_KEPT = 20_000;

type Claims = Omit<RoomClaims, "typ" | "iat" | "exp">;
interface Signed {
  token: string;
  expiresAt: Date;
  ttlS: number;
  claims: RoomClaims;
  /** The revocations' version at which the token was last found not revoked (./revocations.ts). */
  clearAt: number;
}
/** By holder and room number; the other claims are compared on a hit. */
const kept = new RecentMap<string, Signed>(MAX_KEPT / 2);

const sameClaims = (a: RoomClaims, b: Claims) =>
  a.sub === b.sub &&
  a.num === b.num &&
  a.scope === b.scope &&
  a.app === b.app &&
  a.room === b.room &&
  a.st === b.st &&
  a.mr === b.mr;

/** Checked against the revocations again only when they changed since it was last found clear. */
function stillClear(s: Signed) {
  const v = revocationSet.version;
  if (s.clearAt === v) return true;
  if (roomClaimsRevoked(s.claims)) return false;
  s.clearAt = v;
  return true;
}

/** signRoomToken, reusing the same holder's token for the same room and claims for up to REUSE_MS. */
export function reusedRoomToken(c: Claims, now: Date, ttlS: number): { token: string; expiresAt: Date } {
  const key = `${c.sub} ${c.num}`;
  const nowMs = now.getTime();
  const hit = kept.get(key);
  if (hit) {
    const signedAt = hit.claims.iat * 1000;
    if (
      nowMs >= signedAt &&
      // Never past half its life: with a short PLAY_TOKEN_TTL_S (10 s at least) a minute's reuse
      // would hand out tokens already expired.
      nowMs - signedAt < Math.min(REUSE_MS, (ttlS * 1000) / 2) &&
      hit.ttlS === ttlS &&
      sameClaims(hit.claims, c) &&
      stillClear(hit)
    )
      return hit;
    kept.delete(key);
  }
  const signed = signRoomToken(c, now, ttlS);
  kept.set(key, {
    ...signed,
    ttlS,
    // Not checked yet (a revocation in the very millisecond it was signed would cover it).
    clearAt: -1,
    claims: { typ: "room", ...c, iat: nowMs / 1000, exp: Math.floor(signed.expiresAt.getTime() / 1000) },
  });
  return signed;
}
