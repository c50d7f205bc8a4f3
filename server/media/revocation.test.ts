// Revocation reaches media already flowing: a kicked viewer's open HTTP-FLV play is cut at once.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resetEnvForTests } from "../env";
import { callerOf, makeTenant, mediaRoutes, serve, type Tenant } from "../../test/helpers";

let t: Tenant;
let upstream: Awaited<ReturnType<typeof serve>>;
let front: Awaited<ReturnType<typeof serve>>;
let base: string;
beforeAll(async () => {
  t = await makeTenant();
  // Stands in for the embedded server's HTTP-FLV output: an endless stream of bytes.
  upstream = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "video/x-flv" });
    const tick = setInterval(() => res.write(Buffer.alloc(1024, 1)), 50);
    res.on("close", () => clearInterval(tick));
  });
  process.env.MEDIA_HTTP_PORT = String(upstream.port);
  resetEnvForTests();
  front = await serve(mediaRoutes());
  base = front.base;
});
afterAll(async () => {
  delete process.env.MEDIA_HTTP_PORT;
  resetEnvForTests();
  await front.close();
  await upstream.close();
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
