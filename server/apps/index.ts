// Apps (tenants): created by platform admins; an app admin manages only their own app.
// The secret is shown once and stored encrypted (the server still needs it to check HMACs).
import { createHash, randomBytes } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { dbOf, isPlatformAdmin, requireRole, tenantFilter, transaction, type Actor, type Ctx } from "../actor";
import { audit } from "../audit";
import type { DbOrTx, Tx } from "../db/client";
import { apps, rooms, SIGN_SCHEMES, SIGNUP_ROLES } from "../db/schema";
import { endRoomSessions } from "../rooms";
import { revocationSet } from "../tokens/revocations";
import { AppError, forbidden, notFound } from "../errors";
import { open, seal } from "../crypto/secretbox";
import { cacheable, sharedReads } from "../cache";
import { emitRoomChange } from "../events/outbox";

const domain = z
  .string()
  .trim()
  .max(255)
  .regex(/^[a-z0-9.-]+(:\d{1,5})?$/i, "A host name, optionally with :port");
const httpUrl = z
  .string()
  .trim()
  .max(1024)
  .url()
  .refine((u) => /^https?:\/\//i.test(u), "Must be an http(s) URL");

export const createAppInput = z.object({
  name: z.string().trim().min(1).max(128),
  callbackUrl: httpUrl.nullish(),
  pushDomain: domain.nullish(),
  pullDomain: domain.nullish(),
  signScheme: z.enum(SIGN_SCHEMES).default("onair"),
  signupRole: z.enum(SIGNUP_ROLES).default("viewer"),
  sxbSign: z.boolean().default(false),
  auiDemoLogin: z.boolean().optional(),
});
export const updateAppInput = z.object({
  id: z.number().int().positive(),
  name: z.string().trim().min(1).max(128).optional(),
  callbackUrl: httpUrl.nullish(),
  enabled: z.boolean().optional(),
  pushDomain: domain.nullish(),
  pullDomain: domain.nullish(),
  signScheme: z.enum(SIGN_SCHEMES).optional(),
  signupRole: z.enum(SIGNUP_ROLES).optional(),
  sxbSign: z.boolean().optional(),
  auiDemoLogin: z.boolean().optional(),
  /** Words refused in the app's chats, one per line (at most 200 words of 64 characters). */
  chatWords: z
    .string()
    .max(16_000)
    .transform((s) =>
      s
        .split("\n")
        .map((w) => w.trim())
        .filter(Boolean)
        .join("\n"),
    )
    .refine((s) => !s || s.split("\n").length <= 200, "At most 200 words")
    .refine((s) => s.split("\n").every((w) => w.length <= 64), "A word has at most 64 characters")
    .optional(),
});

export type AppRow = typeof apps.$inferSelect;
/** What leaves the server about an app: never the secret. */
export const publicApp = ({ secretEnc: _s, ...rest }: AppRow) => rest;

const newAccessKey = () => `ak_${randomBytes(12).toString("base64url")}`;
const newSecret = () => randomBytes(32).toString("base64url");

/** One app, if the actor may see it (an app admin only their own). */
const scopeWhere = (ctx: Ctx, id: number) => and(eq(apps.id, id), tenantFilter(ctx.actor, apps.id));

export async function createApp(ctx: Ctx, input: z.infer<typeof createAppInput>) {
  requireRole(ctx.actor, "admin");
  if (!isPlatformAdmin(ctx.actor)) throw forbidden("Only platform admins create apps");
  const now = ctx.clock.now();
  const secret = newSecret();
  const accessKey = newAccessKey();
  return transaction(ctx, async (tx) => {
    const [res] = await tx.insert(apps).values({
      name: input.name,
      accessKey,
      secretEnc: seal(secret),
      callbackUrl: input.callbackUrl ?? null,
      pushDomain: input.pushDomain ?? null,
      pullDomain: input.pullDomain ?? null,
      signScheme: input.signScheme,
      sxbSign: input.sxbSign,
      auiDemoLogin: input.auiDemoLogin ?? false,
      signupRole: input.signupRole,
      createdAt: now,
      updatedAt: now,
    });
    const id = res.insertId;
    await audit(tx, ctx.actor, now, {
      appId: id,
      action: "app.create",
      targetType: "app",
      targetId: id,
      detail: { name: input.name },
    });
    const row = (await tx.select().from(apps).where(eq(apps.id, id)))[0]!;
    return { app: publicApp(row), accessKey, secret };
  });
}

export async function listApps(ctx: Ctx) {
  requireRole(ctx.actor, "admin");
  const rows = await dbOf(ctx).select().from(apps).where(tenantFilter(ctx.actor, apps.id)).orderBy(apps.id);
  return rows.map(publicApp);
}

export async function getApp(ctx: Ctx, id: number) {
  requireRole(ctx.actor, "admin");
  const row = (await dbOf(ctx).select().from(apps).where(scopeWhere(ctx, id)))[0];
  if (!row) throw notFound("App");
  return publicApp(row);
}

export async function updateApp(ctx: Ctx, input: z.infer<typeof updateAppInput>) {
  requireRole(ctx.actor, "admin");
  const now = ctx.clock.now();
  const { id, ...patch } = input;
  return transaction(ctx, async (tx) => {
    const row = (await tx.select().from(apps).where(scopeWhere(ctx, id)).for("update"))[0];
    if (!row) throw notFound("App");
    // An app admin must not undo a platform admin's decision to switch their app off (or on).
    if (patch.enabled !== undefined && patch.enabled !== row.enabled && !isPlatformAdmin(ctx.actor))
      throw forbidden("Only platform admins enable or disable apps");
    const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    await tx
      .update(apps)
      .set({ ...set, updatedAt: now })
      .where(eq(apps.id, id));
    await audit(tx, ctx.actor, now, { appId: id, action: "app.update", targetType: "app", targetId: id, detail: set });
    if (patch.enabled === false && row.enabled) await endAppBroadcasts(tx, ctx.actor, id, now);
    return publicApp((await tx.select().from(apps).where(eq(apps.id, id)))[0]!);
  }).then((app) => {
    // Applied here at once; every other process mirrors it within REVOCATION_POLL_MS.
    revocationSet.setAppDisabled(app.id, !app.enabled);
    return app;
  });
}

/**
 * First start: when there is no app at all, a "Default" app for vendor clients (随心播, AUI, …) so
 * that a fresh install works with them at once. Its sign-ups become hosts (随心播 clients create a
 * room right after registering) — a visible setting of the app. The secret is returned to print once.
 */
export async function ensureDefaultApp(ctx: Ctx) {
  const any = await dbOf(ctx).select({ id: apps.id }).from(apps).limit(1);
  if (any.length) return undefined;
  return createApp(ctx, { name: "Default", signScheme: "onair", sxbSign: false, signupRole: "host" });
}

/** A disabled app's broadcasts end: its live and paused rooms are over, their members leave. */
async function endAppBroadcasts(tx: Tx, actor: Actor, appId: number, now: Date) {
  const open = await tx
    .select()
    .from(rooms)
    .where(and(eq(rooms.appId, appId), inArray(rooms.status, ["live", "paused"])))
    .for("update");
  for (const room of open) {
    const ended = { status: "ended" as const, stoppedAt: now, updatedAt: now, autoPaused: false };
    await tx.update(rooms).set(ended).where(eq(rooms.num, room.num));
    await endRoomSessions(tx, room.num, now);
    // Its sockets and webhooks hear that it ended, as for any other room change.
    await emitRoomChange(
      tx,
      { action: "room.app_disabled", before: room, after: { ...room, ...ended }, detail: undefined, result: undefined },
      now,
    );
    await audit(tx, actor, now, {
      appId,
      action: "room.app_disabled",
      targetType: "room",
      targetId: room.id,
      detail: { from: room.status, to: "ended" },
    });
  }
}

/** Replaces the secret; the new one is returned once and the old one stops working at once. */
export async function rotateAppSecret(ctx: Ctx, id: number) {
  requireRole(ctx.actor, "admin");
  const now = ctx.clock.now();
  const secret = newSecret();
  return transaction(ctx, async (tx) => {
    const row = (await tx.select({ id: apps.id }).from(apps).where(scopeWhere(ctx, id)).for("update"))[0];
    if (!row) throw notFound("App");
    await tx
      .update(apps)
      .set({ secretEnc: seal(secret), updatedAt: now })
      .where(eq(apps.id, id));
    await audit(tx, ctx.actor, now, { appId: id, action: "app.rotate_secret", targetType: "app", targetId: id });
    return { id, secret };
  });
}

/** For adapters and hooks that check an app's HMAC signatures: the decrypted secret. */
export async function appByAccessKey(db: DbOrTx, accessKey: string) {
  const row = (await db.select().from(apps).where(eq(apps.accessKey, accessKey)))[0];
  if (!row) return undefined;
  return { app: publicApp(row), secret: () => open(row.secretEnc), secretVersion: secretVersionOf(row.secretEnc) };
}

/**
 * A short fingerprint of the app's current secret (of its sealed form: it reveals nothing).
 * Vendor tokens carry it, so rotating the secret ends every token issued under the old one.
 */
export const secretVersionOf = (secretEnc: string) =>
  createHash("sha256").update(secretEnc).digest("base64url").slice(0, 10);

const sharedApps = sharedReads<typeof apps.$inferSelect | undefined>();
const readApp = async (db: DbOrTx, id: number) => (await db.select().from(apps).where(eq(apps.id, id)))[0];

/**
 * An app's row, as every vendor request reads it (sign settings, secrets, domains): once a second
 * per process outside transactions; a change this process commits is seen at once (server/cache.ts).
 */
export function appRow(db: DbOrTx, id: number) {
  return cacheable(db) ? sharedApps(String(id), () => readApp(db, id)) : readApp(db, id);
}

/**
 * appRow's row if it has been read and may still be served ({value: undefined}: there is no such
 * app; undefined: ask appRow), for answers made synchronously (server/front/fast.ts).
 */
export function settledAppRow(db: DbOrTx, id: number) {
  if (!cacheable(db)) return undefined;
  return sharedApps.settled(String(id), () => readApp(db, id));
}

export async function appById(db: DbOrTx, id: number) {
  return appOfRow(await appRow(db, id));
}

/** An app row as appById gives it: its public fields, and its secret opened only when asked for. */
export function appOfRow(row: AppRow | undefined) {
  if (!row) return undefined;
  return { app: publicApp(row), secret: () => open(row.secretEnc) };
}

export function assertAppEnabled(app: { enabled: boolean } | undefined): asserts app {
  if (!app) throw notFound("App");
  if (!app.enabled) throw new AppError("DISABLED", "This app is disabled");
}
