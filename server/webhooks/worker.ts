// The webhook delivery worker: claims due deliveries from the outbox (webhook_deliveries) with a
// lease, so that with several instances one delivery is sent by one of them; sends each signed, to
// the outbound rules of every user-supplied URL (server/http/outbound.ts); retries with exponential
// backoff until WEBHOOK_RETRY_FOR_S after the event, then marks it failed. A room's deliveries to
// an endpoint go out in order: one waits while an earlier one is still pending.
import { randomUUID } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import type { Clock } from "../clock";
import { open } from "../crypto/secretbox";
import { runTransaction, type Db } from "../db/client";
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from "../db/schema";
import { env } from "../env";
import { OutboundError, outboundFetch } from "../http/outbound";
import { errorText, log } from "../log";
import { SIGNATURE_HEADER, signatureHeader } from "./index";

export interface WorkerOptions {
  /** Deliveries in flight at once in this worker. */
  concurrency: number;
  timeoutMs: number;
  retryBaseS: number;
  retryMaxS: number;
  retryForS: number;
  /** How long a claim holds: well beyond the timeout, so only a dead worker's claims lapse. */
  leaseMs: number;
  /** The outbound exceptions (default OUTBOUND_ALLOW). */
  allow?: readonly string[];
}

export const workerOptions = (): WorkerOptions => {
  const e = env();
  return {
    concurrency: e.WEBHOOK_CONCURRENCY,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    retryBaseS: e.WEBHOOK_RETRY_BASE_S,
    retryMaxS: e.WEBHOOK_RETRY_MAX_S,
    retryForS: e.WEBHOOK_RETRY_FOR_S,
    leaseMs: e.WEBHOOK_TIMEOUT_MS + 60_000,
  };
};

/** The wait before attempt n + 1 after n failed attempts: base · 2^(n−1), at most max. */
export function backoffS(failedAttempts: number, baseS: number, maxS: number) {
  return Math.min(maxS, baseS * 2 ** Math.max(0, Math.min(30, failedAttempts - 1)));
}

/** What is kept of a receiver's answer (or of why there was none). */
const RESPONSE_KEEP = 1024;
const READ_BYTES = 4096;

type Rows<T> = [T[], unknown];

/**
 * Claims up to `n` due deliveries: pending, due, not under another worker's lease, of an enabled
 * endpoint, and with no earlier pending delivery of the same room to the same endpoint. Rows another
 * worker is claiming right now are skipped (SKIP LOCKED), and a claim is a lease token written in
 * the same transaction, so two workers never hold one row.
 */
export async function claimDeliveries(db: Db, now: Date, n: number, leaseMs: number) {
  if (n <= 0) return [];
  const token = randomUUID();
  const until = new Date(now.getTime() + leaseMs);
  return runTransaction(db, async (tx) => {
    const [rows] = (await tx.execute(sql`
      SELECT d.id FROM webhook_deliveries d
      JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled = 1
      WHERE d.status = 'pending' AND d.next_attempt_at <= ${now}
        AND (d.lease_until IS NULL OR d.lease_until <= ${now})
        AND (d.room_num = 0 OR NOT EXISTS (
          SELECT 1 FROM webhook_deliveries p
          WHERE p.endpoint_id = d.endpoint_id AND p.room_num = d.room_num AND p.status = 'pending' AND p.id < d.id))
      ORDER BY d.next_attempt_at, d.id
      LIMIT ${n}
      FOR UPDATE SKIP LOCKED`)) as unknown as Rows<{ id: number }>;
    if (!rows.length) return [];
    const ids = rows.map((r) => Number(r.id));
    await tx.execute(sql`
      UPDATE webhook_deliveries SET lease_until = ${until}, lease_token = ${token}
      WHERE id IN (${sql.join(
        ids.map((id) => sql`${id}`),
        sql`, `,
      )})`);
    return ids.map((id) => ({ id, token }));
  });
}

export interface Attempt {
  id: number;
  status: "delivered" | "pending" | "failed";
  responseStatus: number | null;
}

/** Sends one claimed delivery and records the outcome (only while the claim is still ours). */
export async function sendDelivery(db: Db, clock: Clock, claim: { id: number; token: string }, o: WorkerOptions) {
  const row = (
    await db
      .select({ d: webhookDeliveries, url: webhookEndpoints.url, secretEnc: webhookEndpoints.secretEnc })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .where(and(eq(webhookDeliveries.id, claim.id), eq(webhookDeliveries.leaseToken, claim.token)))
  )[0];
  if (!row) return undefined;
  const { d } = row;
  const attempt = d.attempts + 1;
  const sentAt = clock.now();
  // The receiver's time to answer, as it passed (the clock schedules; it may be a test's, standing still).
  const started = performance.now();
  let responseStatus: number | null = null;
  let responseBody: string;
  let ok = false;
  try {
    const res = await outboundFetch(row.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "onair-webhooks/1",
        [SIGNATURE_HEADER]: signatureHeader(open(row.secretEnc), d.body, Math.floor(sentAt.getTime() / 1000)),
        "onair-event-id": d.eventId,
        "onair-event-type": d.type,
        "onair-delivery-id": String(d.id),
        "onair-delivery-attempt": String(attempt),
      },
      body: d.body,
      timeoutMs: o.timeoutMs,
      maxBytes: READ_BYTES,
      truncate: true,
      // A redirect is an answer, not a success: receivers give their final URL.
      maxRedirects: 0,
      allow: o.allow,
    });
    responseStatus = res.status;
    responseBody = res.text();
    ok = res.status >= 200 && res.status < 300;
  } catch (e) {
    responseBody =
      e instanceof OutboundError
        ? e.reason === "too_many_redirects"
          ? "redirect: redirects are not followed"
          : `${e.reason}: ${e.message}`
        : `error: ${(e as Error).message}`;
  }
  const durationMs = Math.round(performance.now() - started);
  const now = clock.now();
  const retryAt = new Date(now.getTime() + backoffS(attempt, o.retryBaseS, o.retryMaxS) * 1000);
  const status = ok
    ? "delivered"
    : retryAt.getTime() > d.createdAt.getTime() + o.retryForS * 1000
      ? "failed"
      : "pending";
  const kept = responseBody.slice(0, RESPONSE_KEEP);
  await runTransaction(db, async (tx) => {
    const [updated] = (await tx
      .update(webhookDeliveries)
      .set({
        status,
        attempts: attempt,
        responseStatus,
        responseBody: kept,
        lastAttemptAt: sentAt,
        deliveredAt: ok ? now : null,
        nextAttemptAt: status === "pending" ? retryAt : d.nextAttemptAt,
        leaseUntil: null,
        leaseToken: null,
      })
      .where(and(eq(webhookDeliveries.id, d.id), eq(webhookDeliveries.leaseToken, claim.token)))) as unknown as [
      { affectedRows: number },
    ];
    // A claim that lapsed meanwhile is another worker's now: it records its own attempt.
    if (updated.affectedRows !== 1) return;
    await tx.insert(webhookAttempts).values({
      deliveryId: d.id,
      appId: d.appId,
      endpointId: d.endpointId,
      attempt,
      sentAt,
      durationMs,
      responseStatus,
      responseBody: kept,
    });
  });
  if (!ok) log.info("webhook delivery failed", { delivery: d.id, attempt, status: responseStatus, next: status });
  return { id: d.id, status, responseStatus } satisfies Attempt;
}

export interface WebhookWorker {
  /** Claims what is due (up to the free slots) and starts sending; resolves once they are claimed. */
  tick(): Promise<number>;
  /** Resolves when every delivery in flight has been recorded. */
  drain(): Promise<void>;
  /** Looks for due deliveries at once (new ones were written). */
  nudge(): void;
  start(everyMs: number): void;
  stop(): Promise<void>;
}

export function createWebhookWorker(db: Db, clock: Clock, o: WorkerOptions = workerOptions()): WebhookWorker {
  const inFlight = new Set<Promise<unknown>>();
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<number> | undefined;
  let again = false;
  let stopped = false;

  async function runTick(): Promise<number> {
    const free = o.concurrency - inFlight.size;
    const claims = await claimDeliveries(db, clock.now(), free, o.leaseMs);
    for (const c of claims) {
      const p: Promise<unknown> = sendDelivery(db, clock, c, o)
        .catch((e: unknown) => log.warn("webhook delivery not recorded", { error: errorText(e) }))
        .finally(() => {
          inFlight.delete(p);
          // A slot came free, or the room's next delivery may now go: look again.
          if (!stopped) worker.nudge();
        });
      inFlight.add(p);
    }
    return claims.length;
  }

  const worker: WebhookWorker = {
    tick() {
      if (ticking) {
        again = true;
        return ticking;
      }
      ticking = runTick().finally(() => {
        ticking = undefined;
        if (again && !stopped) {
          again = false;
          void worker.tick().catch(() => undefined);
        }
      });
      return ticking;
    },
    async drain() {
      while (inFlight.size || ticking) await Promise.allSettled([...inFlight, ticking]);
    },
    nudge() {
      void worker.tick().catch((e: unknown) => log.warn("webhook claim failed", { error: errorText(e) }));
    },
    start(everyMs) {
      stopped = false;
      timer = setInterval(() => worker.nudge(), everyMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await worker.drain();
    },
  };
  return worker;
}

/** Finished deliveries older than WEBHOOK_KEEP_DAYS go (the sweeper of every process runs this). */
export async function pruneWebhookDeliveries(db: Db, now: Date) {
  const before = new Date(now.getTime() - env().WEBHOOK_KEEP_DAYS * 86_400_000);
  await db.execute(
    sql`DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < ${before} LIMIT 10000`,
  );
  // Attempts are kept as long as finished deliveries are.
  await db.execute(sql`DELETE FROM webhook_attempts WHERE sent_at < ${before} LIMIT 10000`);
}
