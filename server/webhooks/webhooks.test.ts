// Webhooks against the real database and real HTTP receivers on loopback: the outbox written with
// the change (and not at all when it rolls back), signatures checked with the README's own snippet,
// retries with backoff, order per room, two workers on one database, and the outbound rules.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { and, asc, eq, inArray, ne } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { transaction } from "../actor";
import { systemClock } from "../clock";
import { createDb, getDb } from "../db/client";
import { auditLog, rooms, webhookDeliveries, webhookEndpoints } from "../db/schema";
import { env, resetEnvForTests } from "../env";
import { endAbandonedRooms, streamStarted, streamStopped } from "../media/streams";
import { transitionRoom } from "../rooms";
import {
  callerOf,
  ctxOf,
  makeTenant,
  ManualClock,
  rejectsWith,
  removeWebhookEndpoints,
  serve,
  uniq,
  type Tenant,
} from "../../test/helpers";
import { createWebhookWorker, type WorkerOptions } from "./worker";
import { WEBHOOK_EVENT_TYPES } from "../../lib/domain";

type Verify = (header: unknown, raw: string | Buffer, secret: string, toleranceS?: number) => boolean;
let verify: Verify;

/** The README's verification snippet, as documented, loaded as a module. */
async function readmeSnippet(): Promise<Verify> {
  const readme = readFileSync(resolve(__dirname, "../../README.md"), "utf8");
  const m = /```js\n(\/\/ verify-onair-webhook[\s\S]*?)```/.exec(readme);
  if (!m) throw new Error("README has no verify-onair-webhook snippet");
  const file = join(mkdtempSync(join(tmpdir(), "onair-wh-")), "verify.mjs");
  writeFileSync(file, m[1]!);
  const mod = (await import(pathToFileURL(file).href)) as { verifyOnairSignature: Verify };
  return mod.verifyOnairSignature;
}

interface Received {
  headers: IncomingMessage["headers"];
  raw: string;
  body: { id: string; type: string; created: number; app: { id: number }; data: Record<string, unknown> };
}

/**
 * A receiver on loopback: answers each request with the next planned status (then 200), or with
 * what `decide` says when it is set.
 */
async function receiver() {
  const got: Received[] = [];
  const plan: number[] = [];
  const ctl: { decide?: (r: Received) => number | undefined } = {};
  const srv = await serve((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const r: Received = { headers: req.headers, raw, body: JSON.parse(raw) as Received["body"] };
      got.push(r);
      const status = ctl.decide?.(r) ?? plan.shift() ?? 200;
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : `nope ${"x".repeat(10_000)}`);
    });
  });
  return { ...srv, got, plan, ctl, url: `${srv.base}/hook` };
}

const LOOPBACK = ["127.0.0.1"];
const opts = (o: Partial<WorkerOptions> = {}): WorkerOptions => ({
  concurrency: 4,
  timeoutMs: 5000,
  retryBaseS: 10,
  retryMaxS: 3600,
  retryForS: 86_400,
  leaseMs: 60_000,
  allow: LOOPBACK,
  ...o,
});

let t: Tenant;
let rx: Awaited<ReturnType<typeof receiver>>;

function allowLoopback(on: boolean) {
  if (on) process.env.OUTBOUND_ALLOW = "127.0.0.1";
  else delete process.env.OUTBOUND_ALLOW;
  resetEnvForTests();
}

async function endpoint(events: readonly string[] = WEBHOOK_EVENT_TYPES, url = rx.url) {
  allowLoopback(true);
  try {
    return await callerOf(t.admin).webhooks.create({
      appId: t.app.id,
      url,
      events: events as (typeof WEBHOOK_EVENT_TYPES)[number][],
    });
  } finally {
    allowLoopback(false);
  }
}

const deliveriesOf = (endpointId: number) =>
  getDb()
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.endpointId, endpointId))
    .orderBy(asc(webhookDeliveries.id));

/** Runs worker turns until nothing is claimed (every due delivery sent and recorded). */
async function settle(worker: ReturnType<typeof createWebhookWorker>) {
  for (let i = 0; i < 50; i++) {
    const n = await worker.tick();
    await worker.drain();
    if (!n) return;
  }
  throw new Error("the worker kept finding deliveries");
}

beforeAll(async () => {
  verify = await readmeSnippet();
  t = await makeTenant();
  // The workers here claim every due delivery in the database: endpoints other test files left in
  // it (sharing this process's database, e.g. authz.test's at a name that does not resolve) are
  // turned off, so only this file's deliveries are sent.
  await getDb().update(webhookEndpoints).set({ enabled: false }).where(ne(webhookEndpoints.appId, t.app.id));
});
afterEach(async () => {
  // Endpoints (and their deliveries) go, so no test's rows are due in another's worker.
  await removeWebhookEndpoints(t);
  await rx?.close();
});
afterAll(() => allowLoopback(false));

describe("webhook deliveries", () => {
  it("are signed so that the README's snippet verifies them; the secret is shown once and stored sealed", async () => {
    rx = await receiver();
    const { endpoint: ep, secret } = await endpoint();
    expect(secret).toMatch(/^whsec_[\w-]{43}$/);
    const stored = (await getDb().select().from(webhookEndpoints).where(eq(webhookEndpoints.id, ep.id)))[0]!;
    expect(stored.secretEnc).not.toContain(secret);
    expect(JSON.stringify(await callerOf(t.admin).webhooks.list({ appId: t.app.id }))).not.toContain("secret");

    const room = await callerOf(t.host).rooms.create({ title: uniq("signed") });
    await callerOf(t.host).rooms.start({ room: room.id });
    const worker = createWebhookWorker(getDb(), systemClock, opts());
    await settle(worker);
    expect(rx.got.map((r) => r.body.type)).toEqual(["room.created", "room.live"]);
    for (const r of rx.got) {
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["onair-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verify(r.headers["onair-signature"], r.raw, secret)).toBe(true);
      expect(verify(r.headers["onair-signature"], Buffer.from(r.raw), secret)).toBe(true);
      // Any other secret, body or timestamp fails.
      expect(verify(r.headers["onair-signature"], r.raw, secret + "x")).toBe(false);
      expect(verify(r.headers["onair-signature"], r.raw.replace("room", "ruom"), secret)).toBe(false);
      const v1 = /v1=(\w+)/.exec(String(r.headers["onair-signature"]))![1];
      expect(verify(`t=${Math.floor(Date.now() / 1000) - 3600},v1=${v1}`, r.raw, secret)).toBe(false);
      expect(r.headers["onair-event-id"]).toBe(r.body.id);
      expect(r.headers["onair-event-type"]).toBe(r.body.type);
      expect(r.body.app.id).toBe(t.app.id);
    }
    const live = rx.got[1]!.body;
    expect(live.data).toMatchObject({
      room: { id: room.id, status: "live" },
      previousStatus: "prepare",
      cause: "room.start",
    });
    expect(JSON.stringify(live)).not.toMatch(/key|secret/i);
    // Rotating gives a new secret; the next delivery verifies with it only.
    const rotated = await callerOf(t.admin).webhooks.rotateSecret({ id: ep.id });
    await callerOf(t.host).rooms.pause({ room: room.id });
    await settle(worker);
    const paused = rx.got[2]!;
    expect(paused.body.type).toBe("room.paused");
    expect(verify(paused.headers["onair-signature"], paused.raw, rotated.secret)).toBe(true);
    expect(verify(paused.headers["onair-signature"], paused.raw, secret)).toBe(false);
  });

  it("are written in the transaction of the change: a rollback leaves no delivery", async () => {
    rx = await receiver();
    const { endpoint: ep } = await endpoint(["room.live"]);
    const room = await callerOf(t.host).rooms.create({ title: uniq("tx") });
    await expect(
      transaction(ctxOf(t.host), async (_tx, inner) => {
        await transitionRoom(inner, room.id, "start");
        // The change wrote its delivery inside this transaction…
        expect(
          (await inner.tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.id))).length,
        ).toBe(1);
        throw new Error("something after it failed");
      }),
    ).rejects.toThrow("something after it failed");
    // …and it went with the rollback, as did the room's move and its audit row.
    expect(await deliveriesOf(ep.id)).toEqual([]);
    expect((await callerOf(t.host).rooms.get({ room: room.id })).status).toBe("prepare");
    await callerOf(t.host).rooms.start({ room: room.id });
    const rows = await deliveriesOf(ep.id);
    expect(rows.map((r) => r.type)).toEqual(["room.live"]);
    const audits = await getDb()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, room.id), eq(auditLog.action, "room.start")));
    expect(audits).toHaveLength(1);
    // Only endpoints that want an event get it; a disabled endpoint gets nothing.
    await callerOf(t.admin).webhooks.update({ id: ep.id, enabled: false });
    await callerOf(t.host).rooms.pause({ room: room.id });
    await callerOf(t.host).rooms.resume({ room: room.id });
    expect((await deliveriesOf(ep.id)).map((r) => r.type)).toEqual(["room.live"]);
  });

  it("are retried with exponential backoff against a receiver that fails first, then delivered", async () => {
    rx = await receiver();
    rx.plan.push(500, 503);
    const clock = new ManualClock(Date.now());
    const { endpoint: ep, secret } = await endpoint(["room.live"]);
    const room = await callerOf(t.host, clock).rooms.create({ title: uniq("retry") });
    await callerOf(t.host, clock).rooms.start({ room: room.id });
    const worker = createWebhookWorker(getDb(), clock, opts());

    await settle(worker);
    let [d] = await deliveriesOf(ep.id);
    expect(d).toMatchObject({ status: "pending", attempts: 1, responseStatus: 500 });
    expect(d!.responseBody.startsWith("nope xxx")).toBe(true);
    expect(d!.responseBody.length).toBe(1024);
    expect(d!.nextAttemptAt.getTime() - clock.now().getTime()).toBe(10_000);
    // Not due yet: nothing is sent.
    clock.advance(9_000);
    await settle(worker);
    expect(rx.got).toHaveLength(1);
    clock.advance(1_000);
    await settle(worker);
    [d] = await deliveriesOf(ep.id);
    expect(d).toMatchObject({ status: "pending", attempts: 2, responseStatus: 503 });
    expect(d!.nextAttemptAt.getTime() - clock.now().getTime()).toBe(20_000);
    clock.advance(20_000);
    await settle(worker);
    [d] = await deliveriesOf(ep.id);
    expect(d).toMatchObject({ status: "delivered", attempts: 3, responseStatus: 200, responseBody: "ok" });
    expect(d!.deliveredAt).toEqual(clock.now());
    // Three attempts of one event, each signed afresh and numbered.
    expect(rx.got.map((r) => r.headers["onair-delivery-attempt"])).toEqual(["1", "2", "3"]);
    expect(new Set(rx.got.map((r) => r.body.id)).size).toBe(1);
    for (const r of rx.got) expect(verify(r.headers["onair-signature"], r.raw, secret, Infinity)).toBe(true);
    // Each attempt kept with what the receiver answered (the delivery row holds only the last).
    const history = await callerOf(t.admin).webhooks.attempts({ delivery: d!.id });
    expect(history.items.map((a) => [a.attempt, a.responseStatus])).toEqual([
      [1, 500],
      [2, 503],
      [3, 200],
    ]);
    expect(history.items[0]!.responseBody.startsWith("nope xxx")).toBe(true);
    expect(history.items[2]!.responseBody).toBe("ok");
    expect(history.items.map((a) => a.sentAt.getTime())).toEqual(
      [0, 10_000, 30_000].map((ms) => history.items[0]!.sentAt.getTime() + ms),
    );
    for (const a of history.items) expect(a.durationMs).toBeGreaterThanOrEqual(0);
    // Another app's admin learns nothing of it.
    const other = await makeTenant();
    await expect(callerOf(other.admin).webhooks.attempts({ delivery: d!.id })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });

    // Redeliver: a new delivery of the same event, sent again.
    const again = await callerOf(t.admin).webhooks.redeliver({ id: d!.id });
    expect(again).toMatchObject({ eventId: d!.eventId, redeliveryOf: d!.id, status: "pending" });
    await settle(worker);
    expect(rx.got).toHaveLength(4);
    expect(rx.got[3]!.body.id).toBe(d!.eventId);
    const list = await callerOf(t.admin).webhooks.deliveries({ endpointId: ep.id });
    expect(list.items.map((x) => x.status)).toEqual(["delivered", "delivered"]);
  });

  it("give up after the retry window: the delivery is marked failed", async () => {
    rx = await receiver();
    rx.plan.push(...Array<number>(20).fill(500));
    const clock = new ManualClock(Date.now());
    const { endpoint: ep } = await endpoint(["room.live"]);
    const room = await callerOf(t.host, clock).rooms.create({ title: uniq("fail") });
    await callerOf(t.host, clock).rooms.start({ room: room.id });
    // A 60 s window with 10 s, 20 s, 40 s waits: attempts at 0, 10 and 30 s; the next would be at 70 s.
    const worker = createWebhookWorker(getDb(), clock, opts({ retryForS: 60 }));
    for (const wait of [0, 10_000, 20_000]) {
      clock.advance(wait);
      await settle(worker);
    }
    const [d] = await deliveriesOf(ep.id);
    expect(d).toMatchObject({ status: "failed", attempts: 3, responseStatus: 500 });
    clock.advance(3_600_000);
    await settle(worker);
    expect(rx.got).toHaveLength(3);
  });

  it("keep each room's order: a room's next delivery waits for its earlier one, other rooms do not", async () => {
    rx = await receiver();
    const clock = new ManualClock(Date.now());
    const { endpoint: ep } = await endpoint(["room.live", "room.paused", "room.ended"]);
    const host = callerOf(t.host, clock);
    const a = await host.rooms.create({ title: uniq("orderA") });
    const b = await host.rooms.create({ title: uniq("orderB") });
    const roomOf = (r: Received) => (r.body.data.room as { id: string }).id;
    // A's first delivery fails once.
    let failed = false;
    rx.ctl.decide = (r) => (roomOf(r) === a.id && !failed ? ((failed = true), 500) : 200);
    await host.rooms.start({ room: a.id });
    await host.rooms.pause({ room: a.id });
    await host.rooms.stop({ room: a.id });
    await host.rooms.start({ room: b.id });
    const worker = createWebhookWorker(getDb(), clock, opts());
    await settle(worker);
    // A's first failed (500): A's later ones wait; B's went.
    expect(rx.got.map((r) => [roomOf(r) === a.id ? "A" : "B", r.body.type]).sort()).toEqual([
      ["A", "room.live"],
      ["B", "room.live"],
    ]);
    clock.advance(10_000);
    await settle(worker);
    expect(rx.got.filter((r) => roomOf(r) === a.id).map((r) => r.body.type)).toEqual([
      "room.live",
      "room.live",
      "room.paused",
      "room.ended",
    ]);
    expect((await deliveriesOf(ep.id)).every((d) => d.status === "delivered")).toBe(true);
  });

  it("are sent once by two workers on one database (separate pools), every one of them", async () => {
    rx = await receiver();
    const { endpoint: ep } = await endpoint(["room.live", "room.paused"]);
    const host = callerOf(t.host);
    const rooms = await Promise.all(Array.from({ length: 12 }, () => host.rooms.create({ title: uniq("two") })));
    for (const r of rooms) {
      await host.rooms.start({ room: r.id });
      await host.rooms.pause({ room: r.id });
    }
    const second = createDb(env().DATABASE_URL!, 4);
    try {
      const w1 = createWebhookWorker(getDb(), systemClock, opts({ concurrency: 5 }));
      const w2 = createWebhookWorker(second.db, systemClock, opts({ concurrency: 5 }));
      const turns = async (w: typeof w1) => {
        for (let i = 0; i < 40; i++) {
          await w.tick();
          await new Promise((r) => setTimeout(r, 5));
        }
        await w.drain();
      };
      await Promise.all([turns(w1), turns(w2)]);
      await settle(w1);
    } finally {
      await second.pool.end();
    }
    const rows = await deliveriesOf(ep.id);
    expect(rows).toHaveLength(24);
    expect(rows.every((d) => d.status === "delivered" && d.attempts === 1)).toBe(true);
    const ids = rx.got.map((r) => r.headers["onair-delivery-id"]);
    expect(ids).toHaveLength(24);
    expect(new Set(ids).size).toBe(24);
    // Per room: live before paused.
    for (const r of rooms) {
      const mine = rx.got.filter((x) => (x.body.data.room as { id: string }).id === r.id).map((x) => x.body.type);
      expect(mine).toEqual(["room.live", "room.paused"]);
    }
  });

  it("follow the outbound rules: loopback is refused unless OUTBOUND_ALLOW lists it", async () => {
    rx = await receiver();
    // Saving an endpoint at a loopback address literal is refused at once…
    await rejectsWith(
      callerOf(t.admin).webhooks.create({ appId: t.app.id, url: `${rx.base}/x`, events: ["room.live"] }),
      "BAD_REQUEST",
    );
    await rejectsWith(
      callerOf(t.admin).webhooks.create({ appId: t.app.id, url: "http://localhost:9/x", events: ["room.live"] }),
      "BAD_REQUEST",
    );
    // …and a delivery to it is refused by the worker when the exception is gone, nothing sent.
    const { endpoint: ep } = await endpoint(["room.live"]);
    const room = await callerOf(t.host).rooms.create({ title: uniq("refused") });
    await callerOf(t.host).rooms.start({ room: room.id });
    const clock = new ManualClock(Date.now());
    await settle(createWebhookWorker(getDb(), clock, opts({ allow: [] })));
    const [d] = await deliveriesOf(ep.id);
    expect(d).toMatchObject({ status: "pending", attempts: 1, responseStatus: null });
    expect(d!.responseBody).toMatch(/^refused_address: 127\.0\.0\.1 resolves to a loopback address/);
    expect(rx.got).toHaveLength(0);
    // With the exception (OUTBOUND_ALLOW, the default of the worker) it goes.
    allowLoopback(true);
    try {
      clock.advance(10_000);
      await settle(createWebhookWorker(getDb(), clock, opts({ allow: undefined })));
    } finally {
      allowLoopback(false);
    }
    expect(rx.got).toHaveLength(1);
  });

  it("cover the domain's events: media stream moves, the grace, kicks, co-hosts, recordings", async () => {
    rx = await receiver();
    const { endpoint: ep } = await endpoint();
    const clock = new ManualClock(Date.now());
    const host = callerOf(t.host, clock);
    const room = await host.rooms.create({ title: uniq("all"), mode: 1 });
    const streamName = (await host.media.pushInfo({ room: room.id })).streamName;
    await streamStarted(getDb(), clock, streamName, "c1", { trusted: true, via: "embedded" });
    await callerOf(t.viewer, clock).presence.join({ room: room.id });
    await callerOf(t.viewer, clock).mic.request({ room: room.id });
    await host.mic.approve({ room: room.id, userId: t.viewer.userId });
    await host.mic.end({ room: room.id, userId: t.viewer.userId });
    await host.presence.kick({ room: room.id, memberId: t.viewer.userId });
    await host.recordings.create({ room: room.id, name: "rec", url: "https://vod.example/r.mp4" });
    await streamStopped(getDb(), clock, streamName, "c1", "embedded");
    // The grace ran out (moved back on this room only: the sweep looks at every room of the database).
    await getDb()
      .update(rooms)
      .set({ streamChangedAt: new Date(Date.now() - (env().MEDIA_END_GRACE_S + 1) * 1000) })
      .where(eq(rooms.id, room.id));
    await endAbandonedRooms(getDb(), systemClock);
    await host.rooms.delete({ room: room.id });
    const rows = await deliveriesOf(ep.id);
    expect(rows.map((r) => r.type)).toEqual([
      "room.created",
      "room.live",
      "mic.requested",
      "mic.approved",
      "mic.ended",
      "member.kicked",
      "recording.ready",
      "room.paused",
      "room.ended",
      "room.deleted",
    ]);
    const data = (type: string) =>
      (JSON.parse(rows.find((r) => r.type === type)!.body) as { data: Record<string, unknown> }).data;
    expect(data("room.live")).toMatchObject({ cause: "room.stream_start" });
    expect(data("room.paused")).toMatchObject({ cause: "room.stream_stop", previousStatus: "live" });
    expect(data("room.ended")).toMatchObject({ cause: "room.stream_abandoned", previousStatus: "paused" });
    expect(data("mic.approved")).toMatchObject({ mic: { userId: t.viewer.userId, state: "approved" } });
    expect(data("member.kicked")).toMatchObject({ member: { id: t.viewer.userId } });
    expect(data("recording.ready")).toMatchObject({
      recording: { name: "rec", status: "ready" },
      room: { id: room.id },
    });
    // Every row of one room carries its number (the order key).
    const nums = await getDb()
      .select({ n: webhookDeliveries.roomNum })
      .from(webhookDeliveries)
      .where(
        inArray(
          webhookDeliveries.id,
          rows.map((r) => r.id),
        ),
      );
    expect(new Set(nums.map((x) => x.n))).toEqual(new Set([room.num]));
  });
});

describe("webhook endpoints", () => {
  it("are the app's admins' to manage: other tenants get NOT_FOUND, hosts FORBIDDEN", async () => {
    rx = await receiver();
    const other = await makeTenant();
    const { endpoint: ep } = await endpoint(["room.live"]);
    await rejectsWith(callerOf(other.admin).webhooks.list({ appId: t.app.id }), "NOT_FOUND");
    await rejectsWith(callerOf(other.admin).webhooks.update({ id: ep.id, enabled: false }), "NOT_FOUND");
    await rejectsWith(callerOf(other.admin).webhooks.deliveries({ endpointId: ep.id }), "NOT_FOUND");
    await rejectsWith(callerOf(t.host).webhooks.list({ appId: t.app.id }), "FORBIDDEN");
    expect(await callerOf(t.root).webhooks.list({ appId: t.app.id })).toHaveLength(1);
    // Input is checked: no events, an unknown event, a non-http URL.
    await rejectsWith(
      callerOf(t.admin).webhooks.create({ appId: t.app.id, url: "https://x.example/h", events: [] }),
      "BAD_REQUEST",
    );
    await rejectsWith(
      callerOf(t.admin).webhooks.create({ appId: t.app.id, url: "ftp://x.example/h", events: ["room.live"] }),
      "BAD_REQUEST",
    );
    await rejectsWith(
      callerOf(t.admin).webhooks.create({
        appId: t.app.id,
        url: "https://x.example/h",
        events: ["room.exploded" as "room.live"],
      }),
      "BAD_REQUEST",
    );
  });

  it("are audited without the secrets a URL may carry (its password and query values)", async () => {
    rx = await receiver();
    const base = new URL(rx.url);
    base.username = "hooks";
    base.password = "pw-s3cret";
    base.search = "?token=tk-s3cret&team=a";
    const { endpoint: ep } = await endpoint(["room.live"], base.toString());
    allowLoopback(true);
    try {
      await callerOf(t.admin).webhooks.update({ id: ep.id, url: `${rx.url}?sig=up-s3cret` });
    } finally {
      allowLoopback(false);
    }
    await callerOf(t.admin).webhooks.delete({ id: ep.id });
    const rows = await getDb()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetType, "webhook"), eq(auditLog.targetId, String(ep.id))));
    expect(rows.map((r) => r.action).sort()).toEqual(["webhook.create", "webhook.delete", "webhook.update"]);
    const text = JSON.stringify(rows.map((r) => r.detail));
    expect(text).not.toMatch(/s3cret/);
    expect(text).toContain("team=***");
    expect(text).toContain("hooks:***@");
  });
});
