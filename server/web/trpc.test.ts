// The fast path for queries answers exactly what tRPC's own handler answers (status, body), single
// and batched; whatever it does not take (mutations, failures, bad input) gets the official answer.
import { beforeAll, describe, expect, it } from "vitest";
import { callerOf, makeTenant, serve, signedInBearer, uniq, type Tenant } from "../../test/helpers";
import { createTrpcHandler, fastAnswers } from "./trpc";

let t: Tenant;
let fast: string;
let official: string;
let bearer: string;
let roomId: string;

beforeAll(async () => {
  t = await makeTenant();
  const [withFast, without] = [createTrpcHandler(), createTrpcHandler({ fastQueries: false })];
  fast = (await serve((req, res) => void withFast(req, res))).base;
  official = (await serve((req, res) => void without(req, res))).base;
  bearer = await signedInBearer(t.host.username, "trpc-test");
  roomId = (await callerOf(t.host).rooms.create({ title: uniq("trpc") })).id;
});

async function both(path: string, init: RequestInit = {}) {
  const [a, b] = await Promise.all(
    [fast, official].map(async (base) => {
      const r = await fetch(`${base}${path}`, init);
      return { status: r.status, type: r.headers.get("content-type"), body: await r.json() };
    }),
  );
  return { fast: a!, official: b! };
}
const q = (o: unknown) => encodeURIComponent(JSON.stringify(o));

describe("tRPC queries", () => {
  it("answer the same on the fast path, single and batched", async () => {
    const before = fastAnswers.count;
    const one = await both(`/api/trpc/rooms.list?input=${q({ limit: 5 })}`, { headers: { authorization: bearer } });
    expect(one.fast).toEqual(one.official);
    expect(one.fast.status).toBe(200);
    expect((one.fast.body as { result: { data: { items: Array<{ id: string }> } } }).result.data.items[0]!.id).toBe(
      roomId,
    );
    const batch = await both(
      `/api/trpc/rooms.list,rooms.get?batch=1&input=${q({ 0: { limit: 2 }, 1: { room: roomId } })}`,
      {
        headers: { authorization: bearer },
      },
    );
    expect(batch.fast).toEqual(batch.official);
    expect(batch.fast.body).toHaveLength(2);
    expect(fastAnswers.count - before).toBe(2);
  });

  it("leave failures, bad input and mutations to tRPC's own handler", async () => {
    const before = fastAnswers.count;
    const anonymous = await both(`/api/trpc/rooms.list?input=${q({ limit: 5 })}`);
    expect(anonymous.fast.status).toBe(401);
    expect(anonymous.fast).toEqual(anonymous.official);
    const bad = await both(`/api/trpc/rooms.list?input=${q({ limit: -1 })}`, { headers: { authorization: bearer } });
    expect(bad.fast.status).toBe(400);
    expect(bad.fast).toEqual(bad.official);
    const notJson = await both(`/api/trpc/rooms.list?input=%7Bnope`, { headers: { authorization: bearer } });
    expect(notJson.fast).toEqual(notJson.official);
    const missing = await both(`/api/trpc/rooms.get?input=${q({ room: "00000000-0000-4000-8000-000000000000" })}`, {
      headers: { authorization: bearer },
    });
    expect(missing.fast.status).toBe(404);
    expect(missing.fast).toEqual(missing.official);
    // Paths no procedure has, and one that is not percent-encoding, answered without failing.
    for (const path of ["/api/trpc/constructor", "/api/trpc/__proto__,rooms.list?batch=1", "/api/trpc/%E0%A4%A"]) {
      const odd = await both(path, { headers: { authorization: bearer } });
      expect([400, 404, 207]).toContain(odd.fast.status);
      expect(odd.fast).toEqual(odd.official);
    }
    const asQuery = await both(`/api/trpc/rooms.create?input=${q({ title: "x" })}`, {
      headers: { authorization: bearer },
    });
    expect(asQuery.fast).toEqual(asQuery.official); // a mutation over GET: refused the same way
    expect(fastAnswers.count).toBe(before);
  });
});
