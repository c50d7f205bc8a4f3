// Who a raw HTTP request comes from: a Bearer access token (SDK clients) or the console's
// next-auth session cookie. A bad bearer token is an error (expired told apart from invalid);
// no credentials at all is the anonymous actor.
import type { IncomingHttpHeaders } from "node:http";
import { getToken } from "next-auth/jwt";
import type { Actor } from "../actor";
import { consoleTokenRevoked, type ConsoleToken } from "../auth/nextauth";
import { nextAuthSecret } from "../crypto/keys";
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

export function bearerOf(headers: IncomingHttpHeaders): string | undefined {
  const h = headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

export async function actorFromHeaders(headers: IncomingHttpHeaders, now: Date): Promise<Actor> {
  const bearer = bearerOf(headers);
  if (bearer) {
    const c = verifyAccessToken(bearer, now);
    return { kind: "user", userId: c.sub, role: c.role, appId: c.app, sessionId: c.sid };
  }
  const cookies = parseCookies(headers.cookie);
  if (!Object.keys(cookies).some((k) => k.includes("next-auth.session-token"))) return { kind: "anonymous" };
  // next-auth v4 reads only req.cookies: hand it the parsed cookies of the raw node request.
  const t = (await getToken({
    req: { headers, cookies } as never,
    secret: nextAuthSecret(),
  })) as unknown as ConsoleToken | null;
  if (!t?.uid || consoleTokenRevoked(t)) return { kind: "anonymous" };
  return { kind: "user", userId: t.uid, role: t.role, appId: t.appId, sessionId: t.sid };
}
