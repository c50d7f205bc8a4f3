// `npm start` as a user runs it, pointed at an existing server through DATABASE_URL: it migrates,
// creates the first admin, serves health/console/tRPC through the front process, and stops on SIGTERM.
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { dropDatabase } from "./lib/mariadb";
import { afterAll, describe, expect, it } from "vitest";
import { consoleCookie } from "../test/console";
import { exited, freePort, repoRoot, waitFor } from "../test/process";

const dbName = `onair_start_${process.pid}`;
const mediaDir = `${repoRoot}/.data/media-start-${process.pid}`;
afterAll(async () => {
  rmSync(mediaDir, { recursive: true, force: true });
  const u = new URL(process.env.DATABASE_URL!);
  u.pathname = `/${dbName}`;
  await dropDatabase(u.toString());
});

describe("npm start", () => {
  it("serves /api/health, the console and the API, prints how to sign in, stops cleanly", async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${dbName}`;
    const port = await freePort();
    const child = spawn("npm", ["start"], {
      cwd: repoRoot,
      env: {
        ...process.env,
        NODE_ENV: "production",
        DATABASE_URL: url.toString(),
        PORT: String(port),
        WEB_PORT: String(await freePort()),
        MEDIA_RTMP_PORT: String(await freePort()),
        MEDIA_HTTP_PORT: String(await freePort()),
        MEDIA_DIR: mediaDir,
        ADMIN_USERNAME: "first_admin",
        ADMIN_PASSWORD: undefined,
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 240_000;
      // Start-up's lines come in several writes; "sign in at" is its last (the ready line alone
      // was once read without the password line written right after it).
      while (!out.includes("[onair] sign in at") && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 250));
      expect(out).toContain("[onair] ready");
      const m = /as "first_admin" with the generated password: (\S+)/.exec(out);
      expect(m, out).toBeTruthy();

      const h = await (await waitFor(`${base}/api/health`)).json();
      expect(h).toMatchObject({ process: "front", db: { ok: true }, web: { process: "web", db: { ok: true } } });
      expect((await fetch(`${base}/signin`)).status).toBe(200);
      const login = await fetch(`${base}/api/trpc/auth.login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "first_admin", password: m![1] }),
      });
      expect(login.status).toBe(200);
      const { result } = (await login.json()) as { result: { data: { accessToken: string } } };
      const me = await fetch(`${base}/api/trpc/auth.me`, {
        headers: { authorization: `Bearer ${result.data.accessToken}` },
      });
      expect(((await me.json()) as { result: { data: { role: string; appId: null } } }).result.data).toMatchObject({
        role: "admin",
        appId: null,
      });
      const denied = await fetch(`${base}/api/trpc/apps.list`);
      expect(denied.status).toBe(401);
      // Oversized bodies are refused before they reach a procedure.
      const big = await fetch(`${base}/api/trpc/auth.login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "x".repeat(2_000_000), password: "y" }),
      });
      expect(big.status).toBe(413);
      // The vendor APIs' descriptions are served (and linked from the console).
      for (const v of ["aui", "sxb", "ltstream", "polyv", "haoshitong"]) {
        const d = (await (await fetch(`${base}/api/openapi/${v}.json`)).json()) as {
          openapi: string;
          paths: Record<string, unknown>;
        };
        expect(d.openapi).toBe("3.0.3");
        expect(Object.keys(d.paths).length).toBeGreaterThanOrEqual(2);
      }
      // Passwords never reach the output.
      expect(out).not.toContain("correct-horse");

      // Console sign-in through next-auth (CSRF token, credentials, session cookie).
      const cookie = await consoleCookie(base, "first_admin", m![1]!);
      const viaCookie = await fetch(`${base}/api/trpc/apps.list`, { headers: { cookie } });
      expect(viaCookie.status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
    // npm itself dies of the signal; what matters is that onair's processes stop cleanly.
    await exited(child);
    const deadline = Date.now() + 20_000;
    while (!(out.includes("front stopped") && out.includes("web stopped")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(out).toContain("front stopped");
    expect(out).toContain("web stopped");
  }, 300_000);
});
