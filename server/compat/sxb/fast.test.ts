// 随心播 `roomlist`, `livestreamlist` and `roomidlist` through the front: answered from the
// connection's bytes (server/front/fast.ts), at once when all they list has been read for
// everybody, else once read, with the command's answer byte for byte; an app that asks for a sign,
// errors and other commands are the route's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiFront } from "../../../test/front";
import { callerOf, ctxOf, makeTenant, postAlone, type Tenant } from "../../../test/helpers";
import { resetEnvForTests } from "../../env";
import { joinRoom } from "../../presence";
import { createRoom, transitionRoom, updateRoom } from "../../rooms";
import { eq } from "drizzle-orm";
import { getDb } from "../../db/client";
import { users } from "../../db/schema";
import { verifyRoomToken } from "../../tokens";
import { SXB } from ".";

let t: Tenant;
let front: Awaited<ReturnType<typeof startApiFront>>["front"];
let base: string;
let stop: () => Promise<void>;
beforeAll(async () => {
  t = await makeTenant();
  process.env.COMPAT_SXB_APP_ID = String(t.app.id);
  resetEnvForTests();
  ({ front, base, stop } = await startApiFront());
});
afterAll(async () => {
  delete process.env.COMPAT_SXB_APP_ID;
  resetEnvForTests();
  await stop();
});

/**
 * A command on a connection of its own; `chunked`: a body the fast path leaves to node:http.
 * `fast`: answered by the fast path; `later`: by it, once what it lists was read.
 */
async function post(cmd: string, body: unknown, chunked = false) {
  const [before, laterBefore] = [front.fastPath.answered, front.fastPath.answeredLater];
  const r = await postAlone(
    `${base}/sxb/index.php?svc=${cmd.split("/")[0]}&cmd=${cmd.split("/")[1]}`,
    JSON.stringify(body),
    {
      "content-type": "application/json",
      ...(chunked ? { "transfer-encoding": "chunked" } : {}),
    },
  );
  return {
    ...r,
    json: JSON.parse(r.text) as { errorCode: number; errorInfo: string; data?: any },
    fast: front.fastPath.answered - before,
    later: front.fastPath.answeredLater - laterBefore,
  };
}

/** A 随心播 user registered and signed in (its token). */
async function signIn(id: string) {
  const pwd = Buffer.from("secret-pass-1").toString("base64");
  expect((await post("account/regist", { id, pwd })).json.errorCode).toBe(0);
  return (await post("account/login", { id, pwd })).json.data.token as string;
}

/**
 * A list asked for twice (answered by the fast path once read, then at once) and through the route:
 * the same bytes and headers each time. The second answer.
 */
async function fastAsTheRoute(cmd: string, body: unknown) {
  const cold = await post(cmd, body);
  expect([cold.status, cold.json.errorCode, cold.fast, cold.later]).toEqual([200, 0, 1, 1]);
  const warm = await post(cmd, body);
  expect([warm.status, warm.fast, warm.later]).toEqual([200, 1, 0]);
  const route = await post(cmd, body, true);
  expect(route.fast).toBe(0);
  for (const a of [cold, warm]) expect([a.text, a.headers]).toEqual([route.text, route.headers]);
  return warm;
}

describe("随心播 roomlist on the front's fast path", () => {
  it("answers with the command's bytes, at once when its page was read for everybody; the rest is the route's", async () => {
    const host = ctxOf(t.host);
    const live = async (title: string) => {
      const r = await createRoom(host, { title, mode: 0, record: false });
      await transitionRoom(host, r.id, "start");
      return r;
    };
    const rooms = [await live("快一 fast"), await live("fast two 🎉")];
    const token = await signIn(`sxbfast_${Date.now().toString(36)}`);
    const LIST = { token, type: "live", index: 0, size: 20 };

    // A page not read yet: the fast path answers once it is read; then at once. The route's bytes.
    const warm = await fastAsTheRoute("live/roomlist", LIST);
    // What a client does with it: each room by its number and title, its host by the id they registered.
    const listed = warm.json.data.rooms as Array<{ uid: string; info: { roomnum: number; title: string } }>;
    for (const r of rooms) {
      const row = listed.find((x) => x.info.roomnum === r.num)!;
      expect([row.uid, row.info.title]).toEqual([t.host.username, r.title]);
    }
    expect(warm.json.data.total).toBeGreaterThanOrEqual(2);

    // Errors are the route's; the heartbeat stays the front's (its own fast route).
    const expired = await post("live/roomlist", { ...LIST, token: "a.b.c" });
    expect([expired.json.errorCode, expired.fast]).toEqual([SXB.TOKEN_EXPIRED, 0]);
    const badSize = await post("live/roomlist", { ...LIST, size: "many" });
    expect([badSize.json.errorCode, badSize.fast]).toEqual([SXB.BAD_DATA, 0]);
    const beat = await post("live/heartbeat", { token, roomnum: rooms[0]!.num, role: 0, thumbup: 0 });
    expect([beat.json.errorCode, beat.fast]).toEqual([0, 1]);

    // A rename in this process: the page is read again (answered later), with the new title.
    await updateRoom(host, { room: rooms[0]!.num, title: "renamed 改名" });
    const after = await post("live/roomlist", LIST);
    expect([after.fast, after.later]).toEqual([1, 1]);
    expect(after.json.data.rooms.find((x: any) => x.info.roomnum === rooms[0]!.num).info.title).toBe("renamed 改名");
    const again = await post("live/roomlist", LIST);
    expect([again.fast, again.later, again.text]).toEqual([1, 0, after.text]);

    // An app that asks for a sign: the route checks it (none sent: 10001), never the fast path.
    await callerOf(t.root).apps.update({ id: t.app.id, sxbSign: true });
    try {
      for (let i = 0; i < 2; i++) {
        const unsigned = await post("live/roomlist", LIST);
        expect([unsigned.json.errorCode, unsigned.fast]).toEqual([SXB.BAD_REQUEST, 0]);
      }
    } finally {
      await callerOf(t.root).apps.update({ id: t.app.id, sxbSign: false });
    }
    const signOff = await post("live/roomlist", LIST);
    expect([signOff.json.errorCode, signOff.fast]).toEqual([0, 1]);
    expect((await post("live/roomlist", LIST, true)).text).toBe(signOff.text);
  });
});

describe("随心播 livestreamlist on the front's fast path", () => {
  it("answers with the command's bytes, each room's play addresses signed for the caller", async () => {
    const host = ctxOf(t.host);
    const room = await createRoom(host, { title: "stream list", mode: 0, record: false });
    await transitionRoom(host, room.id, "start");
    const stamp = Date.now().toString(36);
    const [token, token2] = [await signIn(`sxbls_${stamp}`), await signIn(`sxbls2_${stamp}`)];
    const LIST = { token, index: 0, size: 50 };

    const warm = await fastAsTheRoute("live/livestreamlist", LIST);

    // What a client does with it: plays the room's FLV, HLS or RTMP address as the one who asked.
    type Video = { uid: string; cover: string; address: string; address2: string; address3: string };
    const played = (answer: typeof warm) => {
      const v = (answer.json.data.videos as Video[]).find((x) => x.address.includes(`/live/${room.streamName}.flv`))!;
      expect(v.uid).toBe(t.host.username);
      expect(v.address2).toContain(`/live/${room.streamName}/index.m3u8?token=`);
      const tokens = [v.address, v.address2, v.address3].map((u) => new URL(u).searchParams.get("token")!);
      expect(new Set(tokens).size).toBe(1);
      return verifyRoomToken(tokens[0]!, { scope: "play", room: room.id, stream: room.streamName }, new Date());
    };
    const mine = played(warm);
    const [user] = await getDb()
      .select({ id: users.id })
      .from(users)
      .where(eq(users.username, `sxbls_${stamp}`));
    expect(mine.sub).toBe(user!.id);
    const theirs = played(await post("live/livestreamlist", { ...LIST, token: token2 }));
    expect(theirs.sub).not.toBe(mine.sub);
    expect(warm.json.data.total).toBeGreaterThanOrEqual(1);

    // Errors are the route's, and an app that asks for a sign is never the fast path's.
    const expired = await post("live/livestreamlist", { ...LIST, token: "a.b.c" });
    expect([expired.json.errorCode, expired.fast]).toEqual([SXB.TOKEN_EXPIRED, 0]);
    const badIndex = await post("live/livestreamlist", { ...LIST, index: -1 });
    expect([badIndex.json.errorCode, badIndex.fast]).toEqual([SXB.BAD_DATA, 0]);
    await callerOf(t.root).apps.update({ id: t.app.id, sxbSign: true });
    try {
      const unsigned = await post("live/livestreamlist", LIST);
      expect([unsigned.json.errorCode, unsigned.fast]).toEqual([SXB.BAD_REQUEST, 0]);
    } finally {
      await callerOf(t.root).apps.update({ id: t.app.id, sxbSign: false });
    }
  });
});

describe("随心播 roomidlist on the front's fast path", () => {
  it("answers with the command's bytes: the room's online members by the ids they registered, the host first", async () => {
    const stamp = Date.now().toString(36);
    const viewerId = `sxbidv_${stamp}`;
    const viewerToken = await signIn(viewerId);
    const host = ctxOf(t.host);
    const room = await createRoom(host, { title: "成员 members", mode: 0, record: false });
    await transitionRoom(host, room.id, "start");
    const roomnum = room.num;
    await joinRoom(host, { room: room.id });
    expect(
      (await post("live/reportmemid", { token: viewerToken, id: viewerId, roomnum, operate: 0 })).json.errorCode,
    ).toBe(0);
    const hostId = t.host.username;

    const LIST = { token: viewerToken, roomnum, index: 0, size: 10 };
    const warm = await fastAsTheRoute("live/roomidlist", LIST);
    expect(warm.json.data).toEqual({
      total: 2,
      idlist: [
        { id: hostId, role: 1 },
        { id: viewerId, role: 0 },
      ],
    });

    // A room that is not there, or of another app: the route's 10010; a bad page: its 10003.
    const missing = await post("live/roomidlist", { ...LIST, roomnum: 999_999_999 });
    expect([missing.json.errorCode, missing.fast]).toEqual([SXB.NO_ROOM, 0]);
    const badSize = await post("live/roomidlist", { ...LIST, size: 0 });
    expect([badSize.json.errorCode, badSize.fast]).toEqual([SXB.BAD_DATA, 0]);
  });
});
