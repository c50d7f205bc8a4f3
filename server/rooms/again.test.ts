// Rooms that survive a drop: each room's own grace decides when a lost stream ends it (sweeper and
// the countdown its sockets hear alike); an ended room goes live again as a new room with the same
// settings, linked from the old one, by its host or an admin only.
import { and, desc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../db/client";
import { auditLog, roomEvents, rooms } from "../db/schema";
import { env } from "../env";
import { streamStarted, streamStopped, endAbandonedRooms } from "../media/streams";
import { callerOf, makeTenant, ManualClock, rejectsWith, uniq, type Tenant } from "../../test/helpers";
import { continuationOf, watchTarget } from "./again";

let t: Tenant;
let u: Tenant;
beforeAll(async () => {
  [t, u] = await Promise.all([makeTenant(), makeTenant()]);
});
const host = () => callerOf(t.host);
const row = async (num: number) => (await getDb().select().from(rooms).where(eq(rooms.num, num)))[0]!;

/** A room whose stream started and then dropped at `clock`'s now: paused, in its grace. */
async function dropped(clock: ManualClock, graceS?: number | null) {
  const r = await host().rooms.create({ title: uniq("grace"), ...(graceS !== undefined ? { graceS } : {}) });
  await streamStarted(getDb(), clock, r.streamName, "test:1", { trusted: true });
  await streamStopped(getDb(), clock, r.streamName, "test:1");
  return r;
}

describe("per-room grace", () => {
  it("a room ends after its own grace, another after the default; the countdown its sockets hear follows each", async () => {
    const defaultS = env().MEDIA_END_GRACE_S;
    expect(defaultS).toBeGreaterThan(10);
    const clock = new ManualClock(Date.now());
    const short = await dropped(clock, 5);
    const deflt = await dropped(clock);
    expect((await row(short.num)).status).toBe("paused");
    expect(short.graceS).toBe(5);
    expect([deflt.graceS, deflt.graceDefault]).toEqual([defaultS, true]);

    // The status event of the drop carries when each room ends.
    const ends = async (num: number) => {
      const ev = (
        await getDb()
          .select()
          .from(roomEvents)
          .where(and(eq(roomEvents.roomNum, num), eq(roomEvents.type, "status")))
          .orderBy(desc(roomEvents.id))
          .limit(1)
      )[0]!;
      return (JSON.parse(ev.payload) as { graceEndsAt: number }).graceEndsAt;
    };
    const pausedAt = (await row(short.num)).pausedAt!.getTime();
    expect(await ends(short.num)).toBe(pausedAt + 5000);
    expect(await ends(deflt.num)).toBe((await row(deflt.num)).pausedAt!.getTime() + defaultS * 1000);

    clock.advance(4_000);
    await endAbandonedRooms(getDb(), clock, { appId: t.app.id });
    expect((await row(short.num)).status).toBe("paused");
    clock.advance(1_500);
    await endAbandonedRooms(getDb(), clock, { appId: t.app.id });
    expect((await row(short.num)).status).toBe("ended");
    expect((await row(deflt.num)).status).toBe("paused");
    // The audit row says which grace ran out.
    const a = (
      await getDb()
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.targetId, short.id), eq(auditLog.action, "room.stream_abandoned")))
    )[0]!;
    expect(JSON.parse(a.detail ?? "{}")).toMatchObject({ graceS: 5 });
    clock.advance(defaultS * 1000);
    await endAbandonedRooms(getDb(), clock, { appId: t.app.id });
    expect((await row(deflt.num)).status).toBe("ended");
  });

  it("changing the grace while the stream is away moves the countdown; null goes back to the default", async () => {
    const clock = new ManualClock(Date.now());
    const r = await dropped(clock);
    const updated = await callerOf(t.admin, clock).rooms.update({ room: r.id, graceS: 2 });
    expect([updated.graceS, updated.graceDefault]).toEqual([2, false]);
    const ev = (
      await getDb()
        .select()
        .from(roomEvents)
        .where(and(eq(roomEvents.roomNum, r.num), eq(roomEvents.type, "status")))
        .orderBy(desc(roomEvents.id))
        .limit(1)
    )[0]!;
    expect((JSON.parse(ev.payload) as { graceEndsAt: number }).graceEndsAt).toBe(
      (await row(r.num)).pausedAt!.getTime() + 2000,
    );
    const back = await host().rooms.update({ room: r.id, graceS: null });
    expect([back.graceS, back.graceDefault]).toEqual([env().MEDIA_END_GRACE_S, true]);
    clock.advance(3_000);
    await endAbandonedRooms(getDb(), clock, { appId: t.app.id });
    expect((await row(r.num)).status).toBe("paused");
  });

  it("the grace is bounded (1 s … 1 h, whole seconds) and only the room's managers set it", async () => {
    const r = await host().rooms.create({ title: uniq("bounds") });
    for (const graceS of [0, 3601, 1.5, -1])
      await rejectsWith(host().rooms.update({ room: r.id, graceS }), "BAD_REQUEST");
    await rejectsWith(host().rooms.create({ title: "x", graceS: 0 }), "BAD_REQUEST");
    await rejectsWith(callerOf(t.host2).rooms.update({ room: r.id, graceS: 10 }), "FORBIDDEN");
    await rejectsWith(callerOf(t.viewer).rooms.update({ room: r.id, graceS: 10 }), "FORBIDDEN");
    await rejectsWith(callerOf(u.admin).rooms.update({ room: r.id, graceS: 10 }), "NOT_FOUND");
    expect((await row(r.num)).graceS).toBeNull();
    expect((await host().rooms.update({ room: r.id, graceS: 3600 })).graceS).toBe(3600);
  });
});

describe("go live again", () => {
  async function endedRoom() {
    const r = await host().rooms.create({
      title: uniq("again"),
      notice: "Every Friday",
      coverUrl: "https://img.test/c.jpg",
      mode: 1,
      record: true,
      micSeats: 6,
      graceS: 42,
    });
    await host().rooms.update({ room: r.id, chatSlowS: 10, guestChat: true, clientAppId: "1400019352" });
    await host().rooms.start({ room: r.id });
    await host().rooms.stop({ room: r.id });
    return r;
  }

  it("makes a new room (new id, number and stream) with the settings, title and host; the old one links it", async () => {
    const old = await endedRoom();
    const next = await host().rooms.goLiveAgain({ room: old.id });
    expect(next.id).not.toBe(old.id);
    expect(next.num).toBeGreaterThan(old.num);
    expect(next.streamName).not.toBe(old.streamName);
    expect(next).toMatchObject({
      status: "prepare",
      title: old.title,
      notice: "Every Friday",
      coverUrl: "https://img.test/c.jpg",
      hostId: t.host.userId,
      hostNick: old.hostNick,
      mode: 1,
      record: true,
      micSeats: 6,
      graceS: 42,
      graceDefault: false,
      chatSlowS: 10,
      guestChat: true,
      clientAppId: "1400019352",
      // The default chat group (the room number) follows the new number.
      chatId: String(next.num),
      successorNum: null,
    });
    const seen = await host().rooms.get({ room: old.id });
    expect([seen.status, seen.successorNum, seen.successorId]).toEqual(["ended", next.num, next.id]);
    // Audited on both rooms, in the same transaction as the change.
    const actions = (
      await getDb()
        .select({ action: auditLog.action, targetId: auditLog.targetId, detail: auditLog.detail })
        .from(auditLog)
        .where(eq(auditLog.appId, t.app.id))
    ).map((a) => ({ ...a, detail: JSON.parse(a.detail ?? "{}") as unknown }));
    expect(actions).toContainEqual(
      expect.objectContaining({
        action: "room.go_live_again",
        targetId: old.id,
        detail: expect.objectContaining({ successor: next.id }),
      }),
    );
    expect(actions).toContainEqual(
      expect.objectContaining({
        action: "room.create",
        targetId: next.id,
        detail: expect.objectContaining({ predecessor: old.id }),
      }),
    );
  });

  it("only once per ended room, never for a room that has not ended", async () => {
    const live = await host().rooms.create({ title: uniq("live") });
    await host().rooms.start({ room: live.id });
    await rejectsWith(host().rooms.goLiveAgain({ room: live.id }), "ILLEGAL_TRANSITION");
    const old = await endedRoom();
    const next = await host().rooms.goLiveAgain({ room: old.id });
    const e = (await rejectsWith(host().rooms.goLiveAgain({ room: old.id }), "ILLEGAL_TRANSITION")) as {
      cause?: { details?: Record<string, unknown> };
    };
    expect(e.cause?.details).toMatchObject({ successor: next.id, successorNum: next.num });
    // Two at once: one wins, the other is refused (the old room is locked).
    const other = await endedRoom();
    const both = await Promise.allSettled([
      host().rooms.goLiveAgain({ room: other.id }),
      host().rooms.goLiveAgain({ room: other.id }),
    ]);
    expect(both.filter((b) => b.status === "fulfilled")).toHaveLength(1);
  });

  it("the room's host and its app's admins may; other hosts, viewers and other tenants may not (and nothing changes)", async () => {
    const old = await endedRoom();
    await rejectsWith(callerOf(t.host2).rooms.goLiveAgain({ room: old.id }), "FORBIDDEN");
    await rejectsWith(callerOf(t.viewer).rooms.goLiveAgain({ room: old.id }), "FORBIDDEN");
    await rejectsWith(callerOf(u.admin).rooms.goLiveAgain({ room: old.id }), "NOT_FOUND");
    await rejectsWith(callerOf({ kind: "anonymous" }).rooms.goLiveAgain({ room: old.id }), "UNAUTHENTICATED");
    expect((await row(old.num)).successorNum).toBeNull();
    const byAdmin = await callerOf(t.admin).rooms.goLiveAgain({ room: old.id });
    expect(byAdmin.hostId).toBe(t.host.userId);
  });

  it("the old watch URL leads to the newest room of the chain while it is on air", async () => {
    const first = await endedRoom();
    const second = await host().rooms.goLiveAgain({ room: first.id });
    // Not on air yet: viewers stay on the ended room, which says where the broadcast continues.
    expect((await watchTarget(getDb(), first.num))?.leadTo).toBeNull();
    expect(await continuationOf(getDb(), await row(first.num))).toMatchObject({ id: second.id, status: "prepare" });
    await host().rooms.start({ room: second.id });
    expect((await watchTarget(getDb(), first.id))?.leadTo).toMatchObject({ id: second.id, status: "live" });
    await host().rooms.stop({ room: second.id });
    const third = await host().rooms.goLiveAgain({ room: second.id });
    await host().rooms.start({ room: third.id });
    expect((await watchTarget(getDb(), first.id))?.leadTo).toMatchObject({ id: third.id });
    // Anonymous viewers' pull info names it too (rooms are public to watch).
    const pull = await callerOf({ kind: "anonymous" }).media.pullUrls({ room: first.id });
    expect(pull.continuedIn).toMatchObject({ id: third.id, num: third.num, status: "live" });
    // A live room is itself: no lead.
    expect((await watchTarget(getDb(), third.id))?.leadTo).toBeNull();
    expect(await watchTarget(getDb(), 999_999_999)).toBeNull();
  });
});
