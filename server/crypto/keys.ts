// Keys derived once per process from the configured secrets (HKDF), one per purpose.
import { createSecretKey, hkdfSync, type KeyObject } from "node:crypto";
import { env } from "../env";

const cache = new Map<string, KeyObject>();

function derive(secret: string, purpose: string): KeyObject {
  const k = `${purpose}\0${secret}`;
  let key = cache.get(k);
  if (!key) {
    key = createSecretKey(Buffer.from(hkdfSync("sha256", secret, "onair", purpose, 32)));
    cache.set(k, key);
  }
  return key;
}

export const tokenKey = () => derive(env().AUTH_SECRET, "tokens-v1");
export const secretBoxKey = () => derive(env().ENCRYPTION_KEY, "secret-box-v1");
/** next-auth gets its own derived secret (a string) so its cookies cannot be replayed as API tokens. */
export const nextAuthSecret = () => derive(env().AUTH_SECRET, "next-auth-v1").export().toString("base64url");
/** A string secret for one purpose, derived from AUTH_SECRET. */
export const derivedSecret = (purpose: string) => derive(env().AUTH_SECRET, purpose).export().toString("hex");
