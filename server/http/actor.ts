// Who a raw HTTP request comes from: a Bearer access token (SDK clients) or the console's
// next-auth session cookie. A bad bearer token is an error (expired told apart from invalid);
// no credentials at all is the anonymous actor.
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { decode } from "next-auth/jwt";
import type { Actor } from "../actor";
import { consoleTokenOf, consoleTokenRevoked, sessionCookieName, type ConsoleToken } from "../auth/nextauth";
import { RecentMap } from "../cache";
import { nextAuthSecret } from "../crypto/keys";
import { env } from "../env";
import { verifyAccessToken } from "../tokens";

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    if (!k || k in out) continue;
    try {
      out[k] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      out[k] = part.slice(i + 1).trim();
    }
  }
  return out;
}

const LOOPBACK = ["127.0.0.1", "::1", "::ffff:127.0.0.1"];

/** The reverse proxies of TRUST_PROXY, as peer addresses ("loopback" names the three loopback forms). */
export function trustedProxies(): Set<string> {
  const out = new Set<string>();
  for (const entry of env()
    .TRUST_PROXY.split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (entry === "loopback") LOOPBACK.forEach((a) => out.add(a));
    else out.add(entry);
  }
  return out;
}

/**
 * The address of the client behind the trusted proxies: the right-most X-Forwarded-For entry that
 * is not one of them (what the nearest untrusted hop said), else the peer itself.
 */
export function addressBehindProxies(peer: string, forwarded: string | undefined, proxies: Set<string>): string {
  if (!proxies.has(peer) || !forwarded) return peer;
  const hops = forwarded
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!proxies.has(hops[i]!)) return hops[i]!.slice(0, 64);
  return peer;
}

const resolvedAddresses = new WeakMap<object, string>();
/** The front, answering a request itself, says whose it is (the peer, or who TRUST_PROXY names). */
export function setClientAddress(req: IncomingMessage, address: string) {
  resolvedAddresses.set(req, address);
}

/**
 * The client's address: what the front resolved when it answers itself; else (in the web process,
 * on loopback behind the front, which sets X-Forwarded-For to the address it saw) the header, which
 * only a loopback peer is trusted to set.
 */
export function clientAddress(req: Pick<IncomingMessage, "headers" | "socket">): string | undefined {
  const resolved = resolvedAddresses.get(req);
  if (resolved !== undefined) return resolved;
  const peer = req.socket.remoteAddress;
  const forwarded = req.headers["x-forwarded-for"];
  const loopback = peer === "127.0.0.1" || peer === "::1" || peer === "::ffff:127.0.0.1";
  if (loopback && typeof forwarded === "string" && forwarded) return forwarded.split(",")[0]!.trim().slice(0, 64);
  return peer;
}

export function bearerOf(headers: IncomingHttpHeaders): string | undefined {
  const h = headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

/**
 * The console's session token from the request's cookies; next-auth splits a long token into
 * `<name>.0`, `<name>.1`, … cookies, joined here in order.
 */
export function sessionCookie(cookies: Record<string, string>): string | undefined {
  const name = sessionCookieName();
  if (cookies[name]) return cookies[name];
  const chunks: string[] = [];
  for (let i = 0; ; i++) {
    const chunk = cookies[`${name}.${i}`];
    if (chunk === undefined) break;
    chunks.push(chunk);
  }
  return chunks.join("") || undefined;
}

/** The user an access token names (its signature, expiry and revocations checked). */
export function userActorOf(accessToken: string, now: Date): Actor & { kind: "user" } {
  const c = verifyAccessToken(accessToken, now);
  return { kind: "user", userId: c.sub, role: c.role, appId: c.app, sessionId: c.sid };
}

export async function actorFromHeaders(headers: IncomingHttpHeaders, now: Date): Promise<Actor> {
  const bearer = bearerOf(headers);
  if (bearer) return userActorOf(bearer, now);
  const token = sessionCookie(parseCookies(headers.cookie));
  if (!token) return { kind: "anonymous" };
  const t = await consoleSession(token, now);
  if (!t || consoleTokenRevoked(t)) return { kind: "anonymous" };
  return { kind: "user", userId: t.uid, role: t.role, appId: t.appId, sessionId: t.sid };
}

type Session = ConsoleToken & { exp: number; secret: string };
/**
 * Console sessions whose cookie decoded, by the cookie's text: next-auth's decode (a key derived,
 * then the token decrypted and authenticated) took about 100 µs of every console request, and a
 * console polls its lists every few seconds. Only the decoding is skipped on a hit: expiry and
 * revocations are checked every time. Bounded (VERIFIED_TOKENS_KEPT; the oldest go first).
 */
let sessions: RecentMap<string, Session> | undefined;

/** The console session a cookie holds, undefined when it does not decode (tampered, expired, another secret). */
async function consoleSession(token: string, now: Date): Promise<ConsoleToken | undefined> {
  const secret = nextAuthSecret();
  sessions ??= new RecentMap(env().VERIFIED_TOKENS_KEPT);
  let s = sessions.get(token);
  if (s?.secret !== secret) {
    const jwt = await decode({ token, secret }).catch(() => null);
    const t = consoleTokenOf(jwt);
    if (!t || typeof jwt?.exp !== "number") return undefined;
    s = { ...t, exp: jwt.exp, secret };
    if (oneSpelling(token)) sessions.set(token, s);
  }
  return s.exp * 1000 > now.getTime() ? s : undefined;
}

/**
 * Whether each part of a compact token is in its one base64url spelling: others decode to the same
 * bytes (and the same session), and each would be kept apart, letting one session fill the cache.
 */
const oneSpelling = (token: string) =>
  token.split(".").every((p) => Buffer.from(p, "base64url").toString("base64url") === p);
