// The audience chart's samples: each live room's online count from its maintained figures, one
// instance per 10-second bucket.
import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { getDb } from "../db/client";
import { roomSamples } from "../db/schema";
import { roomStats } from "../presence/figures";
import { callerOf, makeTenant, uniq, type Tenant } from "../../test/helpers";
import { findRoom } from ".";
import { sampleOnline } from "./overview";

let t: Tenant;
beforeAll(async () => {
  t = await makeTenant();
});

it("samples each live room's online count from its figures, once per 10-second bucket across instances", async () => {
  const r = await callerOf(t.host).rooms.create({ title: uniq("samples") });
  await callerOf(t.host).rooms.start({ room: r.id });
  await callerOf(t.viewer).presence.join({ room: r.id });
  await callerOf(t.viewer2).presence.join({ room: r.id });
  const db = getDb();
  const room = await findRoom(db, t.host, r.id);
  // The figures may be a refresh turn behind the joins (a web process another test file started
  // runs the refresh on this database; its table is then what rooms read): wait for them.
  let online = 0;
  for (let tries = 0; tries < 50 && online < 2; tries++) {
    if (tries) await new Promise((res) => setTimeout(res, 100));
    online = (await roomStats(db, room, new Date())).online;
  }
  expect(online).toBeGreaterThanOrEqual(2);
  const now = new Date();
  // A job name of this test's own: the fronts other test files start sample the real one.
  const job = `samples_${randomBytes(4).toString("hex")}`;
  const bucket = new Date(Math.floor(now.getTime() / 10_000) * 10_000);
  expect(await sampleOnline(db, now, job)).toBeGreaterThan(0);
  const sample = async (at: Date) =>
    (
      await db
        .select({ online: roomSamples.online })
        .from(roomSamples)
        .where(and(eq(roomSamples.roomNum, r.num), eq(roomSamples.at, at)))
    )[0]?.online;
  expect(await sample(bucket)).toBe(online);
  // Another instance in the same bucket: not its turn.
  expect(await sampleOnline(db, new Date(now.getTime() + 1), job)).toBeNull();
  // The next bucket is somebody's turn again.
  expect(await sampleOnline(db, new Date(bucket.getTime() + 10_000), job)).toBeGreaterThan(0);
});
