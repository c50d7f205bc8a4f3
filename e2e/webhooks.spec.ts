// Webhooks and the audit page as an admin uses them: an endpoint added in the console (its secret
// shown once), a room pushed live with ffmpeg and ended; signed deliveries reach a receiver on
// loopback (allowed by OUTBOUND_ALLOW in e2e/global-setup.ts), whose first answer is a 500 and
// which gets the retry; the deliveries list with each attempt, a redelivery; the audit page filtered, en and zh.
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "@playwright/test";
import { env, push, shot, signIn, tenant, test, trpc, uniq, until } from "./helpers";

interface Hit {
  at: number;
  status: number;
  signature: string;
  attempt: string;
  raw: string;
  body: { id: string; type: string; data: { room: { id: string }; cause?: string } };
}

/** Checks Onair-Signature as the README documents it. */
function signed(h: Hit, secret: string) {
  const parts = Object.fromEntries(h.signature.split(",").map((kv) => kv.split("=", 2)));
  const mac = createHmac("sha256", secret).update(`${parts.t}.${h.raw}`).digest();
  const got = Buffer.from(parts.v1 ?? "", "hex");
  return got.length === mac.length && timingSafeEqual(got, mac) && Math.abs(Date.now() / 1000 - Number(parts.t)) < 300;
}

test("webhook deliveries signed, retried after a 500, listed and redelivered; the audit page filtered", async ({
  browser,
}) => {
  test.setTimeout(180_000);
  // The receiver: the first room.live it sees is answered 500, everything else 200.
  const hits: Hit[] = [];
  let failedOnce = false;
  const receiver = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString("utf8")));
    req.on("end", () => {
      const body = JSON.parse(raw) as Hit["body"];
      const status = body.type === "room.live" && !failedOnce ? ((failedOnce = true), 500) : 200;
      hits.push({
        at: Date.now(),
        status,
        raw,
        body,
        signature: String(req.headers["onair-signature"]),
        attempt: String(req.headers["onair-delivery-attempt"]),
      });
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "thanks" : "receiver busy");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/onair/events`;
  try {
    const t = await tenant();
    const appId = t.app.app.id as number;
    const appName = t.app.app.name as string;

    // The admin adds an endpoint under Apps → Webhooks; its secret is shown once.
    const admin = await signIn(browser, "e2e_admin", "e2e-admin-password");
    await admin.goto(`${env.base}/admin/apps`);
    const card = admin.locator("section").filter({ has: admin.getByRole("heading", { name: appName }) });
    await card.getByRole("link", { name: "Webhooks" }).click();
    await expect(admin).toHaveURL(new RegExp(`/admin/apps/${appId}/webhooks$`));
    await expect(admin.getByText("No endpoint yet.")).toBeVisible();
    await admin.getByRole("button", { name: "Add endpoint" }).click();
    const form = admin.getByRole("form", { name: "Add endpoint" });
    await form.getByLabel("URL").fill(hookUrl);
    await form.getByLabel("Description").fill("Our backend (e2e receiver)");
    await form.locator('[data-event="room.created"]').check();
    await shot(admin, "webhooks-add");
    await form.getByRole("button", { name: "Add endpoint" }).click();
    await expect(admin.getByTestId("webhook-secret")).toBeVisible();
    const secret = (await admin.getByTestId("webhook-secret-value").textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    await shot(admin, "webhooks-secret-once");
    await admin.getByTestId("webhook-secret").getByRole("button", { name: "Close" }).click();
    await admin.reload();
    await expect(admin.getByTestId("endpoint-url")).toHaveText(hookUrl);
    await expect(admin.getByText(secret)).toHaveCount(0);

    // The host goes live with a real push, then ends the broadcast.
    const room = await trpc<{ id: string; num: number }>("rooms.create", { title: uniq("Hooked show ") }, t.host.token);
    const info = await trpc<{ rtmp_url: string }>("media.pushInfo", { room: room.id }, t.host.token, "GET");
    const ff = push(info.rtmp_url);
    try {
      await until(
        () => trpc<{ status: string }>("rooms.get", { room: room.id }, t.host.token, "GET"),
        (r) => r.status === "live",
      );
      // room.live failed once (500) and came again, signed afresh; only then did room.ended go.
      await until(
        () => Promise.resolve(hits.filter((h) => h.body.type === "room.live").length),
        (n) => n >= 2,
      );
    } finally {
      ff.kill("SIGKILL");
    }
    // The encoder is gone (the room pauses), then the host ends it.
    await until(
      () => trpc<{ status: string }>("rooms.get", { room: room.id }, t.host.token, "GET"),
      (r) => r.status === "paused",
    );
    await trpc("rooms.stop", { room: room.id }, t.host.token);
    await until(
      () => Promise.resolve(hits.some((h) => h.body.type === "room.ended")),
      (v) => v,
    );
    const mine = hits.filter((h) => h.body.data.room.id === room.id);
    const types = mine.map((h) => `${h.body.type}:${h.status}`);
    expect(types.slice(0, 3)).toEqual(["room.created:200", "room.live:500", "room.live:200"]);
    expect(types).toContain("room.ended:200");
    expect(types.indexOf("room.ended:200")).toBeGreaterThan(2);
    const [first, retry] = mine.filter((h) => h.body.type === "room.live");
    expect(first!.body.id).toBe(retry!.body.id);
    expect([first!.attempt, retry!.attempt]).toEqual(["1", "2"]);
    expect(retry!.at - first!.at).toBeGreaterThanOrEqual(900);
    expect(retry!.body.data.cause).toBe("room.stream_start");
    for (const h of mine) expect(signed(h, secret)).toBe(true);
    expect(signed(mine[0]!, secret + "x")).toBe(false);

    // The deliveries list: the retried one delivered on its second attempt.
    await admin.getByRole("button", { name: "Deliveries" }).click();
    const list = admin.getByTestId(/^deliveries-/);
    const liveRow = list.locator('[data-testid="delivery"][data-type="room.live"]');
    await expect(liveRow).toHaveAttribute("data-status", "delivered");
    await expect(liveRow.getByTestId("attempts")).toHaveText("2");
    await expect(liveRow.getByTestId("response-status")).toHaveText("200");
    await expect(list.locator('[data-testid="delivery"][data-type="room.ended"]')).toHaveAttribute(
      "data-status",
      "delivered",
    );
    // Its attempts one by one: the receiver's 500 first, then its 200.
    await liveRow.getByTestId("show-attempts").click();
    const history = list.getByTestId("attempt-history");
    await expect(history.getByTestId("attempt")).toHaveCount(2);
    await expect(history.getByTestId("attempt-status")).toHaveText(["500", "200"]);
    await expect(history.getByTestId("attempt").first()).toContainText("receiver busy");
    await shot(admin, "webhooks-deliveries");
    await liveRow.getByTestId("show-attempts").click();
    await expect(history).toHaveCount(0);

    // Redeliver room.ended: the receiver gets the same event again; the list shows the new delivery.
    const endedBefore = hits.filter((h) => h.body.type === "room.ended").length;
    await list
      .locator('[data-testid="delivery"][data-type="room.ended"]')
      .getByRole("button", { name: "Redeliver" })
      .click();
    await until(
      () => Promise.resolve(hits.filter((h) => h.body.type === "room.ended").length),
      (n) => n === endedBefore + 1,
    );
    const ended = hits.filter((h) => h.body.type === "room.ended");
    expect(ended.at(-1)!.body.id).toBe(ended[0]!.body.id);
    expect(signed(ended.at(-1)!, secret)).toBe(true);
    await expect(list.locator('[data-testid="delivery"][data-type="room.ended"]')).toHaveCount(2);
    await expect(list.getByText(/repeats #\d+/)).toBeVisible();
    await expect(list.locator('[data-testid="delivery"][data-type="room.ended"]').first()).toHaveAttribute(
      "data-status",
      "delivered",
    );
    await shot(admin, "webhooks-redelivered");

    // The overview links into the audit page; the page filtered by the room, then by what happened.
    await admin.goto(`${env.base}/admin`);
    await expect(admin.getByTestId("recent-activity")).toBeVisible();
    await shot(admin, "admin-overview");
    await admin.getByRole("link", { name: /All activity/ }).click();
    await expect(admin).toHaveURL(/\/admin\/audit$/);
    await admin.goto(`${env.base}/admin/audit?room=${room.id}`);
    const entries = admin.getByTestId("audit-list").getByTestId("audit-entry");
    await expect(entries.first()).toBeVisible();
    expect(await entries.evaluateAll((els) => els.map((e) => e.getAttribute("data-action")))).toEqual([
      "room.stop",
      "room.stream_stop",
      "room.stream_start",
      "room.create",
    ]);
    await expect(entries.filter({ hasText: "Encoder connected — stream started" })).toContainText(
      "Embedded media server",
    );
    await expect(entries.filter({ hasText: "Broadcast ended" })).toContainText(t.host.username);
    await shot(admin, "audit-room");
    const filters = admin.getByRole("form", { name: "Audit" });
    await filters.getByLabel("What").selectOption({ label: "Broadcast ended" });
    await filters.getByRole("button", { name: "Filter" }).click();
    await expect(admin).toHaveURL(/action=room\.stop/);
    await expect(entries).toHaveCount(1);
    await expect(entries.first()).toHaveAttribute("data-action", "room.stop");
    await shot(admin, "audit-filtered");

    // 简体中文, filtered by a system actor: the media server's moves in words.
    const zh = await signIn(browser, "e2e_admin", "e2e-admin-password", "zh-CN");
    await zh.goto(`${env.base}/admin/audit?actor=system:embedded&room=${room.id}`);
    const zhEntries = zh.getByTestId("audit-list").getByTestId("audit-entry");
    await expect(zhEntries).toHaveCount(2);
    await expect(zhEntries.nth(0)).toContainText("编码器断开，直播间暂停");
    await expect(zhEntries.nth(1)).toContainText("编码器已连接，开始推流");
    await expect(zhEntries.nth(1)).toContainText("内置媒体服务器");
    await shot(zh, "audit-zh");
  } finally {
    await new Promise<void>((r) => receiver.close(() => r()));
  }
});
