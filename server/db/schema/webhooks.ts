// Webhooks: an app's endpoints and the outbox of deliveries to them (written in the transaction of
// the change they report; sent by the delivery worker, server/webhooks/worker.ts).
import { boolean, index, int, mediumtext, mysqlTable, smallint, varchar } from "drizzle-orm/mysql-core";
import { autoId, idRef, time } from "./columns";
import { WEBHOOK_DELIVERY_STATUSES } from "../../../lib/domain";
export { WEBHOOK_EVENT_TYPES, WEBHOOK_DELIVERY_STATUSES, type WebhookEventType } from "../../../lib/domain";

export const webhookEndpoints = mysqlTable(
  "webhook_endpoints",
  {
    id: autoId("id"),
    appId: idRef("app_id").notNull(),
    url: varchar("url", { length: 1024 }).notNull(),
    description: varchar("description", { length: 256 }).notNull().default(""),
    /** The event types wanted, comma-separated (WEBHOOK_EVENT_TYPES). */
    events: varchar("events", { length: 512 }).notNull(),
    enabled: boolean("enabled").notNull().default(true),
    /** AES-256-GCM ciphertext of the signing secret (shown once; the worker signs with it). */
    secretEnc: varchar("secret_enc", { length: 255 }).notNull(),
    createdAt: time("created_at").notNull(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [index("webhook_endpoints_app").on(t.appId, t.id)],
);

export const webhookDeliveries = mysqlTable(
  "webhook_deliveries",
  {
    id: autoId("id"),
    appId: idRef("app_id").notNull(),
    endpointId: idRef("endpoint_id").notNull(),
    /** The event (evt_…): one per change, the same in every endpoint's delivery and in a redelivery. */
    eventId: varchar("event_id", { length: 40 }).notNull(),
    type: varchar("type", { length: 32 }).notNull(),
    /** Deliveries of one room to one endpoint go out in id order; 0 when the event has no room. */
    roomNum: idRef("room_num").notNull().default(0),
    /** The JSON body as it is sent (fixed at the change; the signature's timestamp is the attempt's). */
    body: mediumtext("body").notNull(),
    status: varchar("status", { length: 12, enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default("pending"),
    attempts: int("attempts", { unsigned: true }).notNull().default(0),
    nextAttemptAt: time("next_attempt_at").notNull(),
    /** A worker's claim: until then no other worker takes the row (a crashed worker's claim lapses). */
    leaseUntil: time("lease_until"),
    leaseToken: varchar("lease_token", { length: 36 }),
    responseStatus: smallint("response_status", { unsigned: true }),
    /** The start of the receiver's answer, or why the attempt failed (timeout, refused address, …). */
    responseBody: varchar("response_body", { length: 1024 }).notNull().default(""),
    lastAttemptAt: time("last_attempt_at"),
    deliveredAt: time("delivered_at"),
    /** The delivery this one repeats (console "Redeliver"). */
    redeliveryOf: idRef("redelivery_of"),
    createdAt: time("created_at").notNull(),
  },
  (t) => [
    index("webhook_deliveries_due").on(t.status, t.nextAttemptAt),
    index("webhook_deliveries_order").on(t.endpointId, t.roomNum, t.status, t.id),
    index("webhook_deliveries_endpoint").on(t.endpointId, t.id),
  ],
);

/**
 * Each attempt at a delivery, as the receiver answered it (the delivery row keeps only the last):
 * written by the worker with the delivery's outcome, while its claim holds; bounded by the retry
 * schedule (WEBHOOK_RETRY_FOR_S) and pruned with the deliveries.
 */
export const webhookAttempts = mysqlTable(
  "webhook_attempts",
  {
    id: autoId("id"),
    deliveryId: idRef("delivery_id").notNull(),
    appId: idRef("app_id").notNull(),
    endpointId: idRef("endpoint_id").notNull(),
    /** 1 for the first attempt (the onair-delivery-attempt header). */
    attempt: int("attempt", { unsigned: true }).notNull(),
    sentAt: time("sent_at").notNull(),
    durationMs: int("duration_ms", { unsigned: true }).notNull(),
    responseStatus: smallint("response_status", { unsigned: true }),
    /** The start of the receiver's answer, or why the attempt failed (timeout, refused address, …). */
    responseBody: varchar("response_body", { length: 1024 }).notNull().default(""),
  },
  (t) => [
    index("webhook_attempts_delivery").on(t.deliveryId, t.attempt),
    index("webhook_attempts_endpoint").on(t.endpointId),
    index("webhook_attempts_sent").on(t.sentAt),
  ],
);
