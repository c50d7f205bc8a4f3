// next-auth (v4) for the browser console: a credentials provider over the accounts domain and
// JWT sessions. Each console sign-in opens a domain session, so sign-out and "disable user" revoke it.
// The fields onair adds to next-auth's User, Session and JWT are typed in types/next-auth.d.ts.
import type { AuthOptions } from "next-auth";
import type { JWT } from "next-auth/jwt";
import CredentialsProvider from "next-auth/providers/credentials";
import { openSession, revokeSessionById, verifyCredentials } from "../accounts";
import { systemClock } from "../clock";
import { getDb } from "../db/client";
import { nextAuthSecret } from "../crypto/keys";
import { env } from "../env";
import { AppError } from "../errors";
import { revocationSet } from "../tokens/revocations";
import type { Role } from "../db/schema";

export interface ConsoleToken {
  uid: string;
  role: Role;
  appId: number | null;
  sid: string;
  /** Sign-in time in ms: user-wide revocations compare against it. */
  ims: number;
}

/** The console fields of a decoded next-auth JWT, or null when it lacks any of them. */
export function consoleTokenOf(t: JWT | null | undefined): ConsoleToken | null {
  if (!t?.uid || !t.role || !t.sid || typeof t.ims !== "number") return null;
  return { uid: t.uid, role: t.role, appId: t.appId ?? null, sid: t.sid, ims: t.ims };
}

/** Secure cookies when the console is served over https (PUBLIC_URL), as next-auth decides by default. */
const secureCookies = () => env().publicUrl.startsWith("https://");

/** The console's session cookie (next-auth's name for it; long tokens are split into `<name>.N`). */
export const sessionCookieName = () => `${secureCookies() ? "__Secure-" : ""}next-auth.session-token`;

export function authOptions(): AuthOptions {
  return {
    secret: nextAuthSecret(),
    useSecureCookies: secureCookies(),
    session: { strategy: "jwt", maxAge: 12 * 3600 },
    pages: { signIn: "/signin" },
    providers: [
      CredentialsProvider({
        name: "onair",
        credentials: {
          username: { label: "Username", type: "text" },
          password: { label: "Password", type: "password" },
        },
        async authorize(creds, req) {
          if (!creds?.username || !creds.password) return null;
          try {
            const db = getDb();
            const forwarded = req.headers?.["x-forwarded-for"] as string | undefined;
            const addr = forwarded?.split(",")[0]?.trim();
            const u = await verifyCredentials(db, creds.username, creds.password, { addr });
            const s = await openSession(db, systemClock, u, `console-${crypto.randomUUID()}`, "web");
            const sid = s.refreshToken.split(".")[0]!;
            return {
              id: u.id,
              name: u.nick || u.username,
              role: u.role,
              appId: u.appId,
              sid,
              ims: Date.now(),
            };
          } catch (e) {
            if (e instanceof AppError) throw new Error(e.code, { cause: e });
            throw e;
          }
        },
      }),
    ],
    callbacks: {
      // `user` is there only at sign-in; later calls pass the token through.
      jwt({ token, user }) {
        if (user) {
          Object.assign(token, {
            uid: user.id,
            role: user.role,
            appId: user.appId,
            sid: user.sid,
            ims: user.ims,
          } satisfies ConsoleToken);
        }
        return token;
      },
      session({ session, token }) {
        return {
          ...session,
          user: {
            ...session.user,
            id: token.uid,
            role: token.role,
            appId: token.appId,
            sid: token.sid,
            ims: token.ims,
          },
        };
      },
    },
    events: {
      async signOut({ token }) {
        // With JWT sessions next-auth hands over the decoded session token.
        if (!token?.sid) return;
        await revokeSessionById(getDb(), token.sid, new Date());
      },
    },
  };
}

/** True when the console session was revoked (signed out elsewhere, user disabled or role changed). */
export function consoleTokenRevoked(t: ConsoleToken): boolean {
  return (
    revocationSet.revokedBefore("session", t.sid) > 0 ||
    t.ims <= revocationSet.revokedBefore("user", t.uid) ||
    revocationSet.appDisabled(t.appId)
  );
}
