// The same publish / play / refuse / record flow against a real nginx with Debian's
// libnginx-mod-rtmp, configured by `npm run media:nginx-conf`, calling onair's /hooks.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "@playwright/test";
import { freePort } from "../scripts/lib/ports";
import { writeNginxConf } from "../scripts/nginx-conf";
import { env, push, tenant, test, trpc, until, uniq, embedPlays } from "./helpers";

let nginx: ChildProcess;
let rtmpPort: number;
let httpPort: number;
test.beforeAll(async () => {
  [rtmpPort, httpPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), "onair-nginx-"));
  const conf = writeNginxConf({ onair: env.base, rtmpPort, httpPort, dir });
  nginx = spawn("/usr/sbin/nginx", ["-p", dir, "-c", conf, "-e", join(dir, "error.log")], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  for (let i = 0; i < 50; i++) {
    try {
      await fetch(`http://127.0.0.1:${httpPort}/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error("nginx did not start");
});
test.afterAll(() => {
  nginx?.kill("SIGQUIT");
});

const probe = (url: string) =>
  spawnSync(
    "ffprobe",
    ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width", "-of", "csv=p=0", url],
    { encoding: "utf8", timeout: 15_000 },
  );

test("nginx-rtmp: hooks allow and refuse publish and play, HLS with tokens plays, room follows, recording kept", async ({
  page,
}) => {
  const t = await tenant();
  await trpc(
    "apps.update",
    { id: t.app.app.id, pushDomain: `127.0.0.1:${rtmpPort}`, pullDomain: `127.0.0.1:${httpPort}` },
    t.admin,
  );
  const room = await trpc("rooms.create", { title: uniq("nginx"), record: true }, t.host.token);
  const info = await trpc("media.pushInfo", { room: room.id }, t.host.token, "GET");
  expect(info.server).toBe(`rtmp://127.0.0.1:${rtmpPort}/live`);

  const wrong = push(info.rtmp_url.replace(/key=[^&]+/, "key=pk1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 5);
  expect(await wrong.exited).not.toBe(0);
  expect((await trpc("rooms.get", { room: room.id }, t.host.token, "GET")).status).toBe("prepare");

  const ff = push(info.rtmp_url);
  try {
    await until(
      () => trpc("rooms.get", { room: room.id }, t.host.token, "GET"),
      (r) => r.status === "live",
      20_000,
    );
    const pull = await trpc("media.pullUrls", { room: room.id }, t.viewer.token, "GET");
    expect(pull.urls.hls_url).toContain(`http://127.0.0.1:${httpPort}/live/${room.streamName}/index.m3u8?token=`);

    // RTMP play through nginx: on_play asks onair.
    const ok = probe(pull.urls.rtmp_url);
    expect(ok.stdout.trim(), ok.stderr).toBe("640");
    expect(probe(pull.urls.rtmp_url.replace(/token=[^&]+/, "token=bad.bad.bad")).status).not.toBe(0);

    // HLS from nginx with tokens checked by auth_request on playlists and segments.
    const hls = pull.urls.hls_url as string;
    await until(
      () => fetch(hls).then((r) => r.status),
      (s) => s === 200,
      20_000,
    );
    expect((await fetch(hls.split("?")[0]!)).status).toBe(401);
    expect((await fetch(hls.replace(/token=[^&]+/, "token=bad.bad.bad"))).status).toBe(401);
    const playlist = await (await fetch(hls)).text();
    const seg = playlist.split("\n").find((l) => l.endsWith(".ts"))!;
    const segUrl = `http://127.0.0.1:${httpPort}/live/${room.streamName}/${seg}`;
    expect((await fetch(segUrl)).status).toBe(401);
    expect((await fetch(`${segUrl}?${hls.split("?")[1]}`)).status).toBe(200);

    // And a browser plays it with hls.js (the player adds the token to every segment request).
    await embedPlays(page, room.id, "hls", 640);
  } finally {
    ff.kill("SIGTERM");
    await ff.exited;
  }
  await until(
    () => trpc("rooms.get", { room: room.id }, t.host.token, "GET"),
    (r) => r.status === "paused",
    15_000,
  );
  await until(
    () => trpc("rooms.get", { room: room.id }, t.host.token, "GET"),
    (r) => r.status === "ended",
    20_000,
  );
  const recs = await until(
    () => trpc("recordings.list", { room: room.id }, t.viewer.token, "GET"),
    (l) => l.items.length === 1 && l.items[0].status === "ready",
    30_000,
  );
  expect(recs.items[0].durationMs).toBeGreaterThan(2000);
  const vod = await trpc("media.vodUrl", { id: recs.items[0].id }, t.viewer.token, "GET");
  expect((await fetch(vod.url)).status).toBe(200);
});
