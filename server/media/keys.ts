// Stream names and publish keys. The public stream name appears in pull URLs; the publish key is
// an HMAC of the stream name and a key version, so it is never stored, can be shown to the host
// again, verifies without a database read (media servers need the answer synchronously), and a
// leaked one is revoked by bumping the room's key version.
import { createHmac, randomBytes } from "node:crypto";
import { tokenKey, derivedSecret } from "../crypto/keys";
import { safeEqual } from "../crypto/secretbox";
import { RecentMap } from "../cache";

export const newStreamName = () => `s${randomBytes(9).toString("hex")}`;

export function publishKey(room: { streamName: string; keyVersion: number }): string {
  const mac = createHmac("sha256", tokenKey())
    .update(`publish:${room.streamName}:${room.keyVersion}`)
    .digest("base64url");
  return `pk${room.keyVersion}_${mac.slice(0, 32)}`;
}

/**
 * Keys checked lately and what they proved (a version, or -1 for a forged key): a key's signature
 * says the same as long as the process runs (its HMAC key is fixed at start), and a media server
 * asks about the same few keys again and again (every hook of a publish, a retried hook, a flood of
 * one wrong key). Bounded: the last 5,000 kept.
 */
const checkedKeys = new RecentMap<string, number>(5000);

/** Checks a publish key's signature; returns its key version (the caller compares it with the room's). */
export function publishKeyVersion(streamName: string, given: string | undefined): number | undefined {
  const m = /^pk(\d{1,9})_[\w-]{32}$/.exec(given ?? "");
  if (!m) return undefined;
  const seen = `${streamName}/${given}`;
  let version = checkedKeys.get(seen);
  if (version === undefined) {
    const v = Number(m[1]);
    version = safeEqual(publishKey({ streamName, keyVersion: v }), given!) ? v : -1;
    checkedKeys.set(seen, version);
  }
  return version < 0 ? undefined : version;
}

/** The secret onair gives node-media-server for its own `sign` check (internal sessions only). */
export const nmsInternalSecret = () => derivedSecret("nms-internal-v1");

/** Stream names as media servers report them: "live/<name>", "/live/<name>", "<name>.flv", with a query. */
export function parseStreamPath(path: string): { app: string; name: string } | undefined {
  const clean = path
    .split("?")[0]!
    .replace(/^\/+/, "")
    .replace(/\.(flv|m3u8)$/, "");
  const parts = clean.split("/");
  if (parts.length === 1) return /^[\w-]{1,64}$/.test(parts[0]!) ? { app: "live", name: parts[0]! } : undefined;
  if (parts.length !== 2 || !/^[\w-]{1,64}$/.test(parts[1]!) || !/^[\w-]{1,64}$/.test(parts[0]!)) return undefined;
  return { app: parts[0]!, name: parts[1]! };
}

/** A room's channel password for Polyv push clients: 8 digits derived like the publish key. */
export function channelPassword(room: { streamName: string; keyVersion: number }) {
  const mac = createHmac("sha256", tokenKey()).update(`polyv-channel:${room.streamName}:${room.keyVersion}`).digest();
  return String(mac.readUIntBE(0, 6) % 100_000_000).padStart(8, "0");
}
