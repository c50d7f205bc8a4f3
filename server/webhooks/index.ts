// Webhooks of an app: its endpoints (the URL, the events wanted, a signing secret shown once and
// stored sealed) and the deliveries the outbox holds for them (server/events/outbox.ts writes them
// with each change; server/webhooks/worker.ts sends them). App admins manage their own app's.
import { createHmac, randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { and, asc, desc, eq, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import { dbOf, requireRole, tenantFilter, transaction, type Ctx } from "../actor";
import { audit } from "../audit";
import { seal } from "../crypto/secretbox";
import type { Tx } from "../db/client";
import {
  apps,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
  WEBHOOK_DELIVERY_STATUSES,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from "../db/schema";
import { env } from "../env";
import { AppError, notFound } from "../errors";
import { addressKind, parseAllowList, permitted } from "../http/outbound";

// ── 1. Signatures ────────────────────────────────────────────────────────────────────────────

export const SIGNATURE_HEADER = "Onair-Signature";

/** `t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, as Stripe and Mux sign theirs. */
export function signatureHeader(secret: string, body: string, unixS: number): string {
  const mac = createHmac("sha256", secret).update(`${unixS}.${body}`).digest("hex");
  return `t=${unixS},v1=${mac}`;
}

const newSecret = () => `whsec_${randomBytes(32).toString("base64url")}`;

// ── 2. Endpoints ─────────────────────────────────────────────────────────────────────────────

export const MAX_ENDPOINTS_PER_APP = 20;

const endpointUrl = z
  .string()
  .trim()
  .max(1024)
  .url()
  .refine((u) => /^https?:\/\//i.test(u), { message: "Must be an http(s) URL", params: { rule: "url" } });
const eventList = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .transform((l) => [...new Set(l)]);

export const createEndpointInput = z.object({
  appId: z.number().int().positive(),
  url: endpointUrl,
  description: z.string().trim().max(256).default(""),
  events: eventList,
  enabled: z.boolean().default(true),
});
export const updateEndpointInput = z.object({
  id: z.number().int().positive(),
  url: endpointUrl.optional(),
  description: z.string().trim().max(256).optional(),
  events: eventList.optional(),
  enabled: z.boolean().optional(),
});
export const listEndpointsInput = z.object({ appId: z.number().int().positive() });

type EndpointRow = typeof webhookEndpoints.$inferSelect;
/** What leaves the server about an endpoint: never its secret. */
export const endpointView = ({ secretEnc: _s, events, ...rest }: EndpointRow) => ({
  ...rest,
  events: events.split(",").filter(isEventType),
});
const isEventType = (s: string): s is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(s);

/**
 * A URL whose host is an address literal is checked against the outbound rules at once (a clear
 * error now rather than failed deliveries later); host names are checked, after resolution, on
 * every delivery (server/http/outbound.ts).
 */
/**
 * An endpoint's URL as the audit log keeps it: its password and query values (where receivers
 * often put a shared token) left out, the rest (who was called) kept.
 */
export function auditedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    for (const k of new Set(u.searchParams.keys())) u.searchParams.set(k, "***");
    return u.toString();
  } catch {
    return "(not a URL)";
  }
}

function assertReachable(url: string) {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
  const literal = isIP(host) ? host : host === "localhost" ? "127.0.0.1" : undefined;
  if (!literal || permitted(parseAllowList(env().OUTBOUND_ALLOW), host, literal)) return;
  const why = `${host} is a ${addressKind(literal)} address (not in OUTBOUND_ALLOW)`;
  throw new AppError("BAD_REQUEST", why, {
    fields: { url: why },
    rules: { url: { code: "custom", rule: "outbound" } },
  });
}

/** The app, if the actor administers it (an app admin only their own; others' are NOT_FOUND). */
async function adminApp(ctx: Ctx, tx: Tx | undefined, appId: number) {
  const me = requireRole(ctx.actor, "admin");
  const row = (
    await (tx ?? dbOf(ctx))
      .select({ id: apps.id })
      .from(apps)
      .where(and(eq(apps.id, appId), tenantFilter(me, apps.id)))
  )[0];
  if (!row) throw notFound("App");
  return me;
}

/** An endpoint of an app the actor administers, locked for the change. */
async function lockedEndpoint(ctx: Ctx, tx: Tx, id: number) {
  const me = requireRole(ctx.actor, "admin");
  const row = (
    await tx
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), tenantFilter(me, webhookEndpoints.appId)))
      .for("update")
  )[0];
  if (!row) throw notFound("Webhook endpoint");
  return { me, row };
}

export async function listEndpoints(ctx: Ctx, input: z.infer<typeof listEndpointsInput>) {
  await adminApp(ctx, undefined, input.appId);
  const rows = await dbOf(ctx)
    .select()
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.appId, input.appId))
    .orderBy(webhookEndpoints.id);
  return rows.map(endpointView);
}

/** A new endpoint; its signing secret is in this answer only. */
export async function createEndpoint(ctx: Ctx, input: z.infer<typeof createEndpointInput>) {
  assertReachable(input.url);
  const now = ctx.clock.now();
  const secret = newSecret();
  return transaction(ctx, async (tx) => {
    const me = await adminApp(ctx, tx, input.appId);
    // Serialises creations per app (the app row is the lock) so the cap holds under concurrency.
    await tx.select({ id: apps.id }).from(apps).where(eq(apps.id, input.appId)).for("update");
    const have = await tx
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.appId, input.appId));
    if (have.length >= MAX_ENDPOINTS_PER_APP)
      throw new AppError("BAD_REQUEST", `An app has at most ${MAX_ENDPOINTS_PER_APP} webhook endpoints`, {
        limit: MAX_ENDPOINTS_PER_APP,
      });
    const [res] = await tx.insert(webhookEndpoints).values({
      appId: input.appId,
      url: input.url,
      description: input.description,
      events: input.events.join(","),
      enabled: input.enabled,
      secretEnc: seal(secret),
      createdAt: now,
      updatedAt: now,
    });
    const id = Number(res.insertId);
    await audit(tx, me, now, {
      appId: input.appId,
      action: "webhook.create",
      targetType: "webhook",
      targetId: id,
      detail: { url: auditedUrl(input.url), events: input.events },
    });
    const row = (await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)))[0]!;
    return { endpoint: endpointView(row), secret };
  });
}

export async function updateEndpoint(ctx: Ctx, input: z.infer<typeof updateEndpointInput>) {
  if (input.url) assertReachable(input.url);
  const now = ctx.clock.now();
  const { id, events, ...patch } = input;
  return transaction(ctx, async (tx) => {
    const { me, row } = await lockedEndpoint(ctx, tx, id);
    const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    if (events) set.events = events.join(",");
    await tx
      .update(webhookEndpoints)
      .set({ ...set, updatedAt: now })
      .where(eq(webhookEndpoints.id, id));
    await audit(tx, me, now, {
      appId: row.appId,
      action: "webhook.update",
      targetType: "webhook",
      targetId: id,
      detail: typeof set.url === "string" ? { ...set, url: auditedUrl(set.url) } : set,
    });
    return endpointView((await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)))[0]!);
  });
}

/** Deletes an endpoint with its deliveries (sent or not). */
export async function deleteEndpoint(ctx: Ctx, id: number) {
  const now = ctx.clock.now();
  return transaction(ctx, async (tx) => {
    const { me, row } = await lockedEndpoint(ctx, tx, id);
    await tx.delete(webhookAttempts).where(eq(webhookAttempts.endpointId, id));
    await tx.delete(webhookDeliveries).where(eq(webhookDeliveries.endpointId, id));
    await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id));
    await audit(tx, me, now, {
      appId: row.appId,
      action: "webhook.delete",
      targetType: "webhook",
      targetId: id,
      detail: { url: auditedUrl(row.url) },
    });
    return { id, deleted: true as const };
  });
}

/** A new signing secret, in this answer only; deliveries from now on are signed with it. */
export async function rotateEndpointSecret(ctx: Ctx, id: number) {
  const now = ctx.clock.now();
  const secret = newSecret();
  return transaction(ctx, async (tx) => {
    const { me, row } = await lockedEndpoint(ctx, tx, id);
    await tx
      .update(webhookEndpoints)
      .set({ secretEnc: seal(secret), updatedAt: now })
      .where(eq(webhookEndpoints.id, id));
    await audit(tx, me, now, {
      appId: row.appId,
      action: "webhook.rotate_secret",
      targetType: "webhook",
      targetId: id,
    });
    return { id, secret };
  });
}

// ── 3. Deliveries ────────────────────────────────────────────────────────────────────────────

export const listDeliveriesInput = z.object({
  endpointId: z.number().int().positive(),
  status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional(),
  limit: z.number().int().min(1).max(100).default(20),
  /** The last id of the previous page (newest first). */
  cursor: z.number().int().positive().optional(),
});

type DeliveryRow = typeof webhookDeliveries.$inferSelect;
/** What the console shows of a delivery: the body is the event (the app's own data), never a secret. */
export const deliveryView = ({ leaseToken: _t, leaseUntil: _l, ...d }: DeliveryRow) => d;

export async function listDeliveries(ctx: Ctx, input: z.infer<typeof listDeliveriesInput>) {
  const me = requireRole(ctx.actor, "admin");
  const db = dbOf(ctx);
  const endpoint = (
    await db
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, input.endpointId), tenantFilter(me, webhookEndpoints.appId)))
  )[0];
  if (!endpoint) throw notFound("Webhook endpoint");
  const where: (SQL | undefined)[] = [eq(webhookDeliveries.endpointId, input.endpointId)];
  if (input.status) where.push(eq(webhookDeliveries.status, input.status));
  if (input.cursor) where.push(lt(webhookDeliveries.id, input.cursor));
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(...where))
    .orderBy(desc(webhookDeliveries.id))
    .limit(input.limit + 1);
  const items = rows.slice(0, input.limit).map(deliveryView);
  return { items, nextCursor: rows.length > input.limit ? items[items.length - 1]!.id : null };
}

export const listAttemptsInput = z.object({ delivery: z.number().int().positive() });
/** The most attempts one answer lists (the retry schedule makes a few dozen at most). */
const MAX_ATTEMPTS_LISTED = 200;

/** Every attempt at a delivery, first to last: when, how long, and what the receiver answered. */
export async function listAttempts(ctx: Ctx, input: z.infer<typeof listAttemptsInput>) {
  const me = requireRole(ctx.actor, "admin");
  const db = dbOf(ctx);
  const delivery = (
    await db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.id, input.delivery), tenantFilter(me, webhookDeliveries.appId)))
  )[0];
  if (!delivery) throw notFound("Delivery");
  const items = await db
    .select({
      attempt: webhookAttempts.attempt,
      sentAt: webhookAttempts.sentAt,
      durationMs: webhookAttempts.durationMs,
      responseStatus: webhookAttempts.responseStatus,
      responseBody: webhookAttempts.responseBody,
    })
    .from(webhookAttempts)
    .where(and(eq(webhookAttempts.deliveryId, input.delivery), tenantFilter(me, webhookAttempts.appId)))
    .orderBy(asc(webhookAttempts.attempt), asc(webhookAttempts.id))
    .limit(MAX_ATTEMPTS_LISTED);
  return { items };
}

/**
 * Sends a delivery's event again: a new delivery (same event id and body, signed afresh when sent)
 * queued behind the room's other deliveries to that endpoint. The original keeps its history.
 */
export async function redeliver(ctx: Ctx, id: number) {
  const me = requireRole(ctx.actor, "admin");
  const now = ctx.clock.now();
  return transaction(ctx, async (tx) => {
    const row = (
      await tx
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.id, id), tenantFilter(me, webhookDeliveries.appId)))
    )[0];
    if (!row) throw notFound("Delivery");
    const [res] = await tx.insert(webhookDeliveries).values({
      appId: row.appId,
      endpointId: row.endpointId,
      eventId: row.eventId,
      type: row.type,
      roomNum: row.roomNum,
      body: row.body,
      nextAttemptAt: now,
      redeliveryOf: row.id,
      createdAt: now,
    });
    const newId = Number(res.insertId);
    await audit(tx, me, now, {
      appId: row.appId,
      action: "webhook.redeliver",
      targetType: "webhook",
      targetId: row.endpointId,
      detail: { delivery: row.id, redelivery: newId, event: row.eventId, type: row.type },
    });
    return deliveryView((await tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, newId)))[0]!);
  });
}
