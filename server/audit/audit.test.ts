// The audit page's query: filters (app, actor, action, room, time), paging, and scoping by role
// (an app admin sees their app's rows only, whatever they ask for).
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../clock";
import { getDb } from "../db/client";
import { rooms } from "../db/schema";
import { env } from "../env";
import { endAbandonedRooms, streamStarted, streamStopped } from "../media/streams";
import { callerOf, makeTenant, ManualClock, rejectsWith, uniq, type Tenant } from "../../test/helpers";

let A: Tenant;
let B: Tenant;
let roomA: { id: string; num: number };
let otherA: { id: string; num: number };
const T0 = Date.UTC(2031, 4, 1, 12, 0, 0);

beforeAll(async () => {
  [A, B] = await Promise.all([makeTenant(), makeTenant()]);
  // A's story, at known times: created 12:00, started 12:01 by the host, the encoder drops at 12:02,
  // the grace ends it; another room of A's is created at 12:05; B has a room of its own.
  const clock = new ManualClock(T0);
  const host = callerOf(A.host, clock);
  roomA = await host.rooms.create({ title: uniq("audited") });
  clock.set(T0 + 60_000);
  await host.rooms.start({ room: roomA.id });
  const stream = (await host.media.pushInfo({ room: roomA.id })).streamName;
  await streamStarted(getDb(), clock, stream, "enc1", { trusted: true, via: "embedded" });
  clock.set(T0 + 120_000);
  await streamStopped(getDb(), clock, stream, "enc1", "embedded");
  await getDb()
    .update(rooms)
    .set({ streamChangedAt: new Date(Date.now() - (env().MEDIA_END_GRACE_S + 1) * 1000) })
    .where(eq(rooms.id, roomA.id));
  await endAbandonedRooms(getDb(), systemClock);
  clock.set(T0 + 300_000);
  otherA = await host.rooms.create({ title: uniq("other") });
  await callerOf(B.host, clock).rooms.create({ title: uniq("b-room") });
});

const list = (t: Tenant, input: Parameters<ReturnType<typeof callerOf>["audit"]["list"]>[0]) =>
  callerOf(t.admin).audit.list(input);

describe("audit list", () => {
  it("filters by room: the room's rows, newest first, with who and the room's title", async () => {
    const r = await list(A, { room: roomA.id });
    expect(r.items.map((i) => i.action)).toEqual([
      "room.stream_abandoned",
      "room.stream_stop",
      "room.stream_start",
      "room.start",
      "room.create",
    ]);
    expect(r.items.map((i) => i.actorName)).toEqual([
      "system:grace",
      "system:embedded",
      "system:embedded",
      A.host.username,
      A.host.username,
    ]);
    expect(new Set(r.items.map((i) => i.roomNum))).toEqual(new Set([roomA.num]));
    // The room's number names it too.
    expect((await list(A, { room: String(roomA.num) })).items).toHaveLength(5);
  });

  it("filters by actor (a username or a system actor) and by action or family", async () => {
    const grace = await list(A, { actor: "system:grace" });
    expect(grace.items.map((i) => [i.action, i.targetId])).toEqual([["room.stream_abandoned", roomA.id]]);
    const byHost = await list(A, { actor: A.host.username });
    expect(byHost.items.map((i) => i.action).sort()).toEqual(["room.create", "room.create", "room.start"]);
    const stops = await list(A, { action: "room.stream_stop" });
    expect(stops.items.map((i) => i.targetId)).toEqual([roomA.id]);
    const family = await list(A, { action: "room" });
    expect(family.items.every((i) => i.action.startsWith("room."))).toBe(true);
    expect(family.items).toHaveLength(6);
    const users = await list(A, { action: "user" });
    expect(users.items.map((i) => i.action)).toEqual(Array(5).fill("user.create"));
    await rejectsWith(list(A, { action: "room.%" }), "BAD_REQUEST");
  });

  it("filters by time: from ≤ at < to", async () => {
    const r = await list(A, { from: T0 + 60_000, to: T0 + 300_000, action: "room" });
    expect(r.items.map((i) => i.action)).toEqual(["room.stream_stop", "room.stream_start", "room.start"]);
    const late = await list(A, { from: T0 + 300_000, to: T0 + 300_001 });
    expect(late.items.map((i) => [i.action, i.targetId])).toEqual([["room.create", otherA.id]]);
  });

  it("pages by cursor without skipping or repeating", async () => {
    const all = await list(A, { limit: 100 });
    const seen: number[] = [];
    let cursor: number | undefined;
    for (;;) {
      const page = await list(A, { limit: 3, cursor });
      seen.push(...page.items.map((i) => i.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(all.items.map((i) => i.id));
  });

  it("is scoped by role: an app admin sees only their app, a platform admin any, hosts nothing", async () => {
    const mine = await list(A, { limit: 100 });
    expect(mine.items.every((i) => i.appId === A.app.id)).toBe(true);
    // Asking for another app changes nothing for an app admin; another tenant's room matches nothing.
    expect((await list(A, { appId: B.app.id, limit: 100 })).items.map((i) => i.id)).toEqual(
      mine.items.map((i) => i.id),
    );
    expect((await list(B, { room: roomA.id })).items).toEqual([]);
    expect((await list(B, { actor: A.host.username })).items).toEqual([]);
    // The platform admin picks the app.
    const root = await callerOf(A.root).audit.list({ appId: B.app.id, limit: 100 });
    expect(root.items.length).toBeGreaterThan(0);
    expect(root.items.every((i) => i.appId === B.app.id)).toBe(true);
    expect((await callerOf(A.root).audit.list({ room: roomA.id })).items).toHaveLength(5);
    await rejectsWith(callerOf(A.host).audit.list({}), "FORBIDDEN");
  });
});
