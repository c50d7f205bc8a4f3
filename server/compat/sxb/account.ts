// 随心播 accounts: regist, login, logout. Accounts go into the app named by COMPAT_SXB_APP_ID
// (default: the first enabled app) with that app's sign-up role. `pwd` is an opaque secret: the
// Android/iOS clients send base64, the Web demo the password as typed; it is hashed as it arrives.
import { eq } from "drizzle-orm";
import { z } from "zod";
import { logout, openSession, register, verifyCredentials } from "../../accounts";
import type { Clock } from "../../clock";
import type { Db } from "../../db/client";
import { users } from "../../db/schema";
import { env } from "../../env";
import { AppError } from "../../errors";
import { userActorOf } from "../../http/actor";
import { vendorApp } from "../kit";
import { parse, SXB, sxbError, tokenOnly, userSig } from "./common";

const credentials = z.object({ id: z.string().min(1).max(64), pwd: z.string().min(1).max(512) });

export async function sxbApp(db: Db) {
  const app = await vendorApp(db, env().COMPAT_SXB_APP_ID);
  if (!app) throw sxbError(SXB.INTERNAL, "no app is set up for 随心播 clients (COMPAT_SXB_APP_ID)");
  return app;
}

/**
 * What a `pwd` may mean: the string as sent, and — for accounts whose password was set elsewhere
 * (the console) and a client that sends base64 — its base64 reading, when it is one exactly.
 */
function readings(pwd: string): string[] {
  const decoded = Buffer.from(pwd, "base64");
  const text = decoded.toString("utf8");
  const exact = /^[A-Za-z0-9+/]+={0,2}$/.test(pwd) && decoded.toString("base64") === pwd && !text.includes("\uFFFD");
  return exact && text && text !== pwd ? [pwd, text] : [pwd];
}

export type AccountCommand = (
  db: Db,
  clock: Clock,
  body: Record<string, unknown>,
  addr: string | undefined,
) => Promise<unknown>;

export const account: Record<string, AccountCommand> = {
  async regist(db, clock, body) {
    const b = parse(credentials, body);
    const app = await sxbApp(db);
    try {
      await register(
        { db, clock, actor: { kind: "system", appId: app.id, via: "sxb" } },
        { appKey: app.accessKey, username: b.id, password: b.pwd },
        // The app's documented choice (console: Apps → "Vendor sign-ups become"); viewer by default.
        app.signupRole,
      );
    } catch (e) {
      if (e instanceof AppError && e.code === "CONFLICT") throw sxbError(SXB.USER_EXISTS, "用户已经注册");
      throw e;
    }
    return undefined;
  },
  async login(db, clock, body, addr) {
    const b = parse(credentials, body);
    let u;
    try {
      u = await verifyCredentials(db, b.id, readings(b.pwd), { addr, now: clock.now() });
    } catch (e) {
      if (e instanceof AppError && e.code === "BAD_CREDENTIALS") {
        const exists = (await db.select({ id: users.id }).from(users).where(eq(users.username, b.id))).length > 0;
        throw sxbError(exists ? SXB.BAD_PASSWORD : SXB.NO_USER, exists ? "密码有误" : "用户不存在");
      }
      throw e;
    }
    const s = await openSession(db, clock, u, "sxb", "other");
    return { userSig: userSig(u.id), token: s.accessToken };
  },
  async logout(db, clock, body) {
    const b = parse(tokenOnly, body);
    let actor;
    try {
      actor = userActorOf(b.token, clock.now());
    } catch (e) {
      // A token already revoked by an earlier logout is a repeated logout.
      if (e instanceof AppError && e.code === "TOKEN_INVALID") throw sxbError(SXB.RELOGOUT, "重复退出");
      throw e;
    }
    await logout({ db, clock, actor });
    return undefined;
  },
};
