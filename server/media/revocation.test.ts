// Revocation reaches media already flowing: a kicked viewer's open HTTP-FLV play is cut at once.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../clock";
import { resetEnvForTests } from "../env";
import { createMediaRoutes } from "../front/media";
import { callerOf, makeTenant, type Tenant } from "../../test/helpers";

let t: Tenant;
let upstream: http.Server;
let front: http.Server;
let base: string;
beforeAll(async () => {
  t = await makeTenant();
  // Stands in for the embedded server's HTTP-FLV output: an endless stream of bytes.
  upstream = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "video/x-flv" });
    const tick = setInterval(() => res.write(Buffer.alloc(1024, 1)), 50);
    res.on("close", () => clearInterval(tick));
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  process.env.MEDIA_HTTP_PORT = String((upstream.address() as AddressInfo).port);
  resetEnvForTests();
  const route = createMediaRoutes(systemClock);
  front = http.createServer((req, res) => {
    const [path, qs = ""] = (req.url ?? "").split("?");
    if (!route(req, res, path!, new URLSearchParams(qs))) res.writeHead(404).end();
  });
  await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});
afterAll(async () => {
  delete process.env.MEDIA_HTTP_PORT;
  resetEnvForTests();
  await new Promise((r) => front.close(r));
  await new Promise((r) => upstream.close(r));
});

/** Reads a play until it ends; resolves with when it ended (ms since `from`). */
function play(url: string, from: number) {
  return new Promise<{ firstBytes: number; endedAfterMs: number }>((resolve, reject) => {
    http
      .get(url, (res) => {
        let got = 0;
        res.on("data", (c: Buffer) => (got += c.length));
        const done = () => resolve({ firstBytes: got, endedAfterMs: Date.now() - from });
        res.on("end", done);
        res.on("error", done);
        res.on("close", done);
      })
      .on("error", reject);
  });
}

describe("revocation and live media", () => {
  it("a kicked viewer's open HTTP-FLV play stops within a second and cannot be reopened", async () => {
    const host = callerOf(t.host);
    const room = await host.rooms.create({ title: "kick mid-play" });
    await host.rooms.start({ room: room.id });
    const viewer = callerOf(t.viewer);
    await viewer.presence.join({ room: room.id });
    const pull = await viewer.media.pullUrls({ room: room.id });
    const url = `${base}${new URL(pull.urls.flv_url).pathname}${new URL(pull.urls.flv_url).search}`;
    const started = Date.now();
    const playing = play(url, started);
    await new Promise((r) => setTimeout(r, 500));
    const kickedAt = Date.now();
    await host.presence.kick({ room: room.id, memberId: t.viewer.userId });
    const ended = await playing;
    expect(ended.firstBytes).toBeGreaterThan(0);
    expect(ended.endedAfterMs - (kickedAt - started)).toBeLessThan(1500);
    expect((await fetch(url)).status).toBe(401);
  });
});
