// AUI `list` through the front: answered from the connection's bytes (server/front/fast.ts), at
// once when the caller's page and its facts have been read for everybody, else once read, with the
// route's answer byte for byte; the route answers errors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiFront } from "../../../test/front";
import { ctxOf, makeTenant, PASSWORD, postAlone, type Tenant } from "../../../test/helpers";
import { getDb } from "../../db/client";
import { createRoom, findRoom } from "../../rooms";
import { memberSubject, verifyRoomToken } from "../../tokens";
import { revoke } from "../../tokens/revocations";

let t: Tenant;
let front: Awaited<ReturnType<typeof startApiFront>>["front"];
let base: string;
let stop: () => Promise<void>;
beforeAll(async () => {
  t = await makeTenant();
  ({ front, base, stop } = await startApiFront());
});
afterAll(async () => {
  await stop();
});

/**
 * A request on a connection of its own; `chunked`: with a body the fast path leaves to node:http
 * (the route's answer). `fast`: answered by the fast path; `later`: by it, once the page was read.
 */
async function post(path: string, body: unknown, token?: string, chunked = false) {
  const [before, laterBefore] = [front.fastPath.answered, front.fastPath.answeredLater];
  const r = await postAlone(`${base}${path}`, typeof body === "string" ? body : JSON.stringify(body), {
    "content-type": "application/json",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(chunked ? { "transfer-encoding": "chunked" } : {}),
  });
  return {
    ...r,
    json: JSON.parse(r.text) as Array<RoomInfo> & Record<string, unknown>,
    fast: front.fastPath.answered - before,
    later: front.fastPath.answeredLater - laterBefore,
  };
}
type RoomInfo = { id: string } & Record<string, Record<string, string>>;
const LIST = { page_num: 1, page_size: 50, status: -1, user_id: "x" };

describe("AUI list on the front's fast path", () => {
  it("answers with the route's bytes, at once when the page was read for everybody; errors are the route's", async () => {
    const ctx = ctxOf(t.host);
    const rooms = [
      await createRoom(ctx, { title: "fast one", mode: 0, record: false }),
      await createRoom(ctx, { title: "fast two", mode: 0, record: false }),
    ];
    const signIn = async (username: string) =>
      (await post("/login", { username, password: PASSWORD })).json.token as string;
    const [viewer, host] = [await signIn(t.viewer.username), await signIn(t.host.username)];

    // A page not read yet: the fast path answers once it is read; then at once. The route's bytes.
    const cold = await post("/api/v1/live/list", LIST, viewer);
    expect([cold.status, cold.fast, cold.later]).toEqual([200, 1, 1]);
    const warm = await post("/api/v1/live/list", LIST, viewer);
    expect([warm.status, warm.fast, warm.later]).toEqual([200, 1, 0]);
    const route = await post("/api/v1/live/list", LIST, viewer, true);
    expect(route.fast).toBe(0);
    for (const a of [cold, warm]) expect([a.text, a.headers]).toEqual([route.text, route.headers]);
    // What a client does with it: the pull URLs play with the caller's token.
    const listed = warm.json.find((x) => x.id === rooms[0]!.id)!;
    const token = new URL(listed.pull_url_info!.flv_url!).searchParams.get("token")!;
    expect(verifyRoomToken(token, { scope: "play", room: rooms[0]!.id }, new Date()).sub).toBe(t.viewer.userId);
    expect(listed.push_url_info).toEqual({ rtmp_url: "", rts_url: "", srt_url: "" });

    // The anchor's own rooms carry push URLs (read per call): answered once they are read.
    const own = await post("/api/v1/live/list", LIST, host);
    expect([own.fast, own.later]).toEqual([1, 1]);
    expect(own.json.find((x) => x.id === rooms[0]!.id)!.push_url_info!.rtmp_url).toMatch(/^rtmp:\/\//);
    expect(own.text).toBe((await post("/api/v1/live/list", LIST, host, true)).text);

    // Errors are the route's, as before.
    const bad = await post("/api/v1/live/list", LIST, "a.b.c");
    expect([bad.status, bad.json.code, bad.fast]).toEqual([401, 401, 0]);
    const notObject = await post("/api/v1/live/list", "[1]", viewer);
    expect([notObject.status, notObject.fast]).toEqual([400, 0]);
    const badPage = await post("/api/v1/live/list", { ...LIST, page_num: 0 }, viewer);
    expect([badPage.status, badPage.fast]).toEqual([400, 0]);

    // A write in this process: the page is read again (answered later), with the new room in it.
    const third = await createRoom(ctx, { title: "fast three", mode: 0, record: false });
    const after = await post("/api/v1/live/list", LIST, viewer);
    expect([after.fast, after.later]).toEqual([1, 1]);
    expect(after.json.map((x) => x.id)).toContain(third.id);
    const again = await post("/api/v1/live/list", LIST, viewer);
    expect([again.fast, again.later, again.text]).toEqual([1, 0, after.text]);

    // The APIs' in-flight bound holds on the fast path too: over it, node:http refuses (busy).
    const full = await startApiFront({ maxInflight: 0 });
    try {
      const busy = await postAlone(`${full.base}/api/v1/live/list`, JSON.stringify(LIST), {
        authorization: `Bearer ${viewer}`,
      });
      expect([busy.status, full.front.fastPath.answered]).toEqual([503, 0]);
    } finally {
      await full.stop();
    }

    // Kicked from a room: the token kept for it is not handed out again, on either path.
    const room = await findRoom(getDb(), t.host, rooms[0]!.id);
    await revoke(
      getDb(),
      "member",
      memberSubject(room.num, t.viewer.userId),
      new Date(),
      new Date(Date.now() + 3600_000),
    );
    await new Promise((r) => setTimeout(r, 2)); // revoked before: a token signed in its millisecond is too
    const kicked = await post("/api/v1/live/list", LIST, viewer);
    expect([kicked.fast, kicked.later]).toEqual([1, 0]); // the page is still the one read for everybody
    const fresh = new URL(kicked.json.find((x) => x.id === rooms[0]!.id)!.pull_url_info!.flv_url!).searchParams.get(
      "token",
    )!;
    expect(fresh).not.toBe(token);
    expect(verifyRoomToken(fresh, { scope: "play", room: rooms[0]!.id }, new Date()).sub).toBe(t.viewer.userId);
  });
});
