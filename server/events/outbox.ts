// Room events are written in the transaction of the change they report (nothing published for a
// change that rolled back, nothing lost for one that committed) and published once it commits.
// So are the app's webhook deliveries (webhook_deliveries, the outbox the delivery worker sends).
import { randomUUID } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { prepared, preparedInsert, runTransaction, type DbOrTx, type Tx } from "../db/client";
import { apps, roomEvents, webhookDeliveries, webhookEndpoints, type WebhookEventType } from "../db/schema";
import type { RoomRow } from "../rooms/find";
import { publishEvents } from "./bus";
import { appEventsOfChange, eventsOfChange } from "./room";
import type { Audience, RoomEvent, RoomEventType } from "./types";

const pending = new WeakMap<object, RoomEvent[]>();
/** Transactions that wrote webhook deliveries: the worker of this process is woken when they commit. */
const wroteDeliveries = new WeakSet<object>();
let deliveriesWritten: (() => void) | undefined;
/** The webhook worker of this process (if it runs one) is told at once instead of at its next poll. */
export function onDeliveriesWritten(fn: (() => void) | undefined) {
  deliveriesWritten = fn;
}

// Every room change writes these (built once: server/db/client.ts `prepared`).
const insertRoomEvent = preparedInsert(roomEvents, ["roomNum", "type", "audience", "payload", "createdAt"]);
const enabledEndpoints = prepared((db) =>
  db
    .select({ id: webhookEndpoints.id, events: webhookEndpoints.events })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.appId, sql.placeholder("appId")), eq(webhookEndpoints.enabled, true))),
);

export async function emitRoomEvent(
  tx: DbOrTx,
  roomNum: number,
  type: RoomEventType,
  payload: Record<string, unknown>,
  now: Date,
  audience: Audience = "",
): Promise<RoomEvent> {
  const [res] = await insertRoomEvent(tx, {
    roomNum,
    type,
    audience,
    payload: JSON.stringify(payload),
    createdAt: now,
  });
  const event: RoomEvent = { id: Number(res.insertId), roomNum, type, audience, payload, at: now.getTime() };
  // Outside a transaction the row is already committed.
  if (!("rollback" in tx)) publishEvents([event]);
  else pending.set(tx, [...(pending.get(tx) ?? []), event]);
  return event;
}

/**
 * An app event for its webhooks: one delivery row per enabled endpoint that wants `type`, all with
 * one event id and one body. `roomNum` orders a room's deliveries (0: the event has no room).
 * Returns the event id, or undefined when no endpoint wants it (nothing is written).
 */
export async function emitAppEvent(
  tx: DbOrTx,
  appId: number,
  roomNum: number,
  type: WebhookEventType,
  data: Record<string, unknown>,
  now: Date,
): Promise<string | undefined> {
  const endpoints = await enabledEndpoints(tx, { appId });
  const wanting = endpoints.filter((e) => e.events.split(",").includes(type));
  if (!wanting.length) return undefined;
  const app = (await tx.select({ name: apps.name }).from(apps).where(eq(apps.id, appId)))[0];
  const id = `evt_${randomUUID().replaceAll("-", "")}`;
  const body = JSON.stringify({
    id,
    type,
    created: Math.floor(now.getTime() / 1000),
    app: { id: appId, name: app?.name ?? "" },
    data,
  });
  await tx.insert(webhookDeliveries).values(
    wanting.map((e) => ({
      appId,
      endpointId: e.id,
      eventId: id,
      type,
      roomNum,
      body,
      nextAttemptAt: now,
      createdAt: now,
    })),
  );
  if ("rollback" in tx) wroteDeliveries.add(tx);
  else deliveriesWritten?.();
  return id;
}

/**
 * Everything a room change is heard as, written with it: the events its sockets receive and the
 * app's webhook deliveries (server/events/room.ts derives both from the rows before and after).
 */
export async function emitRoomChange(
  tx: Tx,
  change: {
    action: string;
    before: RoomRow;
    after: RoomRow | undefined;
    detail: Record<string, unknown> | undefined;
    result: unknown;
  },
  now: Date,
) {
  const { action, before, after, detail, result } = change;
  for (const e of eventsOfChange(action, before, after, detail, result))
    await emitRoomEvent(tx, before.num, e.type, e.payload, now, e.audience);
  for (const e of appEventsOfChange(action, before, after, detail, result))
    await emitAppEvent(tx, before.appId, before.num, e.type, e.data, now);
}

/** Called when a transaction commits (server/actor.ts): its events go out. */
export function transactionCommitted(tx: object) {
  if (wroteDeliveries.has(tx)) {
    wroteDeliveries.delete(tx);
    deliveriesWritten?.();
  }
  const events = pending.get(tx);
  if (!events) return;
  pending.delete(tx);
  publishEvents(events);
}

/**
 * Runs `fn` in a transaction (or the caller's) and publishes its events once it commits: for writes
 * that have a handle, not a verb's context (server/actor.ts's `transaction` does the same for those).
 */
export async function withEvents<T>(db: DbOrTx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if ("rollback" in db) return fn(db);
  let used: Tx | undefined;
  const out = await runTransaction(db, (tx) => fn((used = tx)));
  if (used) transactionCommitted(used);
  return out;
}
