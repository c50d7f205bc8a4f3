// SRS's HLS through the front: a stand-in for SRS's HTTP server (SRS is not packaged by Debian)
// serves ffmpeg-made HLS in the layout `npm run media:srs-conf` sets up, plainly (hls_ctx off) or
// as SRS does with hls_ctx on (a one-variant playlist naming the session first). Every playlist
// and segment the front serves needs the viewer's token; segment lines carry it.
import { readFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { env, resetEnvForTests } from "../env";
import { run } from "../media/ffmpeg";
import { callerOf, makeTenant, serve, uniq, type Tenant } from "../../test/helpers";
import { createFrontServer } from "./server";

let t: Tenant;
let root: string;
let srs: Awaited<ReturnType<typeof serve>>;
let front: ReturnType<typeof createFrontServer>;
let base: string;
let mode: "plain" | "ctx" | "foreign" | "cut" = "plain";
const seen: string[] = [];

/** What SRS's HTTP server answers for files under hls_path (srs_app_http_static.cpp, SrsHlsStream). */
function standIn(req: IncomingMessage, res: ServerResponse) {
  seen.push(req.url ?? "");
  const url = new URL(req.url ?? "/", "http://srs");
  const file = join(root, url.pathname);
  if (url.pathname.includes("..") || !file.startsWith(root)) return void res.writeHead(400).end();
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch {
    return void res.writeHead(404).end();
  }
  if (url.pathname.endsWith(".m3u8")) {
    const ctx = url.searchParams.get("hls_ctx");
    let text = body.toString("utf8");
    if (mode === "ctx" && !ctx) {
      // SRS: a new session, then "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\n<path>?hls_ctx=<id>".
      text = `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\n${url.pathname}?hls_ctx=k3x9q2aa\n`;
    } else if (mode === "ctx") text = text.replace(/^(\d+\.ts)$/gm, `$1?hls_ctx=${ctx}`);
    else if (mode === "foreign") text = text.replace(/^(\d+\.ts)$/m, "http://elsewhere.example/$1");
    res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl" });
    return void res.end(text);
  }
  res.writeHead(200, { "content-type": "video/mp2t", "content-length": body.length });
  if (mode === "cut") return void res.write(body.subarray(0, 100), () => res.destroy());
  res.end(body);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "onair-srs-http-"));
  srs = await serve(standIn);
  process.env.MEDIA_SRS_HTTP_URL = srs.base;
  resetEnvForTests();
  t = await makeTenant();
  front = createFrontServer({ webOrigin: "http://127.0.0.1:9" });
  await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});
afterAll(async () => {
  delete process.env.MEDIA_SRS_HTTP_URL;
  resetEnvForTests();
  await new Promise((r) => front.close(r));
  await srs.close();
  rmSync(root, { recursive: true, force: true });
});

/** A room with HLS in SRS's layout: live/<stream>/index.m3u8 and live/<stream>/<seq>.ts. */
async function roomWithHls() {
  const room = await callerOf(t.host).rooms.create({ title: uniq("srshls"), record: false });
  const dir = join(root, "live", room.streamName);
  mkdirSync(dir, { recursive: true });
  const r = await run("ffmpeg", [
    ...["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "3"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25", "-f", "hls", "-hls_time", "1"],
    ...["-hls_list_size", "0", "-hls_segment_filename", join(dir, "%d.ts"), join(dir, "index.m3u8")],
  ]);
  expect(r.code, r.err).toBe(0);
  const token = (await callerOf(t.viewer).media.pullUrls({ room: room.id })).token;
  return { room, dir, token, playlist: `${base}/live/${room.streamName}/index.m3u8` };
}
const segmentLines = (text: string) => text.split("\n").filter((l) => l && !l.startsWith("#"));

describe("SRS HLS through the front", () => {
  it("apps pulling from SRS get hls_url on the front (flv_url stays SRS's)", async () => {
    const pullDomain = new URL(srs.base).host;
    await callerOf(t.root).apps.update({ id: t.app.id, pullDomain });
    try {
      const room = await callerOf(t.host).rooms.create({ title: uniq("srsurl"), record: false });
      const { urls } = await callerOf(t.viewer).media.pullUrls({ room: room.id });
      expect(urls.hls_url.startsWith(`${env().publicUrl}/live/${room.streamName}/index.m3u8?token=`)).toBe(true);
      expect(urls.flv_url.startsWith(`http://${pullDomain}/live/${room.streamName}.flv?token=`)).toBe(true);
      await callerOf(t.root).apps.update({ id: t.app.id, pullDomain: "cdn.example:8080" });
      const cdn = (await callerOf(t.viewer).media.pullUrls({ room: room.id })).urls;
      expect(cdn.hls_url.startsWith("http://cdn.example:8080/live/")).toBe(true);
    } finally {
      await callerOf(t.root).apps.update({ id: t.app.id, pullDomain: null });
    }
  });

  it("playlist and segments need the viewer's token; every segment line carries it", async () => {
    mode = "plain";
    const { room, dir, token, playlist } = await roomWithHls();
    const other = await callerOf(t.host).rooms.create({ title: uniq("srshls"), record: false });
    const otherToken = (await callerOf(t.viewer).media.pullUrls({ room: other.id })).token;
    seen.length = 0;
    expect((await fetch(playlist)).status).toBe(401);
    expect((await fetch(`${playlist}?token=bad.bad.bad`)).status).toBe(401);
    expect((await fetch(`${playlist}?token=${otherToken}`)).status).toBe(401);
    expect(seen).toEqual([]); // refused before SRS is asked

    const res = await fetch(`${playlist}?token=${token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    const text = await res.text();
    const lines = segmentLines(text);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(new RegExp(`^\\d+\\.ts\\?token=${token.replace(/\./g, "\\.")}$`));
    // SRS was asked with the viewer's query (with hls_ctx on its on_play hook checks it too).
    expect(seen).toEqual([`/live/${room.streamName}/index.m3u8?token=${token}`]);

    const seg = lines[0]!.split("?")[0]!;
    const segUrl = `${base}/live/${room.streamName}/${seg}`;
    seen.length = 0;
    expect((await fetch(segUrl)).status).toBe(401);
    expect((await fetch(`${segUrl}?token=${otherToken}`)).status).toBe(401);
    expect(seen).toEqual([]);
    const got = await fetch(`${base}/live/${room.streamName}/${lines[0]}`);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("video/mp2t");
    expect(Buffer.from(await got.arrayBuffer()).equals(readFileSync(join(dir, seg)))).toBe(true);
    expect((await fetch(`${base}/live/${room.streamName}/999.ts?token=${token}`)).status).toBe(404);
    expect(readdirSync(dir).length).toBeGreaterThan(2);
  });

  it("with hls_ctx on, SRS's session playlist is followed once and rewritten the same way", async () => {
    mode = "ctx";
    try {
      const { room, token, playlist } = await roomWithHls();
      seen.length = 0;
      const res = await fetch(`${playlist}?token=${token}`);
      expect(res.status).toBe(200);
      const lines = segmentLines(await res.text());
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const l of lines) expect(l).toMatch(/^\d+\.ts\?token=[^&]+$/);
      expect(seen).toEqual([
        `/live/${room.streamName}/index.m3u8?token=${token}`,
        `/live/${room.streamName}/index.m3u8?hls_ctx=k3x9q2aa`,
      ]);
    } finally {
      mode = "plain";
    }
  });

  it("a playlist naming segments elsewhere, a stream SRS does not have, and SRS down are not served", async () => {
    const { room, token, playlist } = await roomWithHls();
    mode = "foreign";
    try {
      expect((await fetch(`${playlist}?token=${token}`)).status).toBe(503);
    } finally {
      mode = "plain";
    }
    // SRS going away in the middle of a segment cuts that answer short, and nothing else.
    mode = "cut";
    try {
      const cut = await fetch(`${base}/live/${room.streamName}/0.ts?token=${token}`);
      expect(cut.status).toBe(200);
      await expect(cut.arrayBuffer()).rejects.toThrow();
    } finally {
      mode = "plain";
    }
    expect((await fetch(`${base}/live/${room.streamName}/0.ts?token=${token}`)).status).toBe(200);
    const empty = await callerOf(t.host).rooms.create({ title: uniq("srshls"), record: false });
    const emptyToken = (await callerOf(t.viewer).media.pullUrls({ room: empty.id })).token;
    expect((await fetch(`${base}/live/${empty.streamName}/index.m3u8?token=${emptyToken}`)).status).toBe(404);
    await srs.close();
    try {
      expect((await fetch(`${playlist}?token=${token}`)).status).toBe(503);
      expect((await fetch(`${base}/live/${room.streamName}/0.ts?token=${token}`)).status).toBe(503);
    } finally {
      srs = await serve(standIn); // (on a new port: afterAll closes it)
    }
  });
});
