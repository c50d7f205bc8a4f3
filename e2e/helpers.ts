// Shared by the journeys: the running onair, a tRPC client over HTTP, and ffmpeg pushes.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect, test as base, type Browser, type Page } from "@playwright/test";
import { liveH264Args, testSourceArgs } from "../server/media/ffmpeg";

const dataDir = resolve(process.env.DATA_DIR ?? ".data");
export const env = JSON.parse(readFileSync(resolve(dataDir, "e2e.json"), "utf8")) as {
  base: string;
  rtmp: string;
  srsHttpPort: number;
  authSecret: string;
  encryptionKey: string;
};

/**
 * The journeys' `test`: when a test ends, the browser contexts it opened on the shared browser are
 * closed (Playwright closes only its own `context` fixture). Otherwise every player a journey left
 * open keeps pulling and decoding its stream through all the journeys after it.
 */
export const test = base.extend<{ closeContexts: void }>({
  closeContexts: [
    async ({ browser }, use, info) => {
      await use();
      const open = browser.contexts();
      if (process.env.E2E_LOG_CONTEXTS) console.log(`[contexts] ${info.title.slice(0, 50)}: ${open.length} left open`);
      await Promise.all(open.map((c) => c.close()));
    },
    { auto: true },
  ],
});

export class ApiError extends Error {
  constructor(
    public status: number,
    public appCode: string,
    message: string,
  ) {
    super(message);
  }
}

export async function trpc<T = any>(
  path: string,
  input: unknown,
  token?: string,
  method: "GET" | "POST" = "POST",
): Promise<T> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const r =
    method === "GET"
      ? await fetch(`${env.base}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers })
      : await fetch(`${env.base}/api/trpc/${path}`, { method: "POST", headers, body: JSON.stringify(input ?? {}) });
  const body = (await r.json()) as { result?: { data: T }; error?: { message: string; data: { appCode: string } } };
  if (!body.result) throw new ApiError(r.status, body.error?.data.appCode ?? "?", body.error?.message ?? "");
  return body.result.data;
}

export const login = async (username: string, password: string) =>
  (await trpc<{ accessToken: string }>("auth.login", { username, password })).accessToken;

let n = 0;
export const uniq = (p: string) => `${p}${Date.now().toString(36)}${n++}`;

/** A tenant with a host and a viewer, signed in. */
export async function tenant() {
  const admin = await login("e2e_admin", "e2e-admin-password");
  const app = await trpc("apps.create", { name: uniq("app") }, admin);
  const mk = async (role: string) => {
    const username = uniq(role);
    await trpc("users.create", { appId: app.app.id, username, password: "password-123", role }, admin);
    return { username, token: await login(username, "password-123") };
  };
  return { admin, app, host: await mk("host"), viewer: await mk("viewer") };
}

export function push(url: string, seconds = 120): ChildProcess & { exited: Promise<number | null> } {
  const p = spawn(
    "ffmpeg",
    [
      "-hide_banner",
      "-loglevel",
      "error",
      ...testSourceArgs("640x360", 25),
      "-t",
      String(seconds),
      ...liveH264Args(25),
      "-c:a",
      "aac",
      "-b:a",
      "64k",
      "-f",
      "flv",
      url,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  ) as ChildProcess & { exited: Promise<number | null> };
  p.exited = new Promise((r) => p.on("exit", (c) => r(c)));
  return p;
}

export async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await f();
  while (!ok(v)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${ms} ms; last: ${JSON.stringify(v).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 300));
    v = await f();
  }
  return v;
}

/**
 * A browser context signed in, on the page its role lands on (dialogs accepted). By default the
 * session comes from next-auth's own credentials endpoint, as the sign-in page posts it, through the
 * context's request client (which shares its cookies): a journey that is not about signing in then
 * loads one page instead of three. `form: true` signs in through the sign-in page itself (the console
 * journey does, once per role).
 */
export async function signIn(browser: Browser, username: string, password: string, locale = "en-US", form = false) {
  const ctx = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on("dialog", (d) => void d.accept());
  if (form) {
    await page.goto(`${env.base}/signin`);
    await page.getByLabel(/username|用户名/i).fill(username);
    await page.getByLabel(/password|密码/i).fill(password);
    await page.getByRole("button", { name: /sign in|登录/i }).click();
    await page.waitForURL((u) => !u.pathname.startsWith("/signin"));
    return page;
  }
  const { csrfToken } = (await (await ctx.request.get(`${env.base}/api/auth/csrf`)).json()) as { csrfToken: string };
  const r = await ctx.request.post(`${env.base}/api/auth/callback/credentials`, {
    form: { csrfToken, username, password, json: "true" },
  });
  const session = (await ctx.cookies(env.base)).find((c) => c.name.endsWith("next-auth.session-token"));
  if (!r.ok() || !session) throw new Error(`sign-in of ${username} failed: ${r.status()} ${await r.text()}`);
  await page.goto(`${env.base}/`);
  return page;
}

/** The embed player of a room plays: live, at this width, and past its first second. */
export async function embedPlays(page: Page, roomId: string, format: "flv" | "hls", width: number) {
  await page.goto(`${env.base}/embed/${roomId}?format=${format}`);
  await expect(page.locator("[data-player-state]")).toHaveAttribute("data-player-state", "live", { timeout: 30_000 });
  await page.waitForFunction(
    (w) => {
      const v = document.querySelector("video");
      return !!v && v.videoWidth === w && v.currentTime > 1;
    },
    width,
    { timeout: 30_000 },
  );
}

/** Screenshots go to e2e/screenshots/ (checked by eye; ignored by git). */
export const shots = new URL("./screenshots/", import.meta.url).pathname;
mkdirSync(shots, { recursive: true });
export const shot = (page: Page, name: string) => page.screenshot({ path: `${shots}${name}.png`, fullPage: true });

/**
 * The <video> at `selector` plays: frames decoded (past `pastS` seconds when given) within `timeout`,
 * and its time moves on by more than half a second in `settleMs`. Answers its size.
 */
export async function videoPlays(
  page: Page,
  selector = "video",
  { pastS = 0, settleMs = 1500, timeout = 30_000 }: { pastS?: number; settleMs?: number; timeout?: number } = {},
) {
  await page.waitForFunction(
    ([s, past]) => {
      const v = document.querySelector<HTMLVideoElement>(s);
      return !!v && v.videoWidth > 0 && v.readyState >= 2 && v.currentTime > past;
    },
    [selector, pastS] as const,
    { timeout },
  );
  const t0 = await page.$eval(selector, (v) => (v as HTMLVideoElement).currentTime);
  await page.waitForTimeout(settleMs);
  const t1 = await page.$eval(selector, (v) => (v as HTMLVideoElement).currentTime);
  expect(t1).toBeGreaterThan(t0 + 0.5);
  return page.$eval(selector, (v) => ({
    w: (v as HTMLVideoElement).videoWidth,
    h: (v as HTMLVideoElement).videoHeight,
  }));
}
