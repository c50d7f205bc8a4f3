// Room tokens whose signature checked out, kept in columns: a viewer's heartbeats and its player's
// hooks present the same token again and again, and its signature cannot change. Only the signature
// and the decoding are skipped on a hit; expiry, scope, room and revocation are checked every time.
//
// A token's claims are kept as numbers in one Float64Array and three strings (room, member, stream)
// in an array, and each hit makes the caller a claims object of its own, which dies young. Kept as
// one frozen object a token (eleven fields, and its `iat` a number object of its own), they were the
// front's largest share of what a whole collection of its heap has to mark: measured in process at
// 100,000 viewers, about 25 ms of it, against a few for the columns and the map of slots.
//
// Bounded as RecentMap (server/cache.ts) is: the last `keep` presented are kept for certain, up to
// twice as many are held; when the young map is full, the old one's tokens (none presented since)
// are dropped and their slots reused.
import type { RoomClaims, RoomScope } from ".";

const SCOPE = 0;
const APP = 1;
const NUM = 2;
/** NaN: the token carries no member role. */
const MR = 3;
const IAT = 4;
const EXP = 5;
const FIELDS = 6;
const SCOPES: readonly RoomScope[] = ["play", "publish", "presence"];

export class KeptRoomTokens {
  private young = new Map<string, number>();
  private old = new Map<string, number>();
  private cols = new Float64Array(0);
  /** Per slot: room id, member id, stream name (undefined: none, or a free slot). */
  private strs: Array<string | undefined> = [];
  private free: number[] = [];
  /** Slots made so far (in use or free). */
  private slots = 0;
  private readonly generation: number;
  constructor(keep: number) {
    this.generation = Math.max(1, Math.floor(keep));
  }

  /** The claims kept for `token` (a new object each call), or undefined. */
  get(token: string): RoomClaims | undefined {
    let slot = this.young.get(token);
    if (slot === undefined) {
      slot = this.old.get(token);
      if (slot === undefined) return undefined;
      this.old.delete(token);
      this.keepYoung(token, slot);
    }
    const c = this.cols;
    const at = slot * FIELDS;
    const s = slot * 3;
    const mr = c[at + MR]!;
    return {
      typ: "room",
      scope: SCOPES[c[at + SCOPE]!]!,
      app: c[at + APP]!,
      room: this.strs[s]!,
      num: c[at + NUM]!,
      st: this.strs[s + 2],
      sub: this.strs[s + 1]!,
      mr: Number.isNaN(mr) ? undefined : mr,
      iat: c[at + IAT]!,
      exp: c[at + EXP]!,
    };
  }

  /** Keeps a checked token's claims (copied: the object is not held). */
  set(token: string, claims: RoomClaims) {
    if (this.young.has(token) || this.old.has(token)) return;
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.slots++;
      this.strs.push(undefined, undefined, undefined);
      if (this.slots * FIELDS > this.cols.length) {
        const grown = new Float64Array(Math.max(1024, this.slots * 2) * FIELDS);
        grown.set(this.cols);
        this.cols = grown;
      }
    }
    const c = this.cols;
    const at = slot * FIELDS;
    c[at + SCOPE] = SCOPES.indexOf(claims.scope);
    c[at + APP] = claims.app;
    c[at + NUM] = claims.num;
    c[at + MR] = claims.mr ?? NaN;
    c[at + IAT] = claims.iat;
    c[at + EXP] = claims.exp;
    const s = slot * 3;
    this.strs[s] = claims.room;
    this.strs[s + 1] = claims.sub;
    this.strs[s + 2] = claims.st;
    this.keepYoung(token, slot);
  }

  get size() {
    return this.young.size + this.old.size;
  }

  private keepYoung(token: string, slot: number) {
    this.young.set(token, slot);
    if (this.young.size < this.generation) return;
    // The old map's tokens were not presented for a whole generation: dropped, their slots freed.
    for (const dropped of this.old.values()) {
      const s = dropped * 3;
      this.strs[s] = this.strs[s + 1] = this.strs[s + 2] = undefined;
      this.free.push(dropped);
    }
    this.old = this.young;
    this.young = new Map();
  }
}
