// What onair keeps in next-auth's user, session and JWT (filled in by server/auth/nextauth.ts).
import type { DefaultSession } from "next-auth";
import type { Role } from "@/lib/domain";

declare module "next-auth" {
  /** What the credentials provider's authorize() answers for a console sign-in. */
  interface User {
    role: Role;
    appId: number | null;
    /** The domain session opened for this sign-in (revoked on sign-out). */
    sid: string;
    /** Sign-in time in ms: user-wide revocations compare against it. */
    ims: number;
  }

  /** The session callback copies these from the JWT; a session whose JWT lacks them lacks them too. */
  interface Session {
    user?: DefaultSession["user"] & {
      id?: string;
      role?: Role;
      appId?: number | null;
      sid?: string;
      ims?: number;
    };
  }
}

declare module "next-auth/jwt" {
  /** Set by the jwt callback at sign-in (see ConsoleToken); optional because a decoded JWT is only checked, not trusted. */
  interface JWT {
    uid?: string;
    role?: Role;
    appId?: number | null;
    sid?: string;
    ims?: number;
  }
}
