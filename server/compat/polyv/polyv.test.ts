// Contract tests for Polyv push (seed 002): the seed's worked examples as vectors, teacher_login
// returning a push URL that is the room's, channel rename, and listUsers from real presence.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../db/client";
import { channelPassword } from "../../media/keys";
import { presenceBuffer } from "../../presence/buffer";
import { callerOf, makeTenant, type Tenant } from "../../../test/helpers";
import { createPolyvHandler, polyvSign } from ".";

let t: Tenant;
let server: http.Server;
let base: string;
beforeAll(async () => {
  t = await makeTenant();
  const h = createPolyvHandler();
  server = http.createServer((req, res) => void (h(req, res) || res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const form = (path: string, body: Record<string, string>) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(body).toString(),
  });

describe("Polyv sign rules (the seed's worked examples)", () => {
  it("passwd, login sign and channel-set sign", () => {
    expect(polyvSign.passwd("461666")).toBe("aeb0e56d32d841cbc52b0ed18721167e");
    expect(polyvSign.login("153884", "aeb0e56d32d841cbc52b0ed18721167e", "1516327146366")).toBe(
      "32046e6a4bab8d95de9e5bc6fc4630e7",
    );
    expect(polyvSign.channelSet("153884", "小程序推流测试test")).toBe("03395ED7F948A6F8CC63A5EEBA21CCB7");
  });
});

describe("Polyv API", () => {
  it("teacher_login → {url, stream} whose concatenation is the room's push URL; bad passwd/sign/time refused", async () => {
    const room = await callerOf(t.host).rooms.create({ title: "polyv" });
    const push = await callerOf(t.host).media.pushInfo({ room: room.id });
    expect(push.channelPassword).toBe(channelPassword(room));
    const passwd = polyvSign.passwd(push.channelPassword);
    const ts = String(Date.now());
    const ok = await form("/api/v2/teacher_login.json", {
      passwd,
      timestamp: ts,
      number: String(room.num),
      account: String(room.num),
      sign: polyvSign.login(String(room.num), passwd, ts),
    });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { url: string; stream: string };
    expect(Object.keys(body).sort()).toEqual(["stream", "url"]);
    expect(body.url + body.stream).toBe(push.rtmp_url);
    const wrongPw = polyvSign.passwd("00000000");
    expect(
      (
        await form("/api/v2/teacher_login.json", {
          passwd: wrongPw,
          timestamp: ts,
          number: String(room.num),
          account: String(room.num),
          sign: polyvSign.login(String(room.num), wrongPw, ts),
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await form("/api/v2/teacher_login.json", {
          passwd,
          timestamp: ts,
          number: String(room.num),
          account: String(room.num),
          sign: "0".repeat(32),
        })
      ).status,
    ).toBe(403);
    const old = String(Date.now() - 3600_000);
    expect(
      (
        await form("/api/v2/teacher_login.json", {
          passwd,
          timestamp: old,
          number: String(room.num),
          account: String(room.num),
          sign: polyvSign.login(String(room.num), passwd, old),
        })
      ).status,
    ).toBe(403);
    const missing = await form("/api/v2/teacher_login.json", { number: String(room.num) });
    expect([missing.status, ((await missing.json()) as { status: string }).status]).toEqual([400, "error"]);
  });

  it("channel update renames the room, exactly as the seed signs it", async () => {
    const room = await callerOf(t.host).rooms.create({ title: "before" });
    const name = "小程序推流测试test";
    const ok = await form(`/v1/channels/${room.num}/update`, {
      name,
      ptime: String(Date.now()),
      sign: polyvSign.channelSet(String(room.num), name),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "success", result: "update channel successfully" });
    expect((await callerOf(t.host).rooms.get({ room: room.id })).title).toBe(name);
    expect(
      (
        await form(`/v1/channels/${room.num}/update`, {
          name: "x",
          ptime: String(Date.now()),
          sign: polyvSign.channelSet(String(room.num), "y"),
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await form(`/v1/channels/999999999/update`, {
          name: "x",
          ptime: String(Date.now()),
          sign: polyvSign.channelSet("999999999", "x"),
        })
      ).status,
    ).toBe(404);
  });

  it("listUsers counts the room's online members", async () => {
    const room = await callerOf(t.host).rooms.create({ title: "chat" });
    await callerOf(t.host).rooms.start({ room: room.id });
    await callerOf(t.host).presence.join({ room: room.id });
    const v = await callerOf(t.viewer).presence.join({ room: room.id });
    await callerOf(t.viewer2).presence.join({ room: room.id });
    await callerOf({ kind: "anonymous" }).presence.heartbeat({ token: v.presenceToken, likes: 1 });
    await presenceBuffer.flush(getDb());
    const r = await fetch(`${base}/front/listUsers?roomId=${room.num}`);
    const body = (await r.json()) as { count: number; userlist: Array<{ userId: string; userType: string }> };
    expect(body.count).toBe(3);
    expect(body.userlist.map((u) => u.userType).sort()).toEqual(["student", "student", "teacher"]);
    expect((await fetch(`${base}/front/listUsers?roomId=nope`)).status).toBe(400);
  });
});
