// Refused publishes reach the room's host: each media server's refusal (here SRS and nginx-rtmp
// callbacks over HTTP, as those servers send them) is recorded with its reason, repeats are counted,
// the rows per room are bounded, writes are rate-limited per room and in all, and only managers see them.
import type { AddressInfo } from "node:net";
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getDb } from "../db/client";
import { publishRefusals, roomEvents } from "../db/schema";
import { createFrontServer } from "../front/server";
import { callerOf, makeTenant, ManualClock, rejectsWith, uniq, type Tenant } from "../../test/helpers";
import { publishKey } from "./keys";
import { recordRefusal, REFUSALS_KEEP, REFUSALS_PER_S_ALL, resetRefusalLimitsForTests } from "./refusals";

let t: Tenant;
let u: Tenant;
let base: string;
let server: ReturnType<typeof createFrontServer>;
beforeAll(async () => {
  [t, u] = await Promise.all([makeTenant(), makeTenant()]);
  server = createFrontServer({ webOrigin: "http://127.0.0.1:9" });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(() => resetRefusalLimitsForTests());

const host = () => callerOf(t.host);
const newRoom = () => host().rooms.create({ title: uniq("refused") });
const srsPublish = (stream: string, param: string, ip = "192.0.2.10") =>
  fetch(`${base}/hooks/srs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      action: "on_publish",
      client_id: uniq("c"),
      ip,
      vhost: "__defaultVhost__",
      app: "live",
      stream,
      param,
    }),
  });
const nginxPublish = (name: string, key: string, addr = "198.51.100.4") =>
  fetch(`${base}/hooks/nginx`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ call: "publish", app: "live", name, addr, clientid: "9", key }).toString(),
  });
const rowsOf = async (num: number) =>
  (await getDb().select({ n: count() }).from(publishRefusals).where(eq(publishRefusals.roomNum, num)))[0]!.n;

describe("refused publishes", () => {
  it("a wrong key (SRS) and an ended room (nginx) are refused and listed with their reasons, newest first", async () => {
    const r = await newRoom();
    const wrong = await srsPublish(r.streamName, "?key=pk1_not-the-key");
    expect(wrong.status).toBe(401);
    // The right key still goes live: nothing about recording refusals changes a decision.
    expect(await (await srsPublish(r.streamName, `?key=${publishKey(r)}`)).text()).toBe("0");
    await host().rooms.stop({ room: r.id });
    expect((await nginxPublish(r.streamName, publishKey(r))).status).toBe(412);
    const list = await host().media.refusals({ room: r.id });
    expect(list.map((x) => [x.reason, x.via, x.addr, x.count])).toEqual([
      ["ended", "nginx", "198.51.100.4", 1],
      ["bad_key", "srs", "192.0.2.10", 1],
    ]);
    // The host's panel hears each as it happens (managers only).
    const events = await getDb()
      .select({ audience: roomEvents.audience, payload: roomEvents.payload })
      .from(roomEvents)
      .where(and(eq(roomEvents.roomNum, r.num), eq(roomEvents.type, "publish.refused")));
    expect(events.map((e) => [e.audience, (JSON.parse(e.payload) as { reason: string }).reason])).toEqual([
      ["@managers", "bad_key"],
      ["@managers", "ended"],
    ]);
  });

  it("an encoder retrying the same refused push counts on one row; a different reason starts a new one", async () => {
    const r = await newRoom();
    const clock = new ManualClock(Date.now());
    for (let i = 0; i < 5; i++) {
      await recordRefusal(getDb(), clock, {
        stream: r.streamName,
        reason: "bad_key",
        via: "embedded",
        addr: "10.0.0.2",
      });
      clock.advance(5_000);
    }
    await recordRefusal(getDb(), clock, { stream: r.streamName, reason: "busy", via: "embedded", addr: "10.0.0.2" });
    // A minute after the last one, the same refusal is a new row.
    clock.advance(61_000);
    await recordRefusal(getDb(), clock, { stream: r.streamName, reason: "busy", via: "embedded", addr: "10.0.0.2" });
    const list = await host().media.refusals({ room: r.id });
    expect(list.map((x) => [x.reason, x.count])).toEqual([
      ["busy", 1],
      ["busy", 1],
      ["bad_key", 5],
    ]);
  });

  it(`keeps the newest ${REFUSALS_KEEP} rows of a room`, async () => {
    const r = await newRoom();
    const clock = new ManualClock(Date.now());
    for (let i = 0; i < REFUSALS_KEEP + 15; i++) {
      // A different address each time: no repeat to count, every one is a row.
      await recordRefusal(getDb(), clock, { stream: r.streamName, reason: "bad_key", via: "srs", addr: `10.1.0.${i}` });
      clock.advance(1_000);
    }
    expect(await rowsOf(r.num)).toBe(REFUSALS_KEEP);
    const list = await host().media.refusals({ room: r.id });
    expect(list).toHaveLength(REFUSALS_KEEP);
    expect(list[0]!.addr).toBe(`10.1.0.${REFUSALS_KEEP + 14}`);
    expect(list.at(-1)!.addr).toBe("10.1.0.15");
  });

  it("a flood of refusals for one room writes a few rows a second, and other rooms are not held back", async () => {
    const [r, other] = await Promise.all([newRoom(), newRoom()]);
    const clock = new ManualClock(Date.now());
    const flood = [];
    for (let i = 0; i < 40; i++)
      flood.push(
        recordRefusal(getDb(), clock, { stream: r.streamName, reason: "bad_key", via: "srs", addr: `10.2.0.${i}` }),
      );
    const written = (await Promise.all(flood)).filter(Boolean).length;
    expect(written).toBe(4);
    expect(await rowsOf(r.num)).toBe(written);
    expect(await recordRefusal(getDb(), clock, { stream: other.streamName, reason: "ended", via: "srs" })).toBe(true);
    // The bucket refills with time.
    clock.advance(1_000);
    expect(await recordRefusal(getDb(), clock, { stream: r.streamName, reason: "busy", via: "srs" })).toBe(true);
    // Unknown streams record nothing; addresses that are not addresses are dropped.
    expect(await recordRefusal(getDb(), clock, { stream: "nope_nope", reason: "bad_key", via: "srs" })).toBe(false);
    await recordRefusal(getDb(), clock, { stream: other.streamName, reason: "bad_key", via: "srs", addr: "<script>" });
    expect((await host().media.refusals({ room: other.id }))[0]!.addr).toBe("");
  });

  it("wrong keys pushed at many rooms at once write a bounded number of rows a second in all", async () => {
    const many = await Promise.all(Array.from({ length: 12 }, () => newRoom()));
    const clock = new ManualClock(Date.now());
    const flood = (round: number) =>
      Promise.all(
        many.flatMap((r) =>
          [0, 1, 2, 3].map((i) =>
            recordRefusal(getDb(), clock, {
              stream: r.streamName,
              reason: "bad_key",
              via: "srs",
              addr: `10.3.${round}.${i}`,
            }),
          ),
        ),
      );
    // Each room's own bucket would take all 48 (four each); across the rooms, a burst of twice the rate.
    expect((await flood(0)).filter(Boolean).length).toBe(REFUSALS_PER_S_ALL * 2);
    clock.advance(1_000);
    expect((await flood(1)).filter(Boolean).length).toBe(REFUSALS_PER_S_ALL);
    let rows = 0;
    for (const r of many) rows += await rowsOf(r.num);
    expect(rows).toBe(REFUSALS_PER_S_ALL * 3);
  });

  it("only the room's host and its app's admins read them", async () => {
    const r = await newRoom();
    await srsPublish(r.streamName, "?key=wrong");
    expect(await callerOf(t.admin).media.refusals({ room: r.id })).toHaveLength(1);
    await rejectsWith(callerOf(t.host2).media.refusals({ room: r.id }), "FORBIDDEN");
    await rejectsWith(callerOf(t.viewer).media.refusals({ room: r.id }), "FORBIDDEN");
    await rejectsWith(callerOf(u.admin).media.refusals({ room: r.id }), "NOT_FOUND");
    await rejectsWith(callerOf({ kind: "anonymous" }).media.refusals({ room: r.id }), "UNAUTHENTICATED");
  });

  it("a deleted room takes its refusals with it", async () => {
    const r = await newRoom();
    await srsPublish(r.streamName, "?key=wrong");
    expect(await rowsOf(r.num)).toBe(1);
    await host().rooms.delete({ room: r.id });
    expect(await rowsOf(r.num)).toBe(0);
  });
});
