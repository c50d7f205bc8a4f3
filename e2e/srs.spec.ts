// SRS's HLS through onair's front, as `npm run media:srs-conf` sets it up. SRS is not packaged by
// Debian, so its HTTP server is stood in for by a small static server holding live HLS that ffmpeg
// writes in SRS's layout (live/<stream>/index.m3u8, live/<stream>/<seq>.ts); SRS's hooks are the
// recorded SRS 7 bodies posted to onair as SRS posts them. hls.js in Chromium plays with the
// viewer's token; without one, playlists and segments are refused.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http, { type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { expect } from "@playwright/test";
import { liveH264Args, testSourceArgs } from "../server/media/ffmpeg";
import { env, tenant, test, trpc, until, uniq, embedPlays } from "./helpers";

let root: string;
let server: Server;
const served: string[] = [];
test.beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "onair-srs-html-"));
  // What SRS's http_server does for files under its dir: serve them as they are.
  server = http.createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://srs").pathname));
    served.push(path);
    try {
      const body = readFileSync(join(root, path));
      const type = path.endsWith(".m3u8") ? "application/vnd.apple.mpegurl" : "video/mp2t";
      res.writeHead(200, { "content-type": type, "content-length": body.length }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(env.srsHttpPort, "127.0.0.1", r));
});
test.afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});

/** SRS's on_publish / on_unpublish as SRS 7 sent them (../shared/media/srs7.md). */
const srsHook = (action: string, stream: string, param: string) =>
  fetch(`${env.base}/hooks/srs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      server_id: "vid-1l780a7",
      service_id: "e1n3r017",
      action,
      client_id: "lz88ny90",
      ip: "127.0.0.1",
      vhost: "__defaultVhost__",
      app: "live",
      tcUrl: "rtmp://127.0.0.1:19350/live",
      stream,
      param,
      stream_url: `/live/${stream}`,
      stream_id: "vid-09915v5",
    }),
  });

/** ffmpeg writing live HLS where SRS would (hls_path + [app]/[stream]/index.m3u8, [seq].ts). */
function packager(stream: string): ChildProcess & { exited: Promise<number | null> } {
  const dir = join(root, "live", stream);
  mkdirSync(dir, { recursive: true });
  const p = spawn(
    "ffmpeg",
    [
      ...["-hide_banner", "-loglevel", "error", ...testSourceArgs("640x360", 25), "-t", "120"],
      ...liveH264Args(25),
      ...["-c:a", "aac", "-b:a", "64k", "-f", "hls", "-hls_time", "1", "-hls_list_size", "6"],
      ...["-hls_flags", "delete_segments", "-hls_segment_filename", join(dir, "%d.ts"), join(dir, "index.m3u8")],
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  ) as ChildProcess & { exited: Promise<number | null> };
  p.exited = new Promise((r) => p.on("exit", (c) => r(c)));
  return p;
}

test("SRS: hls.js plays SRS's HLS through onair's front with a token; without one, playlist and segments are refused", async ({
  page,
}) => {
  const t = await tenant();
  const srsHttp = `127.0.0.1:${env.srsHttpPort}`;
  await trpc("apps.update", { id: t.app.app.id, pushDomain: "127.0.0.1:1935", pullDomain: srsHttp }, t.admin);
  const room = await trpc("rooms.create", { title: uniq("srs"), record: false }, t.host.token);
  const info = await trpc("media.pushInfo", { room: room.id }, t.host.token, "GET");
  const key = new URL(info.rtmp_url.replace(/^rtmp:/, "http:")).searchParams.get("key");

  const ff = packager(room.streamName);
  try {
    expect((await srsHook("on_publish", room.streamName, "?key=pk1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).status).toBe(
      401,
    );
    const ok = await srsHook("on_publish", room.streamName, `?key=${key}`);
    expect([ok.status, await ok.text()]).toEqual([200, "0"]);
    expect((await trpc("rooms.get", { room: room.id }, t.host.token, "GET")).status).toBe("live");

    const pull = await trpc("media.pullUrls", { room: room.id }, t.viewer.token, "GET");
    const hls = pull.urls.hls_url as string;
    expect(hls.startsWith(`${env.base}/live/${room.streamName}/index.m3u8?token=`)).toBe(true);
    expect(pull.urls.flv_url).toContain(`http://${srsHttp}/live/${room.streamName}.flv?token=`);
    await until(
      () => fetch(hls).then((r) => r.status),
      (s) => s === 200,
      20_000,
    );

    // Refused without a token (or with a bad one), playlist and segments alike, before SRS is asked.
    const query = hls.split("?")[1]!;
    const playlist = await (await fetch(hls)).text();
    const line = playlist.split("\n").find((l) => /^\d+\.ts/.test(l)) ?? "";
    expect(line, "a segment line carrying the viewer's token").toMatch(/^\d+\.ts\?token=[^&]+$/);
    expect(line.endsWith(`?${query}`)).toBe(true);
    const segUrl = `${env.base}/live/${room.streamName}/${line.split("?")[0]}`;
    served.length = 0;
    expect((await fetch(hls.split("?")[0]!)).status).toBe(401);
    expect((await fetch(hls.replace(/token=[^&]+/, "token=bad.bad.bad"))).status).toBe(401);
    expect((await fetch(segUrl)).status).toBe(401);
    expect((await fetch(`${segUrl}?token=bad.bad.bad`)).status).toBe(401);
    expect(served).toEqual([]);
    const seg = await fetch(`${segUrl}?${query}`);
    expect(seg.status).toBe(200);
    expect((await seg.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    // Chromium: hls.js through the front, every segment request with the token.
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await embedPlays(page, room.id, "hls", 640);
    const segs = requests.filter((u) => u.includes(`/live/${room.streamName}/`) && /\.ts\?/.test(u));
    expect(segs.length).toBeGreaterThan(0);
    for (const u of segs) {
      expect(u.startsWith(`${env.base}/live/${room.streamName}/`)).toBe(true);
      expect(u).toMatch(/\?token=[^&]+$/);
    }
    // The same browser, no token: hls.js gets 401 for the playlist and for a segment.
    const refused = await page.evaluate(
      async ([p, s]) => [(await fetch(p!)).status, (await fetch(s!)).status],
      [hls.split("?")[0], segUrl],
    );
    expect(refused).toEqual([401, 401]);
  } finally {
    ff.kill("SIGTERM");
    await ff.exited;
  }
  expect((await srsHook("on_unpublish", room.streamName, `?key=${key}`)).status).toBe(200);
  expect((await trpc("rooms.get", { room: room.id }, t.host.token, "GET")).status).toBe("paused");
});
