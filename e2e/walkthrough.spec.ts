// The walk-through's bugs (issue 13), each as the person who met it: an unknown room and a page the
// role may not use answer with their HTTP status, long titles keep every page in its width, validation
// errors name the field and rule in the viewer's language, sign-in returns to the room, a room started
// without an encoder says "starting soon", the admin cannot disable themselves and resets passwords
// in the page, the stream key is masked until asked, and muted autoplay offers to unmute.
// Screenshots go to e2e/screenshots/.
import { mkdirSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { env, signIn, tenant } from "./helpers";

const shots = new URL("./screenshots/", import.meta.url).pathname;
mkdirSync(shots, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: `${shots}${name}.png`, fullPage: true });

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
