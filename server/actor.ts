// Who is calling, and the context every domain verb receives: (db, clock, actor, and the caller's
// transaction when a verb runs inside another's), plus the tenant filter every list query uses.
import { eq, type SQL } from "drizzle-orm";
import type { MySqlColumn } from "drizzle-orm/mysql-core";
import type { Clock } from "./clock";
import { runTransaction, type Db, type DbOrTx, type Tx } from "./db/client";
import type { Role } from "./db/schema";
import { AppError, forbidden } from "./errors";
import { revocationSet } from "./tokens/revocations";
import { readsChanged } from "./cache";
import { transactionCommitted } from "./events/outbox";

export type Actor =
  | { kind: "anonymous" }
  | { kind: "user"; userId: string; role: Role; appId: number | null; sessionId?: string }
  /** onair itself or a trusted adapter (media hooks, vendor callbacks) acting for an app. */
  | { kind: "system"; appId: number | null; via: string };

export type UserActor = Extract<Actor, { kind: "user" }>;

export interface Ctx {
  db: Db;
  clock: Clock;
  actor: Actor;
  /** An outer transaction: verbs called with it join it instead of opening their own. */
  tx?: Tx;
  /** The client's network address, where the transport knows it (rate limits per address). */
  addr?: string;
}

/** The handle a verb reads and writes through: the caller's transaction when there is one. */
export const dbOf = (ctx: Ctx): DbOrTx => ctx.tx ?? ctx.db;

/**
 * Runs `fn` in the caller's transaction, or in a new one: a verb called inside another verb (an
 * adapter's update-then-transition) commits or rolls back with it.
 */
export async function transaction<T>(ctx: Ctx, fn: (tx: Tx, ctx: Ctx & { tx: Tx }) => Promise<T>): Promise<T> {
  if (ctx.tx) return fn(ctx.tx, { ...ctx, tx: ctx.tx });
  // A deadlock's victim runs again on a new handle (runTransaction): only the one that committed counts.
  let used: Tx | undefined;
  const out = await runTransaction(ctx.db, (tx) => fn((used = tx), { ...ctx, tx }));
  // Once it commits, answers read before it are stale (server/cache.ts) and its room events go out.
  readsChanged();
  if (used) transactionCommitted(used);
  return out;
}

export const anonymous: Actor = { kind: "anonymous" };

export function requireUser(actor: Actor): UserActor {
  if (actor.kind !== "user") throw new AppError("UNAUTHENTICATED", "Sign in first");
  // Nobody acts in a disabled app (mirrored in memory like revocations: no query here).
  if (revocationSet.appDisabled(actor.appId)) throw new AppError("DISABLED", "This app is disabled");
  return actor;
}

export function requireRole(actor: Actor, ...roles: Role[]): UserActor {
  const u = requireUser(actor);
  if (!roles.includes(u.role)) throw forbidden(`This needs the ${roles.join(" or ")} role`);
  return u;
}

/** Platform admins (no app) see every tenant; everybody else sees only their own app. */
export const isPlatformAdmin = (a: Actor) =>
  (a.kind === "user" && a.role === "admin" && a.appId === null) || (a.kind === "system" && a.appId === null);

/** The app an actor is confined to, or null when it may see every app. */
export function tenantOf(a: Actor): number | null {
  if (a.kind === "anonymous") throw new AppError("UNAUTHENTICATED", "Sign in first");
  return isPlatformAdmin(a) ? null : a.appId;
}

/**
 * The tenant condition of a list query on `column` (an app id column): the actor's own app, or for
 * platform admins the app they asked for (none: every app).
 */
export function tenantFilter(actor: Actor, column: MySqlColumn, requestedAppId?: number | null): SQL | undefined {
  const tenant = tenantOf(actor);
  if (tenant !== null) return eq(column, tenant);
  return requestedAppId ? eq(column, requestedAppId) : undefined;
}

export const actorId = (a: Actor) => (a.kind === "user" ? a.userId : a.kind === "system" ? `system:${a.via}` : null);
