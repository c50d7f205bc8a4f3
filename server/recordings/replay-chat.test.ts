// A replay's chat in step with its recording: onair's own recordings know when they started (on
// onair's clock: the embedded server's publisher leaving, or its packager start, or a reported file's
// end, less its duration), and an ended room's replay gets the messages sent
// while that recording was live, oldest first, in pages, removed ones left out, under the replay's
// own rules. Real ffmpeg makes the record file.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../clock";
import { getDb } from "../db/client";
import { chatMessages, recordings, rooms } from "../db/schema";
import { env } from "../env";
import { recordDone } from "../media/recorder";
import { REPLAY_CHAT_PAGE } from "../chat";
import { callerOf, makeTenant, rejectsWith, uniq, type Tenant } from "../../test/helpers";

let t: Tenant;
beforeAll(async () => {
  t = await makeTenant();
});

/** A 3-second FLV record file in MEDIA_DIR. */
function recordFile() {
  const dir = join(env().mediaDir, "replay-chat-test");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${uniq("rec")}.flv`);
  const ff = spawnSync(
    "ffmpeg",
    [
      ...["-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "3"],
      ...["-c:v", "libx264", "-g", "10", "-f", "flv", file],
    ],
    { encoding: "utf8" },
  );
  expect(ff.status, ff.stderr).toBe(0);
  return file;
}

async function liveRoom() {
  const host = callerOf(t.host);
  const room = await host.rooms.create({ title: uniq("replay chat"), record: true });
  await host.rooms.start({ room: room.id });
  const row = (await getDb().select().from(rooms).where(eq(rooms.id, room.id)))[0]!;
  return { room, row };
}

async function say(row: { num: number; appId: number }, at: number, text: string, deleted = false) {
  const [r] = await getDb()
    .insert(chatMessages)
    .values({
      roomNum: row.num,
      appId: row.appId,
      memberId: t.viewer.userId,
      nick: "viewer",
      role: 0,
      text,
      createdAt: new Date(at),
      deletedAt: deleted ? new Date(at + 100) : null,
      deletedBy: deleted ? t.host.userId : null,
    })
    .$returningId();
  return r!.id;
}

describe("a replay's chat", () => {
  it("ends a recording whose publisher's leaving is known then, even when its packager started later than its first frame", async () => {
    const { row } = await liveRoom();
    const endedAt = new Date(Date.now() - 1000);
    // The packager started 2 s before the end, but the file holds 3 s (it began with the frames
    // since the last keyframe): the end is what is known, so the start is the end less 3 s.
    const done = await recordDone(
      getDb(),
      new ManualClock(endedAt.getTime() + 4000),
      row.streamName,
      recordFile(),
      "test",
      {
        startedAt: new Date(endedAt.getTime() - 2000),
        endedAt,
      },
    );
    const rec = (await getDb().select().from(recordings).where(eq(recordings.id, done.id)))[0]!;
    expect(Math.abs(rec.durationMs - 3000)).toBeLessThan(300);
    expect(rec.startedAt!.getTime()).toBe(endedAt.getTime() - rec.durationMs);
  });

  it("starts a reported recording its duration before it was reported, and gives the messages of that span", async () => {
    const { room, row } = await liveRoom();
    const endedMs = Date.now() - 1000;
    const file = recordFile();
    // Before, during (one removed by the host), at the very ends, and after the recording.
    await say(row, endedMs - 60_000, "before");
    const during = [
      await say(row, endedMs - 2500, "第一 🎉"),
      await say(row, endedMs - 1500, "second"),
      await say(row, endedMs - 500, "third"),
    ];
    await say(row, endedMs - 1000, "removed", true);
    await say(row, endedMs + 5000, "after");

    // Reported (a media server's record-done) at endedMs on onair's clock.
    const done = await recordDone(getDb(), new ManualClock(endedMs), row.streamName, file, "test");
    const rec = (await getDb().select().from(recordings).where(eq(recordings.id, done.id)))[0]!;
    // ffprobe's duration of a 3 s clip, and the start it implies.
    expect(Math.abs(rec.durationMs - 3000)).toBeLessThan(300);
    expect(rec.startedAt!.getTime()).toBe(endedMs - rec.durationMs);

    const anon = callerOf({ kind: "anonymous" });
    // Not before the room has ended (its recordings are not offered yet either).
    await rejectsWith(anon.media.replayChat({ room: room.id, recording: done.id }), "NOT_FOUND");
    await callerOf(t.host).rooms.stop({ room: room.id });

    const replay = await anon.media.replay({ room: room.id });
    expect(replay.items.map((i) => [i.id, i.startedAt])).toEqual([[done.id, rec.startedAt!.getTime()]]);
    const page = await anon.media.replayChat({ room: room.id, recording: done.id });
    expect(page.startedAt).toBe(rec.startedAt!.getTime());
    expect(page.items.map((m) => [m.id, m.text])).toEqual([
      [during[0], "第一 🎉"],
      [during[1], "second"],
      [during[2], "third"],
    ]);
    expect(page.next).toBeNull();
    // Offsets into the video: when each was sent, less the recording's start.
    expect(page.items.map((m) => m.at - page.startedAt!)).toEqual([
      rec.durationMs - 2500,
      rec.durationMs - 1500,
      rec.durationMs - 500,
    ]);
    // From a point on (a viewer who seeks ahead): the messages from there.
    const ahead = await anon.media.replayChat({ room: room.id, recording: done.id, fromMs: rec.durationMs - 1500 });
    expect([ahead.startedAt, ahead.items.map((m) => m.text)]).toEqual([page.startedAt, ["second", "third"]]);
    // A signed-in viewer of the app sees the same.
    expect((await callerOf(t.viewer).media.replayChat({ room: room.num, recording: done.id })).items).toHaveLength(3);
  });

  it("pages through a busy recording in order, ties on the same millisecond included, without losing or repeating one", async () => {
    const { room, row } = await liveRoom();
    const endedMs = Date.now() - 1000;
    const file = recordFile();
    const ids: number[] = [];
    // 2.5 pages' worth, three messages to each millisecond, so ties straddle the page ends.
    const n = Math.floor(REPLAY_CHAT_PAGE * 2.5);
    const values = Array.from({ length: n }, (_, i) => ({
      roomNum: row.num,
      appId: row.appId,
      memberId: t.viewer.userId,
      nick: "v",
      role: 0,
      text: `m${i}`,
      createdAt: new Date(endedMs - 2500 + Math.floor(i / 3)),
    }));
    for (const v of values) ids.push((await getDb().insert(chatMessages).values(v).$returningId())[0]!.id);
    // The embedded server's recordings start when its packager did (on onair's clock).
    const startedAt = new Date(endedMs - 2600);
    const done = await recordDone(getDb(), new ManualClock(endedMs), row.streamName, file, "test", { startedAt });
    const rec = (await getDb().select().from(recordings).where(eq(recordings.id, done.id)))[0]!;
    expect(rec.startedAt).toEqual(startedAt);
    await callerOf(t.host).rooms.stop({ room: room.id });

    const anon = callerOf({ kind: "anonymous" });
    const got: number[] = [];
    let cursor: { at: number; id: number } | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: Awaited<ReturnType<typeof anon.media.replayChat>> = await anon.media.replayChat({
        room: room.id,
        recording: done.id,
        cursor,
      });
      expect(page.items.length).toBeLessThanOrEqual(REPLAY_CHAT_PAGE);
      got.push(...page.items.map((m) => m.id));
      cursor = page.next;
      if (!cursor) break;
    }
    expect(got).toEqual(ids);
  });

  it("has nothing in step with a recording whose start is unknown, and no recording of another room", async () => {
    const { room } = await liveRoom();
    const other = await liveRoom();
    const host = callerOf(t.host);
    const reported = await host.recordings.create({ room: room.id, name: "r", url: "https://vod.test/r.mp4" });
    const elsewhere = await host.recordings.create({ room: other.room.id, name: "o", url: "https://vod.test/o.mp4" });
    await host.rooms.stop({ room: room.id });
    const anon = callerOf({ kind: "anonymous" });
    expect((await anon.media.replay({ room: room.id })).items.map((i) => i.startedAt)).toEqual([null]);
    expect(await anon.media.replayChat({ room: room.id, recording: reported.id })).toEqual({
      startedAt: null,
      items: [],
      next: null,
    });
    await rejectsWith(anon.media.replayChat({ room: room.id, recording: elsewhere.id }), "NOT_FOUND");
  });
});
