// The console as people use it: admin → app and users; host → room, push, live; viewer → watch,
// like, request to co-host; host approves and stops; viewer sees the end; the recording plays.
// Screenshots of the main pages go to e2e/screenshots/ (ignored by git).
import { gzipSync } from "node:zlib";
import { expect, type Page } from "@playwright/test";
import { env, push, shot, signIn, test, uniq } from "./helpers";

async function createUser(admin: Page, appName: string, username: string, role: "host" | "viewer") {
  await admin.goto(`${env.base}/admin/users`);
  const form = admin.getByRole("form", { name: "New user" });
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Password").fill("password-123");
  await form.getByLabel("Display name").fill(`${role} ${username.slice(-4)}`);
  await form.getByLabel("Role").selectOption(role);
  await form.getByLabel("App").selectOption({ label: appName });
  await form.getByRole("button", { name: "Create" }).click();
  await expect(admin.locator(`tr[data-username="${username}"]`)).toBeVisible();
}

test("admin, host and viewer journey with screenshots", async ({ browser }) => {
  test.setTimeout(240_000);
  const appName = uniq("Demo app ");
  const hostName = uniq("host_");
  const viewerName = uniq("viewer_");

  // Admin: overview, an app (key and secret shown once), a host and a viewer.
  const admin = await signIn(browser, "e2e_admin", "e2e-admin-password", "en-US", true);
  await expect(admin).toHaveURL(/\/admin$/);
  await admin.goto(`${env.base}/admin/apps`);
  const appForm = admin.getByRole("form", { name: "New app" });
  await appForm.getByLabel("Name").fill(appName);
  await appForm.getByRole("button", { name: "Create" }).click();
  await expect(admin.getByTestId("secret-reveal")).toBeVisible();
  expect((await admin.getByTestId("app-secret").textContent())?.length).toBeGreaterThan(30);
  // The first start's Default app for vendor clients shows what its sign-ups become.
  await expect(admin.getByTestId("signup-role").first()).toContainText("hosts");
  await shot(admin, "admin-apps");
  // AUI's demo login is opt-in per app, and the app's card warns while it is on.
  const card = admin.locator("section").filter({ has: admin.getByRole("heading", { name: appName }) });
  await expect(card.getByTestId("aui-demo-warning")).toHaveCount(0);
  await card.getByRole("button", { name: "Edit" }).click();
  await card.getByRole("checkbox", { name: /AUI demo login/ }).check();
  await card.getByRole("button", { name: "Save" }).click();
  await expect(card.getByTestId("aui-demo-warning")).toContainText("anyone can sign in");
  await shot(admin, "admin-apps-aui-demo");
  await createUser(admin, appName, hostName, "host");
  await createUser(admin, appName, viewerName, "viewer");

  // Host: a room, its push URL, ffmpeg pushes, the badge follows the real stream.
  const host = await signIn(browser, hostName, "password-123", "en-US", true);
  await expect(host).toHaveURL(/\/host$/);
  const roomForm = host.getByRole("form", { name: "New room" });
  const title = uniq("Evening show ");
  await roomForm.getByLabel("Title").fill(title);
  await roomForm.getByLabel("Notice").fill("Welcome! Questions in the chat.");
  await roomForm.getByRole("button", { name: "Create" }).click();
  await host.waitForURL(/\/host\/rooms\/[0-9a-f-]{36}$/);
  const roomId = host.url().split("/").pop()!;
  const pushUrl = (await host.getByTestId("push-url").getAttribute("data-value"))!;
  expect(pushUrl).toMatch(/^rtmp:\/\/.+\/live\/s[0-9a-f]+\?key=pk\d+_/);
  await expect(host.getByTestId("room-status").locator("[data-status]")).toHaveAttribute("data-status", "prepare");
  const ff = push(pushUrl);
  try {
    await expect(host.getByTestId("room-status").locator("[data-status]")).toHaveAttribute("data-status", "live", {
      timeout: 30_000,
    });
    await expect(host.getByTestId("stream-online")).toContainText(/connected/i);
    await expect(host.locator("[data-player-state]").first()).toHaveAttribute("data-player-state", "live", {
      timeout: 30_000,
    });

    // Viewer in a second browser context: video plays, likes, asks to co-host.
    const viewer = await signIn(browser, viewerName, "password-123");
    await viewer.goto(`${env.base}/watch/${roomId}`);
    await expect(viewer.getByTestId("watch-title")).toHaveText(title);
    await expect(viewer.locator("[data-player-state]")).toHaveAttribute("data-player-state", "live", {
      timeout: 30_000,
    });
    await viewer.waitForFunction(
      () => {
        const v = document.querySelector("video");
        return !!v && v.videoWidth > 0 && v.currentTime > 0.5;
      },
      undefined,
      { timeout: 30_000 },
    );
    const t0 = await viewer.$eval("video", (v) => v.currentTime);
    await viewer.waitForTimeout(1500);
    expect(await viewer.$eval("video", (v) => v.currentTime)).toBeGreaterThan(t0);
    for (let i = 0; i < 3; i++) await viewer.getByTestId("like").click();
    await expect(viewer.getByTestId("likes")).toContainText("3");
    await viewer.getByTestId("request-mic").click();
    await expect(viewer.getByTestId("request-mic")).toBeDisabled();
    await shot(viewer, "watch-playing");

    // Phone width, as a guest.
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await phone.goto(`${env.base}/watch/${roomId}`);
    await expect(phone.locator("[data-player-state]")).toHaveAttribute("data-player-state", "live", {
      timeout: 30_000,
    });
    await phone.waitForTimeout(1000);
    await shot(phone, "watch-phone");
    await phone.close();

    // Host: audience figures, the request, approve → listed as co-host.
    await expect(host.getByTestId("mic-queue")).toContainText(/viewer/i, { timeout: 15_000 });
    await host.getByTestId("mic-queue").getByRole("button", { name: "Approve" }).click();
    await expect(host.getByTestId("cohosts")).toContainText(/viewer/i, { timeout: 15_000 });
    // Approved, but its client has not gone on the mic: no camera or mic flags to show yet.
    await expect(host.locator('[data-testid="cohosts"] li[data-mic-state="approved"]')).toContainText(
      "approved, not on the mic yet",
    );
    await expect(host.locator('[data-stat="Likes"]')).toHaveText("3", { timeout: 15_000 });
    await host.waitForTimeout(500);
    await shot(host, "host-golive-live");

    // The same panel in 简体中文.
    const zh = await signIn(browser, hostName, "password-123", "zh-CN", true);
    await zh.goto(`${env.base}/host/rooms/${roomId}`);
    await expect(zh.getByText("串流密钥", { exact: true }).first()).toBeVisible();
    await expect(zh.getByTestId("room-status")).toContainText("直播中");
    await expect(zh.locator("[data-player-state]").first()).toHaveAttribute("data-player-state", "live", {
      timeout: 30_000,
    });
    await shot(zh, "host-golive-zh-CN");
    await zh.close();

    // Admin pages with a live room.
    await admin.goto(`${env.base}/admin`);
    // (The live list; the recent activity below names the room too.)
    await expect(admin.locator("li[data-room]").getByText(title)).toBeVisible({ timeout: 15_000 });
    await shot(admin, "admin-overview");
    await admin.goto(`${env.base}/admin/apis`);
    await expect(admin.getByRole("link", { name: "OpenAPI JSON" })).toHaveCount(5);
    await admin.goto(`${env.base}/admin/rooms`);
    await expect(admin.getByText(title)).toBeVisible();
    await shot(admin, "admin-rooms");

    // The host stops; the viewer sees it ended.
    await host.getByTestId("stop-room").click();
    await expect(host.getByTestId("room-status").locator("[data-status]")).toHaveAttribute("data-status", "ended", {
      timeout: 15_000,
    });
    await expect(viewer.locator("[data-player-state]")).toHaveAttribute("data-player-state", "ended", {
      timeout: 20_000,
    });
  } finally {
    ff.kill("SIGTERM");
    await ff.exited;
  }

  // The recording is listed and plays.
  const rec = host.getByTestId("recordings").locator('[data-recording-status="ready"]').first();
  await expect(rec).toBeVisible({ timeout: 45_000 });
  await rec.getByRole("button", { name: "Play" }).click();
  await host.waitForFunction(
    () => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid="vod-player"]');
      return !!v && v.videoWidth > 0 && v.currentTime > 0.5;
    },
    undefined,
    { timeout: 30_000 },
  );
});

test("permissions: a viewer and a host of another room are refused on admin and host procedures", async ({
  browser,
}) => {
  const admin = await signIn(browser, "e2e_admin", "e2e-admin-password");
  const call = (page: Page, path: string, input: unknown, query = false) =>
    query
      ? page.request.get(`${env.base}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`)
      : page.request.post(`${env.base}/api/trpc/${path}`, { data: input ?? {} });
  const app = await (await call(admin, "apps.create", { name: uniq("perm app ") })).json();
  const appId = app.result.data.app.id;
  const mk = async (role: string) => {
    const username = uniq(`perm_${role}_`);
    await call(admin, "users.create", { appId, username, password: "password-123", role });
    return username;
  };
  const [ownerName, otherHostName, viewerName] = [await mk("host"), await mk("host"), await mk("viewer")];
  const owner = await signIn(browser, ownerName, "password-123");
  const room = (await (await call(owner, "rooms.create", { title: "Owner's room" })).json()).result.data;
  const rec = (await (await call(owner, "recordings.create", { room: room.id, name: "rec" })).json()).result.data;
  await call(owner, "rooms.start", { room: room.id });

  const adminProcedures: [string, unknown, boolean?][] = [
    ["apps.create", { name: "x" }],
    ["apps.list", undefined, true],
    ["apps.get", { id: appId }, true],
    ["apps.update", { id: appId, enabled: false }],
    ["apps.rotateSecret", { id: appId }],
    ["users.create", { username: uniq("x"), password: "password-123", role: "admin" }],
    ["users.list", {}, true],
    ["rooms.overview", undefined, true],
    ["audit.list", {}, true],
    ["media.sampleUrls", { id: appId }, true],
  ];
  const hostProcedures: [string, unknown, boolean?][] = [
    ["rooms.update", { room: room.id, title: "taken" }],
    ["rooms.pause", { room: room.id }],
    ["rooms.stop", { room: room.id }],
    ["rooms.delete", { room: room.id }],
    ["media.pushInfo", { room: room.id }, true],
    ["media.rotateKey", { room: room.id }],
    ["presence.kick", { room: room.id, memberId: "someone" }],
    ["mic.requests", { room: room.id }, true],
    ["mic.approve", { room: room.id, userId: crypto.randomUUID() }],
    ["mic.updateMeetingInfo", { room: room.id, members: [] }],
    ["recordings.create", { room: room.id, name: "x" }],
    ["recordings.delete", { id: rec.id }],
    ["tokens.issue", { room: room.id, scope: "publish" }],
  ];
  for (const name of [viewerName, otherHostName]) {
    const page = await signIn(browser, name, "password-123");
    const procs =
      name === viewerName
        ? [...adminProcedures, ...hostProcedures, ["rooms.create", { title: "x" }] as [string, unknown]]
        : [...adminProcedures, ...hostProcedures];
    for (const [path, input, query] of procs) {
      const r = await call(page, path, input, query);
      expect([path, name === viewerName ? "viewer" : "other host", r.status()]).toEqual([
        path,
        name === viewerName ? "viewer" : "other host",
        403,
      ]);
    }
    // Pages are refused on the server too, not just hidden.
    await page.goto(`${env.base}/admin/apps`);
    await expect(page.getByTestId("forbidden")).toBeVisible();
    if (name === viewerName) {
      await page.goto(`${env.base}/host`);
      await expect(page.getByTestId("forbidden")).toBeVisible();
    }
  }
  // And the room is untouched.
  const after = (await (await call(owner, "rooms.get", { room: room.id }, true)).json()).result.data;
  expect(after).toMatchObject({ title: "Owner's room", status: "live" });
});

test("the viewer page's first-load JavaScript stays under 250 kB gzipped", async ({ browser }) => {
  const page = await browser.newPage();
  const scripts = new Map<string, Buffer>();
  page.on("response", async (r) => {
    if (r.request().resourceType() === "script" && r.ok())
      scripts.set(r.url(), await r.body().catch(() => Buffer.alloc(0)));
  });
  await page.goto(`${env.base}/watch/1`, { waitUntil: "networkidle" });
  const gz = [...scripts.values()].reduce((s, b) => s + gzipSync(b).length, 0);
  console.log(`/watch first-load JS: ${scripts.size} scripts, ${(gz / 1024).toFixed(1)} kB gzipped`);
  expect(gz).toBeLessThan(250 * 1024);
});
