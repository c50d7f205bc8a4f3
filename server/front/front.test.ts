// The front process over real HTTP: heartbeats, token checks, errors, proxying, health, and no
// like lost when it is stopped with SIGTERM while heartbeats sit in its buffer.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../db/client";
import { roomStats } from "../presence/figures";
import { findRoom } from "../rooms";
import { signRoomToken } from "../tokens";
import { callerOf, makeTenant, uniq, type Tenant } from "../../test/helpers";
import { exited, freePort, spawnTs, waitFor } from "../../test/process";

let t: Tenant;
let base: string;
let web: http.Server;
let front: ReturnType<typeof spawnTs>;
let roomId: string;
let presenceToken: string;

beforeAll(async () => {
  t = await makeTenant();
  // Stands in for the web process so proxying can be observed byte for byte.
  web = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      res.writeHead(req.url === "/api/health" ? 200 : 207, { "content-type": "application/json", "x-from": "web" });
      res.end(
        JSON.stringify({ process: "web", method: req.method, url: req.url, body, cookie: req.headers.cookie ?? null }),
      );
    });
  });
  const webPort = await freePort();
  await new Promise<void>((r) => web.listen(webPort, "127.0.0.1", r));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  front = spawnTs("server/front/main.ts", {
    PORT: String(port),
    WEB_PORT: String(webPort),
    PRESENCE_FLUSH_MS: "1000",
    REVOCATION_POLL_MS: "200",
    // The figures refresh would make every test sharing this database read a table a second behind.
    FIGURES_REFRESH_MS: "0",
  });
  await waitFor(`${base}/api/health`, 30_000);
  const host = callerOf(t.host);
  const r = await host.rooms.create({ title: uniq("front") });
  await host.rooms.start({ room: r.id });
  roomId = r.id;
  presenceToken = (await callerOf(t.viewer).presence.join({ room: r.id })).presenceToken;
});
afterAll(async () => {
  front?.child.kill("SIGKILL");
  await new Promise((r) => web?.close(r));
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

describe("front process", () => {
  it("answers heartbeats (token in body or Bearer header)", async () => {
    const r = await post("/api/presence/heartbeat", JSON.stringify({ token: presenceToken, likes: 2 }));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true, intervalS: 10 });
    const r2 = await post("/api/presence/heartbeat", JSON.stringify({ likes: 3 }), {
      authorization: `Bearer ${presenceToken}`,
    });
    expect(r2.status).toBe(200);
  });

  it("refuses bad heartbeats with clear codes", async () => {
    const expired = signRoomToken(
      { scope: "presence", app: t.app.id, room: roomId, num: 1, sub: t.viewer.userId },
      new Date(Date.now() - 7200_000),
      60,
    ).token;
    const cases: [string, number, string][] = [
      [JSON.stringify({ token: expired }), 401, "TOKEN_EXPIRED"],
      [JSON.stringify({ token: presenceToken.slice(0, -3) + "abc" }), 401, "TOKEN_INVALID"],
      [JSON.stringify({ token: "not-a-token-at-all" }), 401, "TOKEN_INVALID"],
      ["{not json", 400, "BAD_REQUEST"],
      [JSON.stringify({ token: presenceToken, likes: -1 }), 400, "BAD_REQUEST"],
      [JSON.stringify([1, 2]), 400, "BAD_REQUEST"],
      [JSON.stringify({ token: "x".repeat(20_000) }), 413, "PAYLOAD_TOO_LARGE"],
    ];
    for (const [body, status, code] of cases) {
      const r = await post("/api/presence/heartbeat", body);
      expect([r.status, ((await r.json()) as { error: { code: string } }).error.code]).toEqual([status, code]);
    }
    const bad = await post("/api/presence/heartbeat", JSON.stringify({ token: presenceToken, likes: "many" }));
    expect(
      ((await bad.json()) as { error: { details: { fields: Record<string, string> } } }).error.details.fields,
    ).toHaveProperty("likes");
  });

  it("checks play tokens: valid, other room, expired, wrong scope", async () => {
    const play = (await callerOf(t.viewer).tokens.issue({ room: roomId })).token;
    const ok = await fetch(`${base}/api/tokens/verify?token=${play}&room=${roomId}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, scope: "play", room: roomId, member: t.viewer.userId });
    const other = await fetch(`${base}/api/tokens/verify?token=${play}&room=${crypto.randomUUID()}`);
    expect([other.status, ((await other.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      "TOKEN_INVALID",
    ]);
    const scope = await post("/api/tokens/verify", JSON.stringify({ token: play, scope: "publish" }));
    expect(scope.status).toBe(401);
    const old = signRoomToken(
      { scope: "play", app: t.app.id, room: roomId, num: 1, sub: "x" },
      new Date(Date.now() - 7200_000),
      60,
    ).token;
    const exp = await fetch(`${base}/api/tokens/verify?token=${old}`);
    expect(((await exp.json()) as { error: { code: string } }).error.code).toBe("TOKEN_EXPIRED");
  });

  it("sees a kick made by another process within a poll interval", async () => {
    const r = await callerOf(t.host).rooms.create({ title: uniq("kick") });
    const j = await callerOf(t.viewer2).presence.join({ room: r.id });
    expect((await post("/api/presence/heartbeat", JSON.stringify({ token: j.presenceToken }))).status).toBe(200);
    await callerOf(t.host).presence.kick({ room: r.id, memberId: t.viewer2.userId });
    await new Promise((res) => setTimeout(res, 600));
    const after = await post("/api/presence/heartbeat", JSON.stringify({ token: j.presenceToken }));
    expect(after.status).toBe(401);
  });

  it("answers a room's public state for players (status, stream, figures); bad and unknown rooms clearly", async () => {
    const r = await fetch(`${base}/api/rooms/state?room=${roomId}`);
    expect(r.status).toBe(200);
    const s = (await r.json()) as { id: string; status: string; streamOnline: boolean; metrics: { online: number } };
    expect(s).toMatchObject({ id: roomId, status: "live", streamOnline: false });
    expect(s.metrics.online).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${base}/api/rooms/state?room=drop%20table`)).status).toBe(400);
    expect((await fetch(`${base}/api/rooms/state?room=987654321`)).status).toBe(404);
  });

  it("answers the APIs itself and streams every other request to the web process unchanged", async () => {
    const api = await fetch(`${base}/api/trpc/rooms.list`);
    expect(api.status).toBe(401); // tRPC's answer, from this process
    expect(api.headers.get("x-from")).toBeNull();
    const r = await fetch(`${base}/admin/rooms?x=1`, {
      method: "POST",
      body: "payload",
      headers: { cookie: "a=b" },
    });
    expect(r.status).toBe(207);
    expect(r.headers.get("x-from")).toBe("web");
    expect(await r.json()).toMatchObject({
      method: "POST",
      url: "/admin/rooms?x=1",
      body: "payload",
      cookie: "a=b",
    });
  });

  it("reports health of the database and the web process", async () => {
    const r = await fetch(`${base}/api/health`);
    const h = (await r.json()) as { process: string; db: { ok: boolean; version: string }; web: { process: string } };
    expect(h).toMatchObject({ process: "front", db: { ok: true }, web: { process: "web" } });
    expect(h.db.version).toContain("MariaDB");
  });

  it("loses no like when stopped with SIGTERM while heartbeats are buffered", async () => {
    const host = callerOf(t.host);
    const r = await host.rooms.create({ title: uniq("sigterm") });
    await host.rooms.start({ room: r.id });
    const tokens = await Promise.all(
      [t.viewer, t.viewer2, t.host2].map(async (a) => (await callerOf(a).presence.join({ room: r.id })).presenceToken),
    );
    let expected = 0;
    for (const [i, tok] of tokens.entries()) {
      for (let likes = 1; likes <= 20 + i; likes++)
        expect((await post("/api/presence/heartbeat", JSON.stringify({ token: tok, likes }))).status).toBe(200);
      expected += 20 + i;
    }
    front.child.kill("SIGTERM");
    expect(await exited(front.child)).toBe(0);
    expect(front.output()).toContain("front stopped");
    const s = await roomStats(getDb(), await findRoom(getDb(), t.root, r.id), new Date());
    expect(s.likes).toBe(expected);
  });
});
