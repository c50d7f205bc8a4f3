// The media plane end to end with the embedded server: ffmpeg pushes testsrc + sine with a signed
// push URL → the room turns live → Chromium plays FLV (flv.js) and HLS (hls.js) with tokens;
// bad, expired and other-room tokens and a wrong push key are refused; stopping the push turns
// the room paused, then ended; the recording appears and plays.
import { expect, type Page } from "@playwright/test";
import { env, push, tenant, test, trpc, uniq, until, videoPlays } from "./helpers";

process.env.AUTH_SECRET = env.authSecret;
process.env.ENCRYPTION_KEY = env.encryptionKey;

const expectPlaying = (page: Page, selector = "video") => videoPlays(page, selector, { settleMs: 2000 });

test("push → live → FLV and HLS play with tokens → refusals → paused → ended → recording plays", async ({
  page,
  browser,
}) => {
  const t = await tenant();
  const room = await trpc("rooms.create", { title: uniq("e2e live"), record: true }, t.host.token);
  const other = await trpc("rooms.create", { title: uniq("other") }, t.host.token);
  const info = await trpc("media.pushInfo", { room: room.id }, t.host.token, "GET");
  expect(info.rtmp_url).toBe(`${info.server}/${info.streamKey}`);
  expect(info.streamKey.startsWith(room.streamName + "?key=")).toBe(true);

  // A wrong push key is refused: ffmpeg fails and the room does not go live.
  const wrong = push(info.rtmp_url.replace(/key=[^&]+/, "key=pk1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 5);
  expect(await wrong.exited).not.toBe(0);
  expect((await trpc("rooms.get", { room: room.id }, t.host.token, "GET")).status).toBe("prepare");

  const requested: string[] = [];
  page.on("request", (r) => requested.push(r.url()));
  // The player waits for the host before the push starts.
  await page.goto(`${env.base}/embed/${room.id}`);
  await expect(page.locator("[data-player-state]")).toHaveAttribute("data-player-state", "waiting");

  const ff = push(info.rtmp_url);
  try {
    await until(
      () => trpc("rooms.get", { room: room.id }, t.host.token, "GET"),
      (r) => r.status === "live" && r.streamOnline,
      20_000,
    );

    // FLV through flv.js (the embed page's default), as a guest.
    await expect(page.locator("[data-player-state]")).toHaveAttribute("data-player-state", "live", { timeout: 30_000 });
    expect(await expectPlaying(page)).toEqual({ w: 640, h: 360 });
    expect(requested.some((u) => u.includes(`/live/${room.streamName}.flv?token=`))).toBe(true);

    // HLS through hls.js, as a signed-in viewer's token.
    const hlsPage = await browser.newPage();
    const hlsRequests: string[] = [];
    hlsPage.on("request", (r) => hlsRequests.push(r.url()));
    await hlsPage.goto(`${env.base}/embed/${room.num}?format=hls`);
    await expect(hlsPage.locator("[data-player-state]")).toHaveAttribute("data-player-state", "live", {
      timeout: 30_000,
    });
    expect(await expectPlaying(hlsPage)).toEqual({ w: 640, h: 360 });
    expect(hlsRequests.some((u) => /\/seg_\d+\.ts\?token=/.test(u))).toBe(true);
    await hlsPage.close();

    // Refusals over HTTP: no token, a bad one, an expired one, another room's, a publish token.
    const pull = await trpc("media.pullUrls", { room: room.id }, t.viewer.token, "GET");
    const flv = pull.urls.flv_url as string;
    const hls = pull.urls.hls_url as string;
    const code = async (u: string) => {
      const r = await fetch(u);
      if (r.status === 200) {
        await r.body?.cancel();
        return [200, null];
      }
      return [r.status, ((await r.json()) as { error: { code: string } }).error.code];
    };
    expect(await code(flv.split("?")[0]!)).toEqual([401, "UNAUTHENTICATED"]);
    expect(await code(flv.replace(/token=[^&]+/, "token=abc.def.ghi"))).toEqual([401, "TOKEN_INVALID"]);
    const otherPull = await trpc("media.pullUrls", { room: other.id }, t.viewer.token, "GET");
    expect(await code(flv.replace(/token=[^&]+/, `token=${otherPull.token}`))).toEqual([401, "TOKEN_INVALID"]);
    expect(await code(hls.replace(/token=[^&]+/, `token=${otherPull.token}`))).toEqual([401, "TOKEN_INVALID"]);
    const { signRoomToken } = await import("../server/tokens");
    const expired = signRoomToken(
      { scope: "play", app: room.appId, room: room.id, num: room.num, st: room.streamName, sub: "guest:x" },
      new Date(Date.now() - 7200_000),
      60,
    ).token;
    expect(await code(flv.replace(/token=[^&]+/, `token=${expired}`))).toEqual([401, "TOKEN_EXPIRED"]);
    const pub = signRoomToken(
      { scope: "publish", app: room.appId, room: room.id, num: room.num, st: room.streamName, sub: "x" },
      new Date(),
      60,
    ).token;
    expect(await code(hls.replace(/token=[^&]+/, `token=${pub}`))).toEqual([401, "TOKEN_INVALID"]);
    expect(await code(hls)).toEqual([200, null]);
  } finally {
    ff.kill("SIGTERM");
    await ff.exited;
  }

  // Stopping the push: paused at once, ended after the grace (4 s in this run); the player says the
  // stream dropped (not that the host paused it), then that it ended.
  await until(
    () => trpc("rooms.get", { room: room.id }, t.host.token, "GET"),
    (r) => r.status === "paused",
    15_000,
  );
  await expect(page.locator("[data-player-state]")).toHaveAttribute("data-player-state", "dropped", {
    timeout: 15_000,
  });
  await until(
    () => trpc("rooms.get", { room: room.id }, t.host.token, "GET"),
    (r) => r.status === "ended",
    20_000,
  );
  // The player says it ended, until the recording is ready: then the embed plays that instead.
  await expect(page.locator('[data-player-state="ended"], [data-testid="replay-video"]').first()).toBeVisible({
    timeout: 15_000,
  });

  // The recording appears and plays in the browser, the embed's replay included.
  const recs = await until(
    () => trpc("recordings.list", { room: room.id }, t.viewer.token, "GET"),
    (l) => l.items.length === 1 && l.items[0].status === "ready",
    30_000,
  );
  expect(recs.items[0].durationMs).toBeGreaterThan(2000);
  const vod = await trpc("media.vodUrl", { id: recs.items[0].id }, t.viewer.token, "GET");
  expect((await fetch(vod.url.replace(/token=[^&]+/, "token=bad.bad.bad"))).status).toBe(401);
  await videoPlays(page, '[data-testid="replay-video"]');
  await page.setContent(`<video id="vod" muted autoplay playsinline src="${vod.url}"></video>`);
  expect(await expectPlaying(page, "#vod")).toEqual({ w: 640, h: 360 });
});

test("rotating the push key disconnects the publisher already on air", async () => {
  const t = await tenant();
  const room = await trpc("rooms.create", { title: uniq("rotate") }, t.host.token);
  const info = await trpc("media.pushInfo", { room: room.id }, t.host.token, "GET");
  const ff = push(info.rtmp_url, 60);
  try {
    await until(
      () => trpc("rooms.get", { room: room.id }, t.host.token, "GET"),
      (r) => r.status === "live" && r.streamOnline,
      20_000,
    );
    await trpc("media.rotateKey", { room: room.id }, t.host.token);
    // The embedded server checks publishers every few seconds: the old key's push is cut.
    await until(
      () => trpc("rooms.get", { room: room.id }, t.host.token, "GET"),
      (r) => !r.streamOnline && r.status === "paused",
      15_000,
    );
    expect(
      await Promise.race([ff.exited.then(() => "exited"), new Promise((r) => setTimeout(() => r("running"), 5000))]),
    ).toBe("exited");
  } finally {
    ff.kill("SIGKILL");
  }
});
