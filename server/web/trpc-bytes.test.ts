// tRPC queries through the front: one query (alone or as a batch of one) with a Bearer token or the
// console's session cookie is answered from the connection's bytes (server/front/fast.ts) once it
// has run, with the bytes and header node:http answers it with; batches of several queries,
// failures and bad input are node:http's, as before.
import http from "node:http";
import net, { type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiFront } from "../../test/front";
import { callerOf, consoleSessionToken, makeTenant, signedInBearer, uniq, type Tenant } from "../../test/helpers";
import { revokeSessionById } from "../accounts";
import { getDb } from "../db/client";
import { verifyRoomToken } from "../tokens";

let t: Tenant;
let front: Awaited<ReturnType<typeof startApiFront>>["front"];
let base: string;
let stop: () => Promise<void>;
let bearer: string;
beforeAll(async () => {
  t = await makeTenant();
  ({ front, base, stop } = await startApiFront());
  bearer = await signedInBearer(t.host.username, "trpc-bytes-test");
});
afterAll(async () => {
  await stop();
});

/**
 * A GET on a keep-alive connection of its own; `viaNodeHttp`: with an (empty) chunked body, which
 * the fast path leaves to node:http. `fast`: answered from the bytes; `later`: once run.
 */
async function get(path: string, headers: Record<string, string> = {}, viaNodeHttp = false) {
  const [before, laterBefore] = [front.fastPath.answered, front.fastPath.answeredLater];
  let socket: Socket | undefined;
  const r = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(`${base}${path}`, {
      agent: false,
      headers: { connection: "keep-alive", ...headers, ...(viaNodeHttp ? { "transfer-encoding": "chunked" } : {}) },
    });
    req.on("socket", (s) => (socket = s));
    req.on("response", resolve).on("error", reject).end();
  });
  let text = "";
  r.setEncoding("utf8");
  for await (const chunk of r) text += chunk as string;
  socket?.destroy();
  return {
    status: r.statusCode,
    text,
    headers: Object.entries(r.headers).filter(([k]) => k !== "date"),
    fast: front.fastPath.answered - before,
    later: front.fastPath.answeredLater - laterBefore,
  };
}
const q = (o: unknown) => encodeURIComponent(JSON.stringify(o));

describe("tRPC queries on the front's fast path", () => {
  it("answer one query with a Bearer token from the bytes, as node:http answers it", async () => {
    const room = await callerOf(t.host).rooms.create({ title: uniq("bytes 字节") });
    const path = `/api/trpc/rooms.list?input=${q({ limit: 5 })}`;
    const bytes = await get(path, { authorization: bearer });
    expect([bytes.status, bytes.fast, bytes.later]).toEqual([200, 1, 1]);
    const viaHttp = await get(path, { authorization: bearer }, true);
    expect([viaHttp.status, viaHttp.fast]).toEqual([200, 0]);
    expect([bytes.text, bytes.headers]).toEqual([viaHttp.text, viaHttp.headers]);
    // What a client does with it: the newest room first, by its id and title.
    const items = (JSON.parse(bytes.text) as { result: { data: { items: Array<{ id: string; title: string }> } } })
      .result.data.items;
    expect([items[0]!.id, items[0]!.title]).toEqual([room.id, room.title]);
    const one = await get(`/api/trpc/rooms.get?input=${q({ room: room.id })}`, { authorization: bearer });
    expect([one.status, one.fast]).toEqual([200, 1]);
    expect(JSON.parse(one.text).result.data.title).toBe(room.title);
  });

  it("answer the console's session cookie and batches of one query from the bytes too", async () => {
    const { token, sid } = await consoleSessionToken(t.host);
    const cookie = `next-auth.csrf-token=x; next-auth.session-token=${token}`;
    // The console's live-rooms page polls this (its batched link), as the host signed in.
    const path = `/api/trpc/rooms.list?batch=1&input=${q({ 0: { status: "live", limit: 50, withMetrics: true } })}`;
    const mine = await callerOf(t.host).rooms.create({ title: uniq("console 控制台") });
    await callerOf(t.host).rooms.start({ room: mine.id });
    const bytes = await get(path, { cookie });
    expect([bytes.status, bytes.fast]).toEqual([200, 1]);
    const viaHttp = await get(path, { cookie }, true);
    expect([viaHttp.status, viaHttp.fast]).toEqual([200, 0]);
    expect([bytes.text, bytes.headers]).toEqual([viaHttp.text, viaHttp.headers]);
    const [answer] = JSON.parse(bytes.text) as Array<{
      result: { data: { items: Array<{ id: string; title: string }> } };
    }>;
    expect(answer!.result.data.items.find((r) => r.id === mine.id)?.title).toBe(mine.title);
    // With a Bearer token too.
    const withBearer = await get(path, { authorization: bearer });
    expect([withBearer.status, withBearer.fast]).toEqual([200, 1]);
    // Two Cookie lines (node:http joins them; Node's client never sends two): node:http's, whose
    // actor is the session's even where the first line has none (a public query signs for them).
    const before = front.fastPath.answered;
    const pull = `/api/trpc/media.pullUrls?input=${q({ room: mine.id })}`;
    const raw = await new Promise<string>((resolve, reject) => {
      const s = net.connect(Number(new URL(base).port), "127.0.0.1");
      let text = "";
      s.setEncoding("utf8");
      s.on("data", (d: string) => {
        text += d;
        const head = text.indexOf("\r\n\r\n");
        const length = Number(/content-length: *(\d+)/i.exec(text)?.[1] ?? -1);
        if (head > 0 && length >= 0 && Buffer.byteLength(text.slice(head + 4)) >= length) {
          resolve(text.slice(head + 4));
          s.destroy();
        }
      });
      s.on("error", reject);
      s.write(
        `GET ${pull} HTTP/1.1\r\nhost: x\r\ncookie: next-auth.csrf-token=x\r\ncookie: next-auth.session-token=${token}\r\n\r\n`,
      );
    });
    expect(front.fastPath.answered - before).toBe(0);
    const played = (JSON.parse(raw) as { result: { data: { token: string } } }).result.data.token;
    expect(verifyRoomToken(played, { scope: "play", room: mine.id }, new Date()).sub).toBe(t.host.userId);
    // Signed out: refused at once (node:http's 401), kept or not.
    await revokeSessionById(getDb(), sid, new Date());
    const out = await get(path, { cookie });
    expect([out.status, out.fast]).toEqual([401, 0]);
  });

  it("leave anonymous calls, batches of several, failures and bad input to node:http", async () => {
    const list = `/api/trpc/rooms.list?input=${q({ limit: 5 })}`;
    const anonymous = await get(list);
    expect([anonymous.status, anonymous.fast]).toEqual([401, 0]);
    const cookie = await get(list, { cookie: "authjs.session-token=nope" });
    expect([cookie.status, cookie.fast]).toEqual([401, 0]);
    const badToken = await get(list, { authorization: "Bearer a.b.c" });
    expect([badToken.status, badToken.fast]).toEqual([401, 0]);
    const badInput = await get(`/api/trpc/rooms.list?input=${q({ limit: -1 })}`, { authorization: bearer });
    expect([badInput.status, badInput.fast]).toEqual([400, 0]);
    const notJson = await get(`/api/trpc/rooms.list?input=%7Bnope`, { authorization: bearer });
    expect([notJson.status, notJson.fast]).toEqual([400, 0]);
    const missing = await get(`/api/trpc/rooms.get?input=${q({ room: "00000000-0000-4000-8000-000000000000" })}`, {
      authorization: bearer,
    });
    expect([missing.status, missing.fast]).toEqual([404, 0]);
    const batch = await get(`/api/trpc/rooms.list,auth.me?batch=1&input=${q({ 0: { limit: 2 } })}`, {
      authorization: bearer,
    });
    expect([batch.status, batch.fast]).toEqual([200, 0]);
    expect((JSON.parse(batch.text) as unknown[]).length).toBe(2);
    // A streaming client (httpBatchStreamLink) asks for JSON lines: tRPC's own answer, as it streams it.
    const stream = await get(`/api/trpc/rooms.list?batch=1&input=${q({ 0: { limit: 2 } })}`, {
      authorization: bearer,
      "trpc-accept": "application/jsonl",
    });
    expect([stream.status, stream.fast]).toEqual([200, 0]);
    expect(stream.text.trimStart().startsWith("[")).toBe(false);
    expect(stream.text.split("\n").filter(Boolean).length).toBeGreaterThan(1);
    const streamOne = await get(list, { authorization: bearer, "trpc-accept": "application/jsonl" });
    expect(streamOne.fast).toBe(0); // (tRPC streams batches only: its own 400 for one query)
  });
});
