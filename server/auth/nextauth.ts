// next-auth (v4) for the browser console: a credentials provider over the accounts domain and
// JWT sessions. Each console sign-in opens a domain session, so sign-out and "disable user" revoke it.
import type { AuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { openSession, revokeSessionById, verifyCredentials } from "../accounts";
import { systemClock } from "../clock";
import { getDb } from "../db/client";
import { nextAuthSecret } from "../crypto/keys";
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

export function authOptions(): AuthOptions {
  return {
    secret: nextAuthSecret(),
    session: { strategy: "jwt", maxAge: 12 * 3600 },
    pages: { signIn: "/signin" },
    providers: [
      CredentialsProvider({
        name: "onair",
        credentials: {
          username: { label: "Username", type: "text" },
          password: { label: "Password", type: "password" },
        },
        async authorize(creds) {
          if (!creds?.username || !creds.password) return null;
          try {
            const db = getDb();
            const u = await verifyCredentials(db, creds.username, creds.password);
            const s = await openSession(db, systemClock, u, `console-${crypto.randomUUID()}`, "web");
            const sid = s.refreshToken.split(".")[0]!;
            return {
              id: u.id,
              name: u.nick || u.username,
              role: u.role,
              appId: u.appId,
              sid,
              ims: Date.now(),
            } as never;
          } catch (e) {
            if (e instanceof AppError) throw new Error(e.code);
            throw e;
          }
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user }) {
        if (user) {
          const u = user as unknown as { id: string; role: Role; appId: number | null; sid: string; ims: number };
          Object.assign(token, {
            uid: u.id,
            role: u.role,
            appId: u.appId,
            sid: u.sid,
            ims: u.ims,
          } satisfies ConsoleToken);
        }
        return token;
      },
      async session({ session, token }) {
        const t = token as unknown as ConsoleToken;
        return {
          ...session,
          user: { ...session.user, id: t.uid, role: t.role, appId: t.appId, sid: t.sid, ims: t.ims },
        };
      },
    },
    events: {
      async signOut({ token }) {
        const t = token as unknown as ConsoleToken | undefined;
        if (!t?.sid) return;
        await revokeSessionById(getDb(), t.sid, new Date());
      },
    },
  };
}

/** True when the console session was revoked (signed out elsewhere, user disabled or role changed). */
export function consoleTokenRevoked(t: ConsoleToken): boolean {
  return revocationSet.revokedBefore("session", t.sid) > 0 || t.ims <= revocationSet.revokedBefore("user", t.uid);
}
