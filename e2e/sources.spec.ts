// Stream sources on ordinary rooms, set up in the console by an admin: an RTMP source (another room's
// stream on the embedded server, pushed by ffmpeg) pulled always-on, and an HLS source (ffmpeg-made
// files on a small HTTP server) pulled on demand. Each plays in the room page's player and on the
// watch page (the <video> advances), the room list shows both live, and the panel shows the source.
import { expect, type Page } from "@playwright/test";
import { startHlsSource } from "../test/hls-source";
import { env, push, shot, signIn, tenant, test, trpc, uniq, videoPlays } from "./helpers";

/** A live HLS stream as a camera gateway serves it (test/hls-source.ts), with the gateway's credentials in the URL. */
async function hlsSource() {
  const src = await startHlsSource({
    seconds: 180,
    pattern: "testsrc2=size=480x270:rate=25",
    toneHz: 330,
    listSize: 6,
  });
  return {
    url: `http://cam:gateway-pw@127.0.0.1:${src.port}/cam/index.m3u8`,
    shown: `http://127.0.0.1:${src.port}`,
    stop: () => src.stop(),
  };
}

/** Adds a source through the room page's panel. */
async function addSource(page: Page, url: string, mode: "On demand" | "Always on") {
  await page.getByTestId("source-add").click();
  const form = page.getByTestId("source-form");
  await form.getByLabel("Source URL").fill(url);
  await form.getByLabel("Mode").selectOption({ label: mode });
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form).toHaveCount(0);
}

test("RTMP and HLS sources added in the console play in ordinary rooms and show live", async ({ browser }) => {
  test.setTimeout(240_000);
  const t = await tenant();
  const hls = await hlsSource();
  // The RTMP source: another room's stream on the embedded server, pushed by ffmpeg.
  const origin = await trpc<{ id: string }>("rooms.create", { title: uniq("Origin ") }, t.host.token);
  const ff = push((await trpc("media.pushInfo", { room: origin.id }, t.host.token, "GET")).rtmp_url, 200);
  const rtmpUrl = (await trpc("media.pullUrls", { room: origin.id }, t.host.token, "GET")).urls.rtmp_url as string;
  const rtmpRoom = await trpc<{ id: string; num: number; title: string }>(
    "rooms.create",
    { title: uniq("Gate camera ") },
    t.host.token,
  );
  const hlsRoom = await trpc<{ id: string; num: number; title: string }>(
    "rooms.create",
    { title: uniq("Lobby camera ") },
    t.host.token,
  );
  const admin = await signIn(browser, "e2e_admin", "e2e-admin-password");
  try {
    // RTMP, always on: a bad URL first (the rule is said next to the field), then the real one.
    await admin.goto(`${env.base}/admin/rooms/${rtmpRoom.id}`);
    await expect(admin.getByTestId("sources")).toContainText("takes its stream from a push");
    await admin.getByTestId("source-add").click();
    const form = admin.getByTestId("source-form");
    await form.getByLabel("Source URL").fill("ftp://127.0.0.1/cam");
    await form.getByRole("button", { name: "Save" }).click();
    await expect(form.getByRole("alert")).toHaveText(
      "Must be an rtsp://, rtmp:// or http(s):// (HTTP-FLV, HLS) address",
    );
    await form.getByLabel("Source URL").fill("rtsp://10.20.30.40/cam");
    await form.getByRole("button", { name: "Save" }).click();
    await expect(form.getByRole("alert")).toContainText("outbound allow list");
    await form.getByRole("button", { name: "Cancel" }).click();
    await addSource(admin, rtmpUrl, "Always on");
    const main = admin.getByTestId("source-main");
    await expect(main.getByTestId("source-url")).toHaveText(`rtmp://${new URL(rtmpUrl).host}`);
    await expect(main).toHaveAttribute("data-state", "live", { timeout: 30_000 });
    await expect(admin.getByTestId("room-status").locator("[data-status]")).toHaveAttribute("data-status", "live", {
      timeout: 20_000,
    });
    await videoPlays(admin, "video", { pastS: 1, timeout: 40_000 });
    await main.getByRole("button", { name: "Probe now" }).click();
    await expect(main.getByTestId("source-probe")).toContainText(/Video h264 · audio aac · 640×360 · 25 fps/, {
      timeout: 10_000,
    });
    // (The pull starts copying at once and is started again once its probe finds the source's audio:
    // the room may pause for a moment meanwhile. The screenshot waits for it to be live again.)
    await expect(admin.getByTestId("room-status").locator("[data-status]")).toHaveAttribute("data-status", "live", {
      timeout: 20_000,
    });
    await shot(admin, "sources-room-rtmp");

    // HLS, on demand: nobody watches yet, so nothing is pulled; the room page's player is the first viewer.
    await admin.goto(`${env.base}/admin/rooms/${hlsRoom.id}`);
    await addSource(admin, hls.url, "On demand");
    const hmain = admin.getByTestId("source-main");
    await expect(hmain.getByTestId("source-url")).toHaveText(hls.shown);
    await expect(hmain).not.toContainText("gateway-pw");
    await expect(hmain).toHaveAttribute("data-state", "live", { timeout: 30_000 });
    await videoPlays(admin, "video", { pastS: 1, timeout: 40_000 });
    await hmain.getByRole("button", { name: "Probe now" }).click();
    await expect(hmain.getByTestId("source-probe")).toContainText(/Video h264 · audio aac · 480×270 · 25 fps/, {
      timeout: 10_000,
    });
    await shot(admin, "sources-room-hls");

    // A visitor on the watch page plays it too (and keeps the on-demand pull going).
    const visitor = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await visitor.goto(`${env.base}/watch/${hlsRoom.id}`);
    await videoPlays(visitor, "video", { pastS: 1, timeout: 40_000 });

    // The room list shows both rooms live.
    await admin.goto(`${env.base}/admin/rooms`);
    for (const r of [rtmpRoom, hlsRoom])
      await expect(
        admin
          .locator("tr")
          .filter({ has: admin.locator(`a[title="${r.title}"]`) })
          .locator("[data-status]"),
      ).toHaveAttribute("data-status", "live", { timeout: 15_000 });
    await shot(admin, "sources-room-list");

    // The source panel in Chinese.
    const zh = await signIn(browser, "e2e_admin", "e2e-admin-password", "zh-CN");
    await zh.goto(`${env.base}/admin/rooms/${rtmpRoom.id}`);
    await expect(zh.getByTestId("source-main").getByTestId("source-state")).toHaveText("直播中", { timeout: 15_000 });
    await shot(zh, "sources-room-zh");
    await zh.context().close();

    // Removed: the panel offers to add one again, and nothing keeps pulling it.
    await admin.goto(`${env.base}/admin/rooms/${rtmpRoom.id}`);
    await admin.getByTestId("source-main").getByRole("button", { name: "Remove" }).click();
    await expect(admin.getByTestId("sources")).toContainText("takes its stream from a push");
    await visitor.context().close();
  } finally {
    ff.kill("SIGKILL");
    await hls.stop();
    await admin.context().close();
  }
});
