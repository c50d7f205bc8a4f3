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
// Bounded by RecentMap (server/cache.ts): the last `keep` presented are kept for certain, up to
// twice as many are held, and the slots of those it forgets are reused.
import { Columns } from "../columns";
import { RecentMap } from "../cache";
import type { RoomClaims, RoomScope } from ".";

const SCOPE = 0;
const APP = 1;
const NUM = 2;
/** NaN: the token carries no member role. */
const MR = 3;
const IAT = 4;
const EXP = 5;
const FIELDS = 6;
// Its strings.
const ROOM = 0;
const SUB = 1;
/** Undefined: no stream name. */
const STREAM = 2;
const SCOPES: readonly RoomScope[] = ["play", "publish", "presence"];

export class KeptRoomTokens {
  private cols = new Columns(FIELDS, 3);
  private slots: RecentMap<string, number>;
  constructor(keep: number) {
    this.slots = new RecentMap(keep, (slot) => this.cols.remove(slot));
  }

  /** The claims kept for `token` (a new object each call), or undefined. */
  get(token: string): RoomClaims | undefined {
    const slot = this.slots.get(token);
    if (slot === undefined) return undefined;
    const c = this.cols;
    const mr = c.get(slot, MR);
    return {
      typ: "room",
      scope: SCOPES[c.get(slot, SCOPE)]!,
      app: c.get(slot, APP),
      room: c.text(slot, ROOM)!,
      num: c.get(slot, NUM),
      st: c.text(slot, STREAM),
      sub: c.text(slot, SUB)!,
      mr: Number.isNaN(mr) ? undefined : mr,
      iat: c.get(slot, IAT),
      exp: c.get(slot, EXP),
    };
  }

  /** Keeps a checked token's claims (copied: the object is not held); the caller found none kept. */
  set(token: string, claims: RoomClaims) {
    const c = this.cols;
    const slot = c.add();
    c.set(slot, SCOPE, SCOPES.indexOf(claims.scope));
    c.set(slot, APP, claims.app);
    c.set(slot, NUM, claims.num);
    c.set(slot, MR, claims.mr ?? NaN);
    c.set(slot, IAT, claims.iat);
    c.set(slot, EXP, claims.exp);
    c.setText(slot, ROOM, claims.room);
    c.setText(slot, SUB, claims.sub);
    c.setText(slot, STREAM, claims.st);
    this.slots.set(token, slot);
  }

  get size() {
    return this.slots.size;
  }
}
