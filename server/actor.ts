// Who is calling, and the context every domain verb receives: (db, clock, actor).
import type { Clock } from "./clock";
import type { Db } from "./db/client";
import type { Role } from "./db/schema";
import { AppError, forbidden } from "./errors";

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
}

export const anonymous: Actor = { kind: "anonymous" };

export function requireUser(actor: Actor): UserActor {
  if (actor.kind !== "user") throw new AppError("UNAUTHENTICATED", "Sign in first");
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

export const actorId = (a: Actor) => (a.kind === "user" ? a.userId : a.kind === "system" ? `system:${a.via}` : null);
