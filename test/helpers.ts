// Test fixtures over the real database: apps and users of every role, callers with any actor.
import { randomBytes } from "node:crypto";
import type { Actor, Ctx } from "../server/actor";
import { ManualClock, systemClock, type Clock } from "../server/clock";
import { getDb } from "../server/db/client";
import { createApp } from "../server/apps";
import { createUser, ensureFirstAdmin } from "../server/accounts";
import { users } from "../server/db/schema";
import { and, eq, isNull } from "drizzle-orm";
import { createCallerFactory } from "../server/trpc/init";
import { appRouter } from "../server/trpc/router";

export const uniq = (p: string) => `${p}_${randomBytes(5).toString("hex")}`;
export const PASSWORD = "correct-horse-9";

export function ctxOf(actor: Actor, clock: Clock = systemClock): Ctx {
  return { db: getDb(), clock, actor };
}
const factory = createCallerFactory(appRouter);
export const callerOf = (actor: Actor, clock: Clock = systemClock) => factory(ctxOf(actor, clock));

export async function platformAdmin(): Promise<Actor> {
  // Test files run in parallel: a second creator loses the unique-username race, which is fine.
  await ensureFirstAdmin(getDb(), systemClock, "root_admin", PASSWORD).catch(() => undefined);
  const u = (
    await getDb()
      .select()
      .from(users)
      .where(and(eq(users.role, "admin"), isNull(users.appId)))
      .limit(1)
  )[0]!;
  return { kind: "user", userId: u.id, role: "admin", appId: null };
}

export type UserActor = Extract<Actor, { kind: "user" }> & { username: string };

/** An app with an admin, two hosts and two viewers. */
export async function makeTenant(clock: Clock = systemClock) {
  const root = await platformAdmin();
  const created = await createApp(ctxOf(root, clock), { name: uniq("app"), signScheme: "onair", sxbSign: false });
  const appId = created.app.id;
  const mk = async (role: "admin" | "host" | "viewer"): Promise<UserActor> => {
    const username = uniq(role);
    const u = await createUser(ctxOf(root, clock), { appId, username, password: PASSWORD, role });
    return { kind: "user", userId: u.id, role, appId, username };
  };
  const [admin, host, host2, viewer, viewer2] = await Promise.all([
    mk("admin"),
    mk("host"),
    mk("host"),
    mk("viewer"),
    mk("viewer"),
  ]);
  return {
    root,
    app: created.app,
    accessKey: created.accessKey,
    secret: created.secret,
    admin,
    host,
    host2,
    viewer,
    viewer2,
  };
}
export type Tenant = Awaited<ReturnType<typeof makeTenant>>;

export { ManualClock };

/** Asserts a promise rejects with a domain/tRPC error of this app code. */
export async function rejectsWith(p: Promise<unknown>, appCode: string) {
  try {
    await p;
  } catch (e) {
    const err = e as { cause?: { code?: string }; code?: string };
    const code = err.cause?.code ?? err.code;
    if (code !== appCode) throw new Error(`expected ${appCode}, got ${code}: ${(e as Error).message}`);
    return e;
  }
  throw new Error(`expected ${appCode}, but it succeeded`);
}
