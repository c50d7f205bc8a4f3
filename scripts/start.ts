// `npm start`: provision the database, migrate, create the first admin, build the console when no
// build exists, then run the web process and the front process, and stop them all on SIGTERM/SIGINT.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadSettings, provisionDatabase, root } from "./lib/prepare";
import { ensurePackages, findBinary } from "./lib/system";

(process.env as Record<string, string>).NODE_ENV ??= "production";

const { dataDir } = loadSettings();
if (process.env.MEDIA_EMBEDDED !== "false") {
  ensurePackages(
    "ffmpeg (HLS packaging and recordings)",
    ["ffmpeg"],
    () => !!findBinary([process.env.FFMPEG_PATH ?? "ffmpeg"]),
    "set MEDIA_EMBEDDED=false and point an external media server at onair's hooks",
  );
}
const { url, priv } = await provisionDatabase(dataDir, "onair");
process.env.DATABASE_URL = url;
process.env.PORT ??= "3000";
process.env.HOST ??= "127.0.0.1";
process.env.WEB_PORT ??= String(Number(process.env.PORT) + 1);
// next-auth builds its callback URLs from this; the console is served at the public address.
process.env.NEXTAUTH_URL ??= (process.env.PUBLIC_URL ?? `http://${process.env.HOST}:${process.env.PORT}`).replace(
  /\/$/,
  "",
);

const { runMigrations } = await import("../server/db/migrate");
await runMigrations(url);
const { env } = await import("../server/env");
const { getDb, closeDb } = await import("../server/db/client");
const { ensureFirstAdmin } = await import("../server/accounts");
const { systemClock } = await import("../server/clock");
const e = env();
const admin = await ensureFirstAdmin(getDb(), systemClock, e.ADMIN_USERNAME, e.ADMIN_PASSWORD);
await closeDb();

if (!existsSync(resolve(root, ".next/BUILD_ID"))) {
  console.log("[onair] building the console (first start; `npm run build` rebuilds)…");
  const b = spawnSync("npx", ["next", "build"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (b.status !== 0) {
    console.error("[onair] next build failed");
    await priv?.stop();
    process.exit(1);
  }
}

const children: ChildProcess[] = [];
let stopping = false;
function run(name: string, entry: string) {
  const child = spawn(process.execPath, ["--import", "tsx", resolve(root, entry)], {
    cwd: root,
    // The IPC channel lets a child notice when this supervisor dies without a chance to stop it.
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[onair] ${name} process exited (${signal ?? code}); stopping`);
      void shutdown(1);
    }
  });
  children.push(child);
  return child;
}

async function waitHealthy(port: number, ms: number) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/health`);
      if (r.ok) return true;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  // Front first (it stops accepting and flushes heartbeats), then web, then our private database.
  for (const c of [...children].reverse()) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill("SIGTERM");
    await new Promise((r) => c.once("exit", r));
  }
  await priv?.stop();
  process.exit(code);
}
process.on("SIGTERM", () => void shutdown(0));
process.on("SIGINT", () => void shutdown(0));
// `npm start` runs us under `sh -c`; when npm is sent SIGTERM it stops that shell but the signal
// does not reach us. Being re-parented means whoever started us is gone: stop gracefully.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown(0);
}, 500).unref();

run("web", "server/web/main.ts");
if (!(await waitHealthy(Number(process.env.WEB_PORT), 120_000))) {
  console.error("[onair] the web process did not become healthy");
  await shutdown(1);
}
if (e.MEDIA_EMBEDDED) {
  run("media", "server/media/main.ts");
  await new Promise((r) => setTimeout(r, 300));
}
run("front", "server/front/main.ts");
if (!(await waitHealthy(e.PORT, 30_000))) {
  console.error("[onair] the front process did not become healthy");
  await shutdown(1);
}
const base = `http://${e.HOST}:${e.PORT}`;
console.log(`\n[onair] ready at ${base}  (health: ${base}/api/health)`);
if (e.MEDIA_EMBEDDED)
  console.log(
    `[onair] RTMP ingest at rtmp://${e.rtmpHost}:${e.MEDIA_RTMP_PORT}/live (HTTP-FLV and HLS at ${e.publicUrl}/live/…)`,
  );
console.log(
  `[onair] sign in at ${base}/signin as "${e.ADMIN_USERNAME}"` +
    (admin.created && admin.generatedPassword
      ? ` with the generated password: ${admin.generatedPassword}\n[onair] (shown once; set ADMIN_PASSWORD or change it in the console)`
      : e.ADMIN_PASSWORD
        ? " with ADMIN_PASSWORD"
        : " with the password printed at first start"),
);
