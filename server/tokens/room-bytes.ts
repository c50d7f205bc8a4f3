// Room tokens' payload as bytes (format 2): the claims a play URL carries in about half the
// characters of the JSON payload they had before (221 → 115 for a play token), which every media
// URL, every AUI `list` page (six URLs a room) and every check of the token pays for. Decoding is
// bounded and strict: any byte out of place is TOKEN_INVALID, never an exception of another kind.
//
//   0       format (2)
//   1       flags: bits 0–1 scope, 2 stream name, 3 member role, 4 room id is a UUID,
//           bits 5–6 member id: 0 a UUID, 1 guest:<UUID>, 2 text
//   …       app, room number (varints); room id (16 bytes, or a varint length and UTF-8);
//           member id (16 bytes, or a varint length and UTF-8); issued at, in ms (varint);
//           lifetime, in s after the issuing second (varint); [member role (varint)];
//           [stream name: 0 and 9 bytes for onair's own "s" + 18 hex digits, or 1, a length and UTF-8]
import { AppError } from "../errors";

export const ROOM_BYTES_FORMAT = 2;

export interface RoomBytesClaims {
  scope: 0 | 1 | 2;
  app: number;
  num: number;
  room: string;
  sub: string;
  /** Issued at, milliseconds. */
  iatMs: number;
  /** Expiry, seconds. */
  exp: number;
  st?: string;
  mr?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OWN_STREAM = /^s[0-9a-f]{18}$/;
/** Any longer text in a token is not one onair signed. */
const MAX_TEXT = 255;

const invalid = () => new AppError("TOKEN_INVALID", "Malformed token payload");

class Writer {
  private bytes: number[] = [];
  byte(b: number) {
    this.bytes.push(b);
  }
  varint(n: number) {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a varint: ${n}`);
    while (n >= 0x80) {
      this.bytes.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.bytes.push(n);
  }
  raw(b: Uint8Array) {
    for (const x of b) this.bytes.push(x);
  }
  text(s: string) {
    const b = Buffer.from(s, "utf8");
    if (b.length > MAX_TEXT) throw new Error("text too long for a room token");
    this.varint(b.length);
    this.raw(b);
  }
  done() {
    return Buffer.from(this.bytes);
  }
}

class Reader {
  private at = 0;
  constructor(private b: Buffer) {}
  byte() {
    if (this.at >= this.b.length) throw invalid();
    return this.b[this.at++]!;
  }
  varint() {
    let n = 0;
    let scale = 1;
    // At most 8 bytes: 56 bits, within a double's exact integers.
    for (let i = 0; i < 8; i++) {
      const x = this.byte();
      n += (x & 0x7f) * scale;
      if (x < 0x80) return n;
      scale *= 0x80;
    }
    throw invalid();
  }
  raw(n: number) {
    if (this.at + n > this.b.length) throw invalid();
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  text() {
    const n = this.varint();
    if (n > MAX_TEXT) throw invalid();
    return this.raw(n).toString("utf8");
  }
  end() {
    if (this.at !== this.b.length) throw invalid();
  }
}

const uuidBytes = (id: string) => Buffer.from(id.replace(/-/g, ""), "hex");
const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");
const uuidScratch = Buffer.alloc(64);
/**
 * 16 bytes as a UUID's text, after `prefix` (ASCII) if given, as one flat string. Claims are kept
 * per verified token (100,000 viewers: 100,000 of them) and their ids are map keys on every beat:
 * joined from slices, a UUID was a tree of ten strings (about 330 bytes of heap, and objects for
 * every full garbage collection to mark), where one flat string takes 48.
 */
export const uuidText = (b: Buffer, prefix = "") => {
  if (b.length !== 16 || prefix.length > uuidScratch.length - 36) throw new Error("uuidText: 16 bytes, a short prefix");
  let o = uuidScratch.write(prefix, 0, "latin1");
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) uuidScratch[o++] = 0x2d;
    const x = b[i]!;
    uuidScratch[o++] = HEX_DIGITS[x >> 4]!;
    uuidScratch[o++] = HEX_DIGITS[x & 15]!;
  }
  return uuidScratch.toString("latin1", 0, o);
};

export function encodeRoomBytes(c: RoomBytesClaims): Buffer {
  const w = new Writer();
  const roomUuid = UUID.test(c.room);
  const guest = c.sub.startsWith("guest:") && UUID.test(c.sub.slice(6));
  const subKind = guest ? 1 : UUID.test(c.sub) ? 0 : 2;
  w.byte(ROOM_BYTES_FORMAT);
  w.byte(c.scope | (c.st !== undefined ? 4 : 0) | (c.mr !== undefined ? 8 : 0) | (roomUuid ? 16 : 0) | (subKind << 5));
  w.varint(c.app);
  w.varint(c.num);
  if (roomUuid) w.raw(uuidBytes(c.room));
  else w.text(c.room);
  if (subKind === 2) w.text(c.sub);
  else w.raw(uuidBytes(guest ? c.sub.slice(6) : c.sub));
  w.varint(c.iatMs);
  w.varint(c.exp - Math.floor(c.iatMs / 1000));
  if (c.mr !== undefined) w.varint(c.mr);
  if (c.st !== undefined) {
    if (OWN_STREAM.test(c.st)) {
      w.byte(0);
      w.raw(Buffer.from(c.st.slice(1), "hex"));
    } else {
      w.byte(1);
      w.text(c.st);
    }
  }
  return w.done();
}

export function decodeRoomBytes(b: Buffer): RoomBytesClaims {
  const r = new Reader(b);
  if (r.byte() !== ROOM_BYTES_FORMAT) throw invalid();
  const flags = r.byte();
  const scope = flags & 3;
  const subKind = (flags >> 5) & 3;
  if (scope === 3 || subKind === 3 || flags & 0x80) throw invalid();
  const app = r.varint();
  const num = r.varint();
  const room = flags & 16 ? uuidText(r.raw(16)) : r.text();
  const sub = subKind === 2 ? r.text() : uuidText(r.raw(16), subKind === 1 ? "guest:" : "");
  const iatMs = r.varint();
  const exp = Math.floor(iatMs / 1000) + r.varint();
  const c: RoomBytesClaims = { scope: scope as 0 | 1 | 2, app, num, room, sub, iatMs, exp };
  if (flags & 8) c.mr = r.varint();
  if (flags & 4) {
    const kind = r.byte();
    if (kind === 0) c.st = `s${r.raw(9).toString("hex")}`;
    else if (kind === 1) c.st = r.text();
    else throw invalid();
  }
  r.end();
  return c;
}
