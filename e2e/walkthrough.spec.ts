// The walk-through's bugs (issue 13), each as the person who met it: an unknown room and a page the
// role may not use answer with their HTTP status, long titles keep every page in its width, validation
// errors name the field and rule in the viewer's language, sign-in returns to the room, a room started
// without an encoder says "starting soon", the admin cannot disable themselves and resets passwords
// in the page, the stream key is masked until asked, and muted autoplay offers to unmute.
// Screenshots go to e2e/screenshots/.
import type { ApiError } from "./helpers";
import { expect, type Page } from "@playwright/test";
import { env, login, push, shot, signIn, tenant, test, trpc, uniq } from "./helpers";

/** The page is no wider than its viewport (nothing pushed off to the right). */
async function fitsWidth(page: Page) {
  const { scroll, view } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    view: window.innerWidth,
  }));
  expect(scroll).toBeLessThanOrEqual(view);
}

test("an unknown room answers 404 'Room not found'; pages a role may not use answer 403", async ({ browser }) => {
  const t = await tenant();
  const ctx = await browser.newContext();
  const anon = await ctx.newPage();
  for (const ref of ["00000000-0000-4000-8000-000000000000", "987654321"]) {
    const res = await anon.goto(`${env.base}/watch/${ref}`);
    expect(res?.status()).toBe(404);
    await expect(anon.getByText("Room not found")).toBeVisible();
    await expect(anon.getByText(/Reconnecting/)).toHaveCount(0);
  }
  await ctx.close();

  const viewer = await signIn(browser, t.viewer.username, "password-123");
  for (const path of ["/admin", "/admin/users", "/host"]) {
    const res = await viewer.goto(`${env.base}${path}`);
    expect(res?.status(), path).toBe(403);
    await expect(viewer.getByTestId("forbidden")).toBeVisible();
  }
  const host = await signIn(browser, t.host.username, "password-123");
  expect((await host.goto(`${env.base}/admin/rooms`))?.status()).toBe(403);
  expect((await host.goto(`${env.base}/host`))?.status()).toBe(200);
  await shot(viewer, "walkthrough-403");
});

test("a 256-character unbroken title stays within the page everywhere, whole in a tooltip", async ({ browser }) => {
  const t = await tenant();
  const title = "W".repeat(256);
  const room = await trpc<{ id: string }>("rooms.create", { title }, t.host.token);
  await trpc("rooms.start", { room: room.id }, t.host.token);

  const host = await signIn(browser, t.host.username, "password-123");
  await expect(host.locator(`[title="${title}"]`).first()).toBeVisible();
  await fitsWidth(host);
  await shot(host, "walkthrough-long-title-host");
  await host.goto(`${env.base}/host/rooms/${room.id}`);
  await expect(host.getByTestId("room-title")).toHaveAttribute("title", title);
  await fitsWidth(host);

  const admin = await signIn(browser, "e2e_admin", "e2e-admin-password");
  await admin.goto(`${env.base}/admin/rooms`);
  await admin.getByRole("textbox", { name: "Search titles" }).fill("WWWWWWWW");
  await expect(admin.locator(`a[title="${title}"]`)).toBeVisible();
  await fitsWidth(admin);
  // Every column is still on screen.
  const created = admin.getByRole("columnheader", { name: "Created" });
  const box = (await created.boundingBox())!;
  expect(box.x + box.width).toBeLessThanOrEqual(1280);
  await shot(admin, "walkthrough-long-title-admin");

  const viewer = await signIn(browser, t.viewer.username, "password-123");
  await viewer.goto(`${env.base}/rooms`);
  await expect(viewer.locator(`[title="${title}"]`)).toBeVisible();
  await fitsWidth(viewer);
  await viewer.goto(`${env.base}/watch/${room.id}`);
  await expect(viewer.getByTestId("watch-title")).toHaveAttribute("title", title);
  await fitsWidth(viewer);
});

test("validation errors name the field and rule, in English and Chinese; counts and guests are translated", async ({
  browser,
}) => {
  const t = await tenant();
  for (const [locale, rule, toast] of [
    ["en-US", "Must be at least 1 character", /Title: Must be at least 1 character/],
    ["zh-CN", "至少需要 1 个字符", /标题：至少需要 1 个字符/],
  ] as const) {
    const host = await signIn(browser, t.host.username, "password-123", locale);
    const form = host.locator("form").first();
    await form.getByLabel(/Title|标题/).fill("   ");
    await form.getByRole("button", { name: /Create|创建/ }).click();
    await expect(form.getByRole("alert")).toHaveText(rule);
    await expect(host.getByText(toast)).toBeVisible();
    await expect(host.getByText(/Too small|Some fields are not valid|部分字段无效/)).toHaveCount(0);
    await host.context().close();
  }

  const room = await trpc<{ id: string }>("rooms.create", { title: uniq("Guests ") }, t.host.token);
  // A guest watching (not signed in) is a member the host sees.
  const guestCtx = await browser.newContext();
  const guest = await guestCtx.newPage();
  await guest.goto(`${env.base}/watch/${room.id}`);
  const zh = await signIn(browser, t.host.username, "password-123", "zh-CN");
  await expect(zh.getByText(/\d+ 人在看/).first()).toBeVisible();
  await expect(zh.getByText(/\d+ online/)).toHaveCount(0);
  await zh.goto(`${env.base}/host/rooms/${room.id}`);
  await expect(zh.getByTestId("members")).toContainText("游客", { timeout: 20_000 });
  await expect(zh.getByTestId("members")).not.toContainText("guest");
  await shot(zh, "walkthrough-zh-members");
  await guestCtx.close();
});

test("'Sign in to co-host' comes back to the room after signing in", async ({ browser }) => {
  const t = await tenant();
  const room = await trpc<{ id: string }>("rooms.create", { title: uniq("Co-host ") }, t.host.token);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${env.base}/watch/${room.id}`);
  await page.getByRole("link", { name: "Sign in to co-host" }).click();
  await page.waitForURL(/\/signin/);
  await page.getByLabel(/username/i).fill(t.viewer.username);
  await page.getByLabel(/password/i).fill("password-123");
  await page.getByRole("button", { name: /sign in/i }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/signin"));
  expect(new URL(page.url()).pathname).toBe(`/watch/${room.id}`);
  await expect(page.getByTestId("request-mic")).toBeVisible();
  await ctx.close();
});

test("started without an encoder, viewers see 'starting soon' until the stream is up", async ({ browser }) => {
  test.setTimeout(150_000);
  const t = await tenant();
  const room = await trpc<{ id: string }>("rooms.create", { title: uniq("Early ") }, t.host.token);
  await trpc("rooms.start", { room: room.id }, t.host.token);
  const viewer = await signIn(browser, t.viewer.username, "password-123");
  await viewer.goto(`${env.base}/watch/${room.id}`);
  const player = viewer.locator("[data-player-state]");
  await expect(player).toHaveAttribute("data-player-state", "starting");
  await expect(player).toContainText("Starting soon");
  await expect(viewer.getByTestId("watch-status")).toHaveText("Starting soon");
  await expect(viewer.getByTestId("watch-status")).not.toContainText("Live");
  await shot(viewer, "walkthrough-starting-soon");

  const info = await trpc<{ rtmp_url: string }>("media.pushInfo", { room: room.id }, t.host.token, "GET");
  const ff = push(info.rtmp_url);
  try {
    // The room's event brings it (the page's safety-net poll is 30 s away): ffmpeg's start, the
    // publish, the event and the first frame take 2–4 s here.
    await expect(player).toHaveAttribute("data-player-state", "live", { timeout: 12_000 });
    await expect(viewer.getByTestId("watch-status")).toHaveText("Live");
  } finally {
    ff.kill("SIGINT");
    await ff.exited;
  }
});

test("muted autoplay offers to unmute, and one click gives sound", async ({ browser }) => {
  test.setTimeout(150_000);
  const t = await tenant();
  const room = await trpc<{ id: string }>("rooms.create", { title: uniq("Sound ") }, t.host.token);
  const info = await trpc<{ rtmp_url: string }>("media.pushInfo", { room: room.id }, t.host.token, "GET");
  const ff = push(info.rtmp_url);
  try {
    const viewer = await signIn(browser, t.viewer.username, "password-123");
    await viewer.goto(`${env.base}/watch/${room.id}`);
    const player = viewer.locator("[data-player-state]");
    await expect(player).toHaveAttribute("data-player-state", "live", { timeout: 40_000 });
    // Autoplay is muted: the viewer is offered sound, and one click gives it.
    const unmute = viewer.getByTestId("unmute");
    await expect(unmute).toBeVisible();
    expect(await viewer.$eval("video", (v) => v.muted)).toBe(true);
    await shot(viewer, "walkthrough-unmute");
    await unmute.click();
    expect(await viewer.$eval("video", (v) => v.muted)).toBe(false);
    await expect(unmute).toHaveCount(0);
    await expect(player).toHaveAttribute("data-player-state", "live");
  } finally {
    ff.kill("SIGINT");
    await ff.exited;
  }
});

test("users: no Disable on the admin's own row, disabling asks first, passwords are reset in the page", async ({
  browser,
}) => {
  const t = await tenant();
  const admin = await signIn(browser, "e2e_admin", "e2e-admin-password");
  const dialogs: string[] = [];
  admin.removeAllListeners("dialog");
  admin.on("dialog", (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void (d.type() === "confirm" && dialogs.length === 1 ? d.dismiss() : d.accept());
  });
  await admin.goto(`${env.base}/admin/users`);
  const search = admin.getByRole("textbox", { name: "Search" });

  await search.fill("e2e_admin");
  const me = admin.locator('tr[data-username="e2e_admin"]');
  await expect(me).toBeVisible();
  await expect(me.getByRole("button", { name: "Disable" })).toHaveCount(0);
  // The server refuses it too.
  const adminToken = await login("e2e_admin", "e2e-admin-password");
  const self = await trpc<{ id: string }>("auth.me", {}, adminToken, "GET");
  await expect(trpc("users.setDisabled", { id: self.id, disabled: true }, adminToken)).rejects.toMatchObject({
    appCode: "FORBIDDEN",
  } satisfies Partial<ApiError>);

  await search.fill(t.viewer.username);
  const row = admin.locator(`tr[data-username="${t.viewer.username}"]`);
  // Dismissed the first time: nothing changes.
  await row.getByRole("button", { name: "Disable" }).click();
  expect(dialogs[0]).toContain(t.viewer.username);
  await admin.waitForTimeout(500);
  await expect(row.getByRole("button", { name: "Disable" })).toBeVisible();
  await row.getByRole("button", { name: "Disable" }).click();
  await expect(row.getByRole("button", { name: "Enable" })).toBeVisible();
  await row.getByRole("button", { name: "Enable" }).click();
  await expect(row.getByRole("button", { name: "Disable" })).toBeVisible();

  // Password reset: a form in the page, checked before it is sent.
  const before = dialogs.length;
  await row.getByRole("button", { name: "Reset password" }).click();
  const form = admin.getByRole("form", { name: `Reset password ${t.viewer.username}` });
  await form.getByLabel("New password").fill("short");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("alert")).toHaveText("Must be at least 8 characters");
  await shot(admin, "walkthrough-reset-password");
  await form.getByLabel("New password").fill("another-password-1");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form).toHaveCount(0);
  expect(dialogs.length).toBe(before);
  await expect(login(t.viewer.username, "another-password-1")).resolves.toBeTruthy();
});

test("the stream key and the Polyv channel password are masked until shown; copy and the data attribute keep the real value", async ({
  browser,
}) => {
  const t = await tenant();
  const room = await trpc<{ id: string }>("rooms.create", { title: uniq("Secret ") }, t.host.token);
  const info = await trpc<{ rtmp_url: string; streamKey: string; channelId: number; channelPassword: string }>(
    "media.pushInfo",
    { room: room.id },
    t.host.token,
    "GET",
  );
  const host = await signIn(browser, t.host.username, "password-123");
  await host.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await host.goto(`${env.base}/host/rooms/${room.id}`);
  const key = host.getByTestId("push-key");
  const url = host.getByTestId("push-url");
  await expect(key).toBeVisible();
  await expect(key).not.toContainText(info.streamKey);
  await expect(url).not.toContainText(info.streamKey);
  await expect(url).toContainText("rtmp://");
  await expect(key).toHaveAttribute("data-value", info.streamKey);
  await expect(url).toHaveAttribute("data-value", info.rtmp_url);
  await shot(host, "walkthrough-key-masked");
  await host.getByRole("button", { name: "Copy Stream key" }).click();
  expect(await host.evaluate(() => navigator.clipboard.readText())).toBe(info.streamKey);
  await host.getByRole("button", { name: "Show Stream key" }).click();
  await expect(key).toHaveText(info.streamKey);
  await host.getByRole("button", { name: "Hide Stream key" }).click();
  await expect(key).not.toContainText(info.streamKey);
  await host.getByRole("button", { name: "Show Full push URL" }).click();
  await expect(url).toHaveText(info.rtmp_url);
  // The Polyv channel password (a push credential too) is masked the same way.
  const polyv = host.getByTestId("polyv-password");
  await expect(polyv).toHaveAttribute("data-value", info.channelPassword);
  await expect(polyv).not.toContainText(info.channelPassword);
  await expect(host.getByTestId("polyv-channel")).toHaveText(String(info.channelId));
  await host.getByRole("button", { name: "Show Polyv channel password" }).click();
  await expect(polyv).toHaveText(info.channelPassword);
});
