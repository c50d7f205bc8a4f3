// Stream health and thumbnails with a real push to the embedded server (1280×720, 25 fps, a
// keyframe every 4 s): the host's go-live panel and the admin's room page show the figures and the
// keyframe warning (en and zh), and the admin overview and the viewers' live list show the live
// thumbnail. Screenshots go to e2e/screenshots/.
import { spawn } from "node:child_process";
import { expect } from "@playwright/test";
import { liveH264Args, testSourceArgs } from "../server/media/ffmpeg";
import { env, shot, shots, signIn, tenant, test, trpc, uniq, until } from "./helpers";

test("health strip with real figures and the keyframe warning; live thumbnails in the overview and lists", async ({
  browser,
}) => {
  const t = await tenant();
  const room = await trpc("rooms.create", { title: uniq("Health check") }, t.host.token);
  const info = await trpc("media.pushInfo", { room: room.id }, t.host.token, "GET");
  const ff = spawn(
    "ffmpeg",
    [
      ...["-hide_banner", "-loglevel", "error"],
      ...testSourceArgs("1280x720", 25, 150),
      ...liveH264Args(100),
      ...["-keyint_min", "100", "-sc_threshold", "0", "-b:v", "1500k", "-c:a", "aac", "-b:a", "96k"],
      ...["-f", "flv", info.rtmp_url],
    ],
    { stdio: "ignore" },
  );
  try {
    await until(
      () => trpc("rooms.get", { room: room.id }, t.host.token, "GET"),
      (r) => r.status === "live",
      20_000,
    );

    // The host's go-live panel.
    const host = await signIn(browser, t.host.username, "password-123");
    await host.goto(`${env.base}/host/rooms/${room.id}`);
    const strip = host.getByTestId("stream-health");
    await expect(host.getByTestId("health-warning-keyframe")).toBeVisible({ timeout: 45_000 });
    await expect(host.getByTestId("health-warning-keyframe")).toContainText("4.0 s apart");
    await expect(host.getByTestId("health-resolution")).toHaveText("1280×720");
    await expect(host.getByTestId("health-fps")).toHaveText(/^2[4-6](\.\d+)? fps$/);
    await expect(host.getByTestId("health-keyframe")).toHaveText("4.0 s");
    await expect(host.getByTestId("health-video")).toHaveText(/^\d{3,4} kbps$/);
    await expect(host.getByTestId("health-video-codec")).toHaveText("H264");
    await expect(host.getByTestId("health-audio")).toHaveText(/^\d{2,3} kbps$/);
    await expect(host.getByTestId("health-audio-codec")).toHaveText("AAC");
    await expect(host.getByTestId("health-source")).toHaveText("Measured by onair's media server");
    await expect(host.getByTestId("health-warning-fps")).toHaveCount(0);
    // A few readings make a line on the chart.
    await expect(host.getByTestId("health-chart").locator(".recharts-line-curve").first()).toBeVisible({
      timeout: 20_000,
    });
    await strip.scrollIntoViewIfNeeded();
    await strip.screenshot({ path: `${shots}health-strip.png` });
    await shot(host, "health-golive");

    // 中文.
    const zh = await signIn(browser, t.host.username, "password-123", "zh-CN");
    await zh.goto(`${env.base}/host/rooms/${room.id}`);
    await expect(zh.getByTestId("health-warning-keyframe")).toContainText("关键帧间隔为 4.0 秒", { timeout: 20_000 });
    await expect(zh.getByTestId("health-keyframe")).toHaveText("4.0 秒");
    await zh.getByTestId("stream-health").screenshot({ path: `${shots}health-strip-zh.png` });

    // The admin's room page shows the same, and the overview the live thumbnail.
    const admin = await signIn(browser, "e2e_admin", "e2e-admin-password");
    await admin.goto(`${env.base}/admin/rooms/${room.id}`);
    await expect(admin.getByTestId("health-warning-keyframe")).toBeVisible({ timeout: 20_000 });
    await expect(admin.getByTestId("health-resolution")).toHaveText("1280×720");
    await admin.goto(`${env.base}/admin`);
    const thumb = admin.locator(`[data-room="${room.id}"] [data-testid="room-thumb"]`);
    await expect(thumb).toHaveAttribute("data-kind", "live", { timeout: 30_000 });
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 15_000 }).toBe(320);
    await shot(admin, "overview-thumbnails");
    await admin.goto(`${env.base}/admin/rooms`);
    await expect
      .poll(
        () =>
          admin
            .locator(`[data-room="${room.id}"] [data-testid="room-thumb"]`)
            .evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth),
        { timeout: 15_000 },
      )
      .toBe(320);

    // The viewers' "live now" list.
    const viewer = await signIn(browser, t.viewer.username, "password-123");
    await viewer.goto(`${env.base}/rooms`);
    const card = viewer.locator(`[data-room="${room.id}"] [data-testid="room-thumb"]`);
    await expect
      .poll(() => card.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), {
        timeout: 20_000,
      })
      .toBe(320);
    await shot(viewer, "live-now-thumbnails");
  } finally {
    ff.kill("SIGKILL");
  }
});
