// A live room as its people use it, every change on their screens within a second without a reload:
// a viewer asks to co-host and sees the host's approval; two viewers and the host chat in Chinese
// and emoji; the host removes a message and mutes a viewer; the host bans a viewer, whose player
// stops at once. Screenshots go to e2e/screenshots/.
import { expect, type Page } from "@playwright/test";
import { env, push, shot, signIn, tenant, test, trpc, uniq } from "./helpers";

const SECOND = { timeout: 1000 };

async function say(page: Page, text: string) {
  await page.getByTestId("chat-input").fill(text);
  await page.getByTestId("chat-send").click();
}

test("co-host approval, chat with moderation and a ban reach every page within a second", async ({ browser }) => {
  test.setTimeout(180_000);
  const t = await tenant();
  const viewer2 = uniq("viewer2_");
  await trpc(
    "users.create",
    { appId: t.app.app.id, username: viewer2, password: "password-123", role: "viewer" },
    t.admin,
  );
  const room = await trpc<{ id: string }>(
    "rooms.create",
    { title: uniq("Live chat "), notice: "问题请在聊天里提" },
    t.host.token,
  );
  const info = await trpc<{ rtmp_url: string }>("media.pushInfo", { room: room.id }, t.host.token, "GET");
  const ff = push(info.rtmp_url);
  try {
    const host = await signIn(browser, t.host.username, "password-123");
    await host.goto(`${env.base}/host/rooms/${room.id}`);
    await expect(host.getByTestId("room-status").locator("[data-status]")).toHaveAttribute("data-status", "live", {
      timeout: 30_000,
    });
    const [v1, v2] = await Promise.all([
      signIn(browser, t.viewer.username, "password-123"),
      signIn(browser, viewer2, "password-123"),
    ]);
    for (const v of [v1, v2]) {
      await v.goto(`${env.base}/watch/${room.id}`);
      await expect(v.locator("[data-player-state]")).toHaveAttribute("data-player-state", "live", { timeout: 30_000 });
      await expect(v.getByTestId("chat")).toHaveAttribute("data-transport", "ws", { timeout: 10_000 });
    }
    await expect(host.getByTestId("chat")).toHaveAttribute("data-transport", "ws", { timeout: 10_000 });

    // Co-hosting: the request reaches the host's queue and the approval the viewer, without a reload.
    await v1.getByTestId("request-mic").click();
    await expect(v1.getByTestId("request-mic")).toHaveAttribute("data-mic", "requested");
    const queue = host.getByTestId("mic-queue");
    await expect(queue).toBeVisible(SECOND);
    await queue.getByRole("button", { name: "Approve" }).click();
    await expect(v1.getByTestId("request-mic")).toHaveAttribute("data-mic", "approved", SECOND);

    // Chat in Chinese and emoji, from both viewers and the host, on all three pages.
    const lines: [Page, string][] = [
      [v1, "大家好 👋🏽 第一次来"],
      [v2, "来了来了 🎉🎉"],
      [host, "欢迎！问题请直接发 🙌"],
    ];
    for (const [page, text] of lines) {
      await say(page, text);
      for (const p of [host, v1, v2]) await expect(p.getByTestId("chat-list")).toContainText(text, SECOND);
    }
    await shot(v1, "live-watch-chat");

    // The host removes viewer 2's message: gone for the viewers, struck through for the host.
    const v2Line = host.getByTestId("chat-message").filter({ hasText: "来了来了" });
    await v2Line.getByTestId("chat-delete").click();
    for (const p of [v1, v2]) await expect(p.getByTestId("chat-list")).not.toContainText("来了来了", SECOND);
    await expect(v2Line).toHaveAttribute("data-removed", "true", SECOND);

    // The host mutes viewer 1: everybody sees it, and viewer 1 cannot send.
    await host.getByTestId("chat-message").filter({ hasText: "大家好" }).getByTestId("chat-mute").click();
    for (const p of [host, v1, v2])
      await expect(p.getByTestId("chat-notice").last()).toContainText("was muted", SECOND);
    await expect(v1.getByTestId("chat-input")).toBeDisabled(SECOND);
    await shot(host, "live-host-moderation");

    // The host bans viewer 2 (a kick): their player stops at once and their page says why.
    await say(v2, "bye?");
    const v2Second = host.getByTestId("chat-message").filter({ hasText: "bye?" });
    await expect(v2Second).toBeVisible(SECOND);
    await v2Second.getByTestId("chat-ban").click();
    await expect(v2.locator("[data-player-state]")).toHaveAttribute("data-player-state", "removed", SECOND);
    await expect(v2.getByTestId("removed")).toBeVisible(SECOND);
    expect(await v2.$eval("video", (el) => el.paused || !el.currentSrc)).toBe(true);
    await shot(v2, "live-watch-removed");
    // Viewer 1 still plays.
    await expect(v1.locator("[data-player-state]")).toHaveAttribute("data-player-state", "live");
  } finally {
    ff.kill("SIGKILL");
  }
});
