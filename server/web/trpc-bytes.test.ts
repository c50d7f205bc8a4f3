// tRPC queries through the front: one query with a Bearer token is answered from the connection's
// bytes (server/front/fast.ts) once it has run, with the bytes and header node:http answers it
// with; the console's cookie, batches, failures and bad input are node:http's, as before.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFrontServer } from "../front/server";
import { callerOf, makeTenant, signedInBearer, uniq, type Tenant } from "../../test/helpers";
import { createApiHandler } from "./api";

let t: Tenant;
let front: ReturnType<typeof createFrontServer>;
let base: string;
let bearer: string;
beforeAll(async () => {
  t = await makeTenant();
  front = createFrontServer({ webOrigin: "http://127.0.0.1:9", api: createApiHandler() });
  await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  bearer = await signedInBearer(t.host.username, "trpc-bytes-test");
});
afterAll(async () => {
  front.closeAllConnections();
  await new Promise((r) => front.close(r));
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

  it("leave cookies, batches, failures and bad input to node:http", async () => {
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
    const batch = await get(`/api/trpc/rooms.list?batch=1&input=${q({ 0: { limit: 2 } })}`, {
      authorization: bearer,
    });
    expect([batch.status, batch.fast]).toEqual([200, 0]);
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
