// Rooms that survive a drop, with the embedded media server and real ffmpeg pushes: the host's
// go-live panel counts the grace down after an encoder drop and lists refused pushes with their
// reasons; an ended room goes live again as a new room that its old watch and embed URLs lead to;
// an ended room's watch page plays its recording; recordings download from the console.
import { expect } from "@playwright/test";
import { env, push, shot, signIn, tenant, test, trpc, uniq, until, videoPlays } from "./helpers";

const roomOf = (id: string, token: string) => trpc("rooms.get", { room: id }, token, "GET");

test("an encoder drop counts the room's own grace down on the panel; refused pushes show with their reasons", async ({
  browser,
}) => {
  const t = await tenant();
  const room = await trpc("rooms.create", { title: uniq("drop") }, t.host.token);
  const info = await trpc("media.pushInfo", { room: room.id }, t.host.token, "GET");
  const host = await signIn(browser, t.host.username, "password-123");
  await host.goto(`${env.base}/host/rooms/${room.id}`);
  await expect(host.getByTestId("grace-setting")).toContainText("server default");

  // The room's own grace, set on the panel: 30 s instead of this run's default of 4 s.
  await host.getByTestId("grace-input").fill("30");
  await host.getByTestId("grace-input").press("Enter");
  await expect(host.getByTestId("grace-setting")).toContainText("30 s — this room's own setting");
  expect((await roomOf(room.id, t.host.token)).graceS).toBe(30);

  // A push with a wrong key: refused by the media server, and the host sees why, as it happens.
  const wrong = push(info.rtmp_url.replace(/key=[^&]+/, "key=pk1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 5);
  expect(await wrong.exited).not.toBe(0);
  const refusals = host.getByTestId("refusals");
  await expect(refusals.locator('[data-reason="bad_key"]')).toContainText("Wrong or old stream key");
  await expect(refusals.locator('[data-reason="bad_key"]')).toContainText("embedded");

  const ff = push(info.rtmp_url, 60);
  let second: ReturnType<typeof push> | undefined;
  try {
    await until(
      () => roomOf(room.id, t.host.token),
      (r) => r.status === "live" && r.streamOnline,
      20_000,
    );
    // A second encoder on the same key while the first publishes: refused as "already publishing".
    second = push(info.rtmp_url, 5);
    await second.exited;
    await expect(refusals.locator('[data-reason="busy"]')).toContainText("Another encoder is already publishing");
  } finally {
    // The encoder drops (killed, as a crash or a lost network would).
    ff.kill("SIGKILL");
    await ff.exited;
    second?.kill("SIGKILL");
  }
  const grace = host.getByTestId("grace");
  await expect(grace).toBeVisible({ timeout: 15_000 });
  // The header says so at once too (the socket's status, not a room read a second stale).
  await expect(host.getByTestId("room-status")).toContainText("Paused");
  await expect(host.getByTestId("stream-online")).toContainText("No encoder connected");
  const left = async () => Number(/(\d+) s/.exec((await grace.textContent()) ?? "")?.[1]);
  const first = await left();
  // The room's own 30 s, not the default 4 s: still counting well after the default ran out.
  expect(first).toBeGreaterThan(20);
  expect(first).toBeLessThanOrEqual(30);
  await host.waitForTimeout(5_000);
  const later = await left();
  expect(later).toBeLessThan(first);
  expect(later).toBeGreaterThan(15);
  expect((await roomOf(room.id, t.host.token)).status).toBe("paused");
  await shot(host, "rooms-drop-countdown");

  // The encoder comes back within the grace: live again, and the countdown is gone.
  const back = push(info.rtmp_url, 30);
  try {
    await until(
      () => roomOf(room.id, t.host.token),
      (r) => r.status === "live" && r.streamOnline,
      20_000,
    );
    await expect(grace).toBeHidden({ timeout: 10_000 });
  } finally {
    back.kill("SIGKILL");
    await back.exited;
  }
  await host.context().close();
});

test("ended → its recording plays on the watch page and downloads → Go live again → the old URLs reach the new broadcast", async ({
  browser,
}) => {
  const t = await tenant();
  const title = uniq("again");
  const room = await trpc("rooms.create", { title, record: true, graceS: 120 }, t.host.token);
  const info = await trpc("media.pushInfo", { room: room.id }, t.host.token, "GET");
  // The host's panel is open through the broadcast: a word in the chat while it is recorded.
  const host = await signIn(browser, t.host.username, "password-123");
  await host.goto(`${env.base}/host/rooms/${room.id}`);
  const ff = push(info.rtmp_url, 60);
  try {
    await until(
      () => roomOf(room.id, t.host.token),
      (r) => r.status === "live" && r.streamOnline,
      20_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    await host.getByTestId("chat-input").fill("直播中 🎥 live now");
    await host.getByTestId("chat-send").click();
    await expect(host.getByTestId("chat-message").filter({ hasText: "直播中 🎥 live now" })).toHaveCount(1);
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    ff.kill("SIGTERM");
    await ff.exited;
  }

  // A last word in the chat after the stream stopped: the ended room's page shows it in its closed
  // chat log, not in the recording's replay. Then the host ends the room from the panel.
  await host.getByTestId("chat-input").fill("谢谢收看 👋 see you");
  await host.getByTestId("chat-send").click();
  await expect(host.getByTestId("chat-message").filter({ hasText: "谢谢收看 👋 see you" })).toHaveCount(1);
  await host.getByTestId("stop-room").click();
  await expect(host.getByTestId("room-status")).toContainText("Ended");
  await until(
    () => trpc("recordings.list", { room: room.id }, t.host.token, "GET"),
    (l) => l.items.length === 1 && l.items[0].status === "ready",
    30_000,
  );

  // A visitor on the ended room's watch page: its recording plays there.
  const viewerCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const viewer = await viewerCtx.newPage();
  await viewer.goto(`${env.base}/watch/${room.id}`);
  await expect(viewer.getByTestId("replay")).toBeVisible({ timeout: 20_000 });
  await videoPlays(viewer, '[data-testid="replay-video"]');
  // Its chat plays in step with it: nothing at the start, the word said while live once the video
  // reaches it; the word said after the stream stopped is not part of this recording.
  const replayChat = viewer.getByTestId("replay-chat");
  const seek = (to: "start" | "end", page = viewer) =>
    page.locator('[data-testid="replay-video"]').evaluate((v: HTMLVideoElement, where) => {
      v.pause();
      v.currentTime = where === "start" ? 0 : v.duration;
    }, to);
  await seek("start");
  await expect(replayChat.getByTestId("replay-chat-empty")).toBeVisible();
  await expect(replayChat.getByTestId("chat-message")).toHaveCount(0);
  await seek("end");
  await expect(replayChat.getByTestId("chat-message").filter({ hasText: "直播中 🎥 live now" })).toHaveCount(1);
  await expect(replayChat.getByTestId("chat-message")).toHaveCount(1);
  // The whole log, and closed (the server refuses it): the box says so; co-hosting is not offered.
  await shot(viewer, "rooms-ended-replay-chat");
  await viewer.getByTestId("chat-tab-log").click();
  await expect(viewer.getByTestId("chat-message").filter({ hasText: "直播中 🎥 live now" })).toHaveCount(1);
  await expect(viewer.getByTestId("chat-message").filter({ hasText: "谢谢收看 👋 see you" })).toHaveCount(1);
  await expect(viewer.getByTestId("chat-input")).toBeDisabled();
  await expect(viewer.getByTestId("chat-input")).toHaveAttribute("placeholder", "Chat closed: broadcast ended");
  await expect(viewer.getByRole("link", { name: "Sign in to co-host" })).toHaveCount(0);
  await expect(viewer.getByTestId("online-count")).toHaveCount(0);
  await expect(viewer.getByLabel("Playback")).toBeHidden();
  await shot(viewer, "rooms-ended-replay");

  // The embed plays it too (the whole frame but the chat beside it), with ?chat=1 its chat in step.
  const frame = await viewerCtx.newPage();
  await frame.goto(`${env.base}/embed/${room.id}?chat=1`);
  await videoPlays(frame, '[data-testid="replay-video"]');
  const width = await frame.locator('[data-testid="replay-video"]').evaluate((v) => v.getBoundingClientRect().width);
  expect(width).toBeGreaterThan(800);
  await seek("end", frame);
  const frameChat = frame.getByTestId("replay-chat");
  await expect(frameChat.getByTestId("chat-message").filter({ hasText: "直播中 🎥 live now" })).toHaveCount(1);
  await shot(frame, "rooms-ended-embed-chat");
  await frame.close();

  // The host downloads it from the panel: an attachment named after the recording.
  const download = host.waitForEvent("download");
  await host.getByTestId("download-recording").click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/\.mp4$/);
  const size = (await import("node:fs")).statSync(await file.path()).size;
  expect(size).toBeGreaterThan(10_000);

  // The host's list: the ended room opens (no "Go live" on it).
  await host.goto(`${env.base}/host`);
  const card = host.locator("section", { has: host.getByTestId("room-card-title").filter({ hasText: title }) });
  await expect(card).toHaveCount(1);
  await expect(card.getByRole("link", { name: "Go live" })).toHaveCount(0);
  await expect(card.getByRole("link", { name: "Open" })).toBeVisible();

  // Go live again: a new room with the same title and settings, its panel opens.
  await card.getByRole("link", { name: "Open" }).click();
  await host.getByTestId("go-live-again").click();
  await host.waitForURL((u) => u.pathname.startsWith("/host/rooms/") && !u.pathname.endsWith(room.id));
  const nextId = new URL(host.url()).pathname.split("/").pop()!;
  const next = await roomOf(nextId, t.host.token);
  expect(next).toMatchObject({ title, record: true, graceS: 120, status: "prepare", hostId: room.hostId });
  expect(next.num).not.toBe(room.num);
  await expect(host.getByTestId("room-title")).toHaveText(title);
  await shot(host, "rooms-go-live-again-panel");

  // The viewer still on the old page is told where the broadcast continues…
  await expect(viewer.getByTestId("continued")).toContainText("will continue in a new room", { timeout: 15_000 });
  await shot(viewer, "rooms-continues-soon");
  // …and is taken there once it is on air.
  const nextInfo = await trpc("media.pushInfo", { room: nextId }, t.host.token, "GET");
  const ff2 = push(nextInfo.rtmp_url, 90);
  try {
    await viewer.waitForURL(`${env.base}/watch/${nextId}`, { timeout: 30_000 });
    await expect(viewer.locator("[data-player-state]")).toHaveAttribute("data-player-state", "live", {
      timeout: 30_000,
    });
    await videoPlays(viewer, "video");
    await shot(viewer, "rooms-old-url-followed");

    // A new visitor of the old watch URL (by id or number) and of its embed is sent on at once.
    const fresh = await viewerCtx.newPage();
    const res = await fresh.goto(`${env.base}/watch/${room.num}`);
    expect(new URL(fresh.url()).pathname).toBe(`/watch/${nextId}`);
    expect(res?.status()).toBe(200);
    await fresh.goto(`${env.base}/embed/${room.id}?format=hls`);
    expect(fresh.url()).toBe(`${env.base}/embed/${nextId}?format=hls`);
    await expect(fresh.locator("[data-player-state]")).toHaveAttribute("data-player-state", "live", {
      timeout: 30_000,
    });
  } finally {
    ff2.kill("SIGTERM");
    await ff2.exited;
  }
  await viewerCtx.close();
  await host.context().close();
});

test("/embed/<unknown room> answers 404 with 'Room not found', as /watch does", async ({ page }) => {
  for (const path of ["/embed/999999999", "/embed/00000000-0000-4000-8000-000000000000", "/embed/nonsense"]) {
    const res = await page.goto(`${env.base}${path}`);
    expect(res?.status()).toBe(404);
    await expect(page.getByTestId("room-not-found")).toContainText("Room not found");
  }
  await shot(page, "rooms-embed-not-found");
});
