// Accounts: registration, login (console and SDK), per-device refresh tokens, logout, and the
// admin verbs on users. Passwords are argon2id hashes (older scrypt ones are replaced at sign-in);
// refresh tokens are stored as sha256 hashes.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { and, count, desc, eq, isNull, like, lt, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import {
  dbOf,
  isPlatformAdmin,
  requireRole,
  requireUser,
  tenantFilter,
  tenantOf,
  transaction,
  type Actor,
  type Ctx,
} from "../actor";
import { containsPattern } from "../db/like";
import { assertAppEnabled, appByAccessKey, appById } from "../apps";
import { audit } from "../audit";
import type { Clock } from "../clock";
import { runTransaction, type Db, type DbOrTx } from "../db/client";
import { ROLES, sessions, users, type Role } from "../db/schema";
import { dummyHash, hashPassword, needsRehash, verifyPassword } from "../crypto/passwords";
import { safeEqual } from "../crypto/secretbox";
import { env } from "../env";
import { assertUnderLimits, clearHits, hit, type Limit } from "../limits";
import { AppError, forbidden, isDuplicateKey, notFound } from "../errors";
import { tokenKey } from "../crypto/keys";
import { signAccessToken } from "../tokens";
import { revoke } from "../tokens/revocations";

export const username = z
  .string()
  .trim()
  .min(2)
  .max(64)
  .regex(/^[\p{L}\p{N}_.@-]+$/u, "Letters, digits and _ . @ - only");
export const password = z.string().min(8, "At least 8 characters").max(256);
const nick = z.string().trim().max(64);
const deviceId = z.string().trim().min(1).max(128);
const deviceType = z.enum(["android", "ios", "web", "win", "mac", "other"]);

export const registerInput = z.object({
  appKey: z.string().min(1).max(64),
  username,
  password,
  nick: nick.optional(),
});
export const createUserInput = z.object({
  appId: z.number().int().positive().nullable().optional(),
  username,
  password,
  role: z.enum(ROLES),
  nick: nick.optional(),
});
export const loginInput = z.object({
  username: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(256),
  deviceId: deviceId.default("default"),
  deviceType: deviceType.default("other"),
});
export const refreshInput = z.object({ refreshToken: z.string().min(10).max(256) });
export const listUsersInput = z.object({
  appId: z.number().int().positive().optional(),
  role: z.enum(ROLES).optional(),
  q: z.string().trim().max(64).optional(),
  limit: z.number().int().min(1).max(100).default(20),
  offset: z.number().int().min(0).max(1_000_000).default(0),
});

export type UserRow = typeof users.$inferSelect;
export const publicUser = ({ passwordHash: _p, ...u }: UserRow) => u;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

async function insertUser(
  tx: DbOrTx,
  now: Date,
  u: { appId: number | null; username: string; password: string; role: Role; nick?: string },
) {
  const id = crypto.randomUUID();
  try {
    await tx.insert(users).values({
      id,
      appId: u.appId,
      username: u.username,
      nick: u.nick || u.username,
      passwordHash: await hashPassword(u.password),
      role: u.role,
      createdAt: now,
      updatedAt: now,
    });
  } catch (e) {
    if (isDuplicateKey(e)) throw new AppError("CONFLICT", "This username is taken", { field: "username" });
    throw e;
  }
  return (await tx.select().from(users).where(eq(users.id, id)))[0]!;
}

/** Self-service sign-up into an app (by its access key): a viewer, unless a trusted adapter says host. */
export async function register(ctx: Ctx, input: z.infer<typeof registerInput>, role: "viewer" | "host" = "viewer") {
  if (role !== "viewer" && ctx.actor.kind !== "system") throw forbidden("Only viewers can sign up themselves");
  const found = await appByAccessKey(dbOf(ctx), input.appKey);
  if (!found) throw new AppError("NOT_FOUND", "Unknown app key", { field: "appKey" });
  assertAppEnabled(found.app);
  const now = ctx.clock.now();
  return transaction(ctx, async (tx) => {
    const u = await insertUser(tx, now, { ...input, appId: found.app.id, role });
    await audit(tx, { kind: "user", userId: u.id, role, appId: u.appId }, now, {
      appId: u.appId,
      action: "user.register",
      targetType: "user",
      targetId: u.id,
    });
    return publicUser(u);
  });
}

/** Admins create users: app admins only in their app; platform admins anywhere (or other platform admins). */
export async function createUser(ctx: Ctx, input: z.infer<typeof createUserInput>) {
  const me = requireRole(ctx.actor, "admin");
  const scope = tenantOf(me);
  const appId = scope ?? input.appId ?? null;
  if (scope !== null && input.appId != null && input.appId !== scope) throw notFound("App");
  if (appId === null && !(input.role === "admin" && isPlatformAdmin(me)))
    throw new AppError("BAD_REQUEST", "Choose the app this user belongs to", { field: "appId" });
  if (appId !== null) {
    const app = await appById(dbOf(ctx), appId);
    if (!app) throw notFound("App");
  }
  const now = ctx.clock.now();
  return transaction(ctx, async (tx) => {
    const u = await insertUser(tx, now, { ...input, appId });
    await audit(tx, me, now, {
      appId,
      action: "user.create",
      targetType: "user",
      targetId: u.id,
      detail: { role: u.role },
    });
    return publicUser(u);
  });
}

/**
 * Sign-in limits on the shared store, for every transport alike (console, tRPC, vendor APIs):
 * failures per account, and attempts per client address (counted before any hashing, so a flood
 * from one address costs no password work beyond its allowance).
 */
export const loginLimits = (): { accountFailures: Limit; addressAttempts: Limit } => ({
  accountFailures: { max: env().LOGIN_FAILURES_PER_ACCOUNT, windowS: 15 * 60 },
  addressAttempts: { max: env().LOGIN_ATTEMPTS_PER_ADDRESS, windowS: 60 },
});

const hashingByAddress = new Map<string, Promise<unknown>>();
async function oneAtATime<T>(addr: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!addr) return fn();
  const before = hashingByAddress.get(addr) ?? Promise.resolve();
  const mine = before.catch(() => undefined).then(fn);
  hashingByAddress.set(addr, mine);
  try {
    return await mine;
  } finally {
    if (hashingByAddress.get(addr) === mine) hashingByAddress.delete(addr);
  }
}

/**
 * Checks a username/password; the same work is done for unknown users so timing tells nothing.
 * Past a limit the answer is TOO_MANY_REQUESTS with `retryAfterS`, even for the right password.
 */
export async function verifyCredentials(
  db: DbOrTx,
  name: string,
  /** The password, or the readings of it a client may mean (tried in order; one failure counted). */
  pw: string | readonly string[],
  from: { addr?: string; now?: Date } = {},
): Promise<UserRow> {
  const now = from.now ?? new Date();
  const limits = loginLimits();
  const account = { key: `login:user:${name.trim().toLowerCase()}`, limit: limits.accountFailures };
  await assertUnderLimits(db, [account], now);
  if (from.addr) {
    const address = { key: `login:addr:${from.addr}`, limit: limits.addressAttempts };
    if ((await hit(db, address.key, address.limit, now)) > address.limit.max)
      await assertUnderLimits(db, [address], now);
  }
  const u = (await db.select().from(users).where(eq(users.username, name.trim())))[0];
  const hash = u?.passwordHash ?? (await dummyHash());
  // One address's sign-ins are hashed one after another: a burst from it waits behind itself,
  // not in front of everybody else.
  const candidates = (typeof pw === "string" ? [pw] : pw).slice(0, 2);
  const matched = await oneAtATime(from.addr, async () => {
    let match: string | undefined;
    // Every reading is hashed, matched or not, so the time taken tells nothing either.
    for (const candidate of candidates)
      if ((await verifyPassword(candidate, hash)) && match === undefined) match = candidate;
    return match;
  });
  const ok = matched !== undefined;
  if (!u || !ok) {
    await hit(db, account.key, account.limit, now);
    throw new AppError("BAD_CREDENTIALS", "Wrong username or password");
  }
  await clearHits(db, account.key);
  // An older kind of hash is replaced now that the password is known (only if nobody changed it meanwhile).
  if (needsRehash(u.passwordHash)) {
    const fresh = await hashPassword(matched);
    await db
      .update(users)
      .set({ passwordHash: fresh })
      .where(and(eq(users.id, u.id), eq(users.passwordHash, u.passwordHash)));
  }
  if (u.disabled) throw new AppError("DISABLED", "This account is disabled");
  if (u.appId !== null) {
    const app = await appById(db, u.appId);
    assertAppEnabled(app?.app);
  }
  return u;
}

function issueTokens(u: UserRow, sessionId: string, secret: string, now: Date, refreshExpiresAt: Date) {
  const e = env();
  const access = signAccessToken({ sub: u.id, app: u.appId, role: u.role, sid: sessionId }, now, e.ACCESS_TOKEN_TTL_S);
  return {
    accessToken: access.token,
    accessExpiresAt: access.expiresAt,
    refreshToken: `${sessionId}.${secret}`,
    refreshExpiresAt,
    user: publicUser(u),
  };
}

/** Opens a session for one device (replacing that device's previous one) and issues both tokens. */
export async function login(db: Db, clock: Clock, input: z.infer<typeof loginInput>, addr?: string) {
  const u = await verifyCredentials(db, input.username, input.password, { addr, now: clock.now() });
  return openSession(db, clock, u, input.deviceId, input.deviceType);
}

/**
 * Opens a session for a device. `notAfter` caps its life (a session opened from another one, as
 * AUI's /token does, never outlives the session it came from).
 */
export async function openSession(db: Db, clock: Clock, u: UserRow, device: string, type: string, notAfter?: Date) {
  const now = clock.now();
  const sessionId = crypto.randomUUID();
  const secret = randomBytes(32).toString("base64url");
  const full = new Date(now.getTime() + env().REFRESH_TOKEN_TTL_S * 1000);
  const expiresAt = notAfter && notAfter < full ? notAfter : full;
  await runTransaction(db, async (tx) => {
    const old = await tx
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.userId, u.id), eq(sessions.deviceId, device), isNull(sessions.revokedAt)));
    for (const s of old) await revokeSession(tx, s.id, now);
    await tx.insert(sessions).values({
      id: sessionId,
      userId: u.id,
      deviceId: device,
      deviceType: type,
      refreshHash: sha256(secret),
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
    });
  });
  return issueTokens(u, sessionId, secret, now, expiresAt);
}

async function revokeSession(tx: DbOrTx, id: string, now: Date) {
  await tx
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(eq(sessions.id, id), isNull(sessions.revokedAt)));
  await revoke(tx, "session", id, now, new Date(now.getTime() + env().ACCESS_TOKEN_TTL_S * 1000 + 60_000));
}

/** How long a refresh token just rotated still answers (with the same new token) instead of counting as reuse. */
const REFRESH_GRACE_MS = 10_000;
const nextRefreshSecret = (sessionId: string, secret: string) =>
  createHmac("sha256", tokenKey()).update(`refresh:${sessionId}:${secret}`).digest("base64url");

/** Exchanges a refresh token for new tokens; the refresh token rotates (the old one stops working). */
export async function refresh(db: Db, clock: Clock, input: z.infer<typeof refreshInput>) {
  const now = clock.now();
  const [sid, secret] = input.refreshToken.split(".");
  if (!sid || !secret) throw new AppError("TOKEN_INVALID", "Malformed refresh token");
  const out = await runTransaction(db, async (tx) => {
    const s = (await tx.select().from(sessions).where(eq(sessions.id, sid)).for("update"))[0];
    if (!s || s.revokedAt) return { error: new AppError("TOKEN_INVALID", "Refresh token is not valid") };
    // The next secret is derived from the presented one, so two concurrent refreshes with the same
    // token (two tabs, a retried request) converge on the same new token within a short grace.
    const next = nextRefreshSecret(s.id, secret);
    const repeat = safeEqual(sha256(next), s.refreshHash) && now.getTime() - s.lastUsedAt.getTime() <= REFRESH_GRACE_MS;
    if (!repeat && !safeEqual(sha256(secret), s.refreshHash)) {
      // A reused (already rotated) refresh token means it leaked: end the whole session.
      await revokeSession(tx, s.id, now);
      return { error: new AppError("TOKEN_INVALID", "Refresh token is not valid") };
    }
    if (s.expiresAt <= now) return { error: new AppError("TOKEN_EXPIRED", "Refresh token expired; sign in again") };
    const u = (await tx.select().from(users).where(eq(users.id, s.userId)))[0];
    if (!u || u.disabled) return { error: new AppError("DISABLED", "This account is disabled") };
    if (u.appId !== null && !(await appById(tx, u.appId))?.app.enabled)
      return { error: new AppError("DISABLED", "This app is disabled") };
    if (!repeat)
      await tx
        .update(sessions)
        .set({ refreshHash: sha256(next), lastUsedAt: now })
        .where(eq(sessions.id, s.id));
    return { tokens: issueTokens(u, s.id, next, now, s.expiresAt) };
  });
  // Errors are returned, not thrown, so the revocation above commits.
  if (out.error) throw out.error;
  return out.tokens;
}

/** Ends the caller's session: its refresh token and every access token issued for it stop working. */
export async function logout(ctx: Ctx) {
  const me = requireUser(ctx.actor);
  if (!me.sessionId) return { ok: true };
  const now = ctx.clock.now();
  await transaction(ctx, (tx) => revokeSession(tx, me.sessionId!, now));
  return { ok: true };
}

export async function me(ctx: Ctx) {
  const u = requireUser(ctx.actor);
  const row = (await dbOf(ctx).select().from(users).where(eq(users.id, u.userId)))[0];
  if (!row) throw notFound("User");
  return publicUser(row);
}

const userWhere = (actor: Actor, id: string) => and(eq(users.id, id), tenantFilter(actor, users.appId));

async function updateUser(
  ctx: Ctx,
  id: string,
  action: string,
  set: Partial<typeof users.$inferInsert>,
  revokeTokens: boolean,
  detail?: object,
) {
  const me = requireRole(ctx.actor, "admin");
  const now = ctx.clock.now();
  return transaction(ctx, async (tx) => {
    const row = (await tx.select().from(users).where(userWhere(me, id)).for("update"))[0];
    if (!row) throw notFound("User");
    if (row.appId === null && !isPlatformAdmin(me)) throw forbidden();
    if (row.id === me.userId && (set.disabled || set.role)) throw forbidden("You cannot disable or demote yourself");
    await tx
      .update(users)
      .set({ ...set, updatedAt: now })
      .where(eq(users.id, id));
    if (revokeTokens) {
      await tx
        .update(sessions)
        .set({ revokedAt: now })
        .where(and(eq(sessions.userId, id), isNull(sessions.revokedAt)));
      await revoke(
        tx,
        "user",
        id,
        now,
        new Date(now.getTime() + Math.max(env().ACCESS_TOKEN_TTL_S, env().PLAY_TOKEN_TTL_S) * 1000 + 60_000),
      );
    }
    await audit(tx, me, now, { appId: row.appId, action, targetType: "user", targetId: id, detail });
    return publicUser((await tx.select().from(users).where(eq(users.id, id)))[0]!);
  });
}

export const setUserDisabled = (ctx: Ctx, id: string, disabled: boolean) =>
  updateUser(ctx, id, disabled ? "user.disable" : "user.enable", { disabled }, disabled, { disabled });
export const setUserRole = (ctx: Ctx, id: string, role: Role) =>
  updateUser(ctx, id, "user.set_role", { role }, true, { role });
export const resetPassword = async (ctx: Ctx, id: string, newPassword: string) =>
  updateUser(ctx, id, "user.reset_password", { passwordHash: await hashPassword(newPassword) }, true);

export async function listUsers(ctx: Ctx, input: z.infer<typeof listUsersInput>) {
  const me = requireRole(ctx.actor, "admin");
  const db = dbOf(ctx);
  const where: (SQL | undefined)[] = [tenantFilter(me, users.appId, input.appId)];
  if (input.role) where.push(eq(users.role, input.role));
  if (input.q) {
    const pattern = containsPattern(input.q);
    where.push(or(like(users.username, pattern), like(users.nick, pattern)));
  }
  const cond = and(...where);
  const [rows, total] = await Promise.all([
    db
      .select()
      .from(users)
      .where(cond)
      .orderBy(desc(users.createdAt), desc(users.id))
      .limit(input.limit)
      .offset(input.offset),
    db.select({ n: count() }).from(users).where(cond),
  ]);
  return { items: rows.map(publicUser), total: total[0]?.n ?? 0 };
}

/** The first platform admin as an actor (start-up tasks that act as the platform). */
export async function platformAdminActor(db: Db): Promise<Actor> {
  const row = (
    await db
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.role, "admin"), isNull(users.appId)))
      .orderBy(users.createdAt)
      .limit(1)
  )[0];
  if (!row) throw new AppError("NOT_FOUND", "No platform admin yet");
  return { kind: "user", userId: row.id, role: "admin", appId: null };
}

/** First start: a platform admin, with ADMIN_PASSWORD or a generated password (returned to print once). */
export async function ensureFirstAdmin(db: Db, clock: Clock, name: string, pw?: string) {
  const existing = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.role, "admin"), isNull(users.appId)))
    .limit(1);
  if (existing.length) return { created: false as const };
  const generated = pw ? undefined : randomBytes(12).toString("base64url");
  const now = clock.now();
  await runTransaction(db, async (tx) => {
    const u = await insertUser(tx, now, {
      appId: null,
      username: name,
      password: pw ?? generated!,
      role: "admin",
      nick: "Administrator",
    });
    await audit(tx, { kind: "system", appId: null, via: "bootstrap" }, now, {
      appId: null,
      action: "user.bootstrap_admin",
      targetType: "user",
      targetId: u.id,
    });
  });
  return { created: true as const, generatedPassword: generated };
}

/** Sessions past expiry are deleted by the periodic sweeper. */
export async function pruneSessions(db: DbOrTx, now: Date) {
  await db.delete(sessions).where(lt(sessions.expiresAt, now));
}

/** Ends one session by id (console sign-out). */
export async function revokeSessionById(db: Db, id: string, now: Date) {
  await runTransaction(db, (tx) => revokeSession(tx, id, now));
}
