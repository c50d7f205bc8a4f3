// `npm start`: provision the database, migrate, create the first admin, build the console when its
// build is missing or older than its sources (lib/console-build.ts), then run the web, media and front processes, restart any that crashes (see
// lib/supervisor.ts), and stop them all on SIGTERM/SIGINT. Started as root, it installs what is
// missing, then runs every long-running process as an unprivileged user (see lib/privileges.ts).
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { fullCollection } from "../server/idle-gc";
import { consoleBuildStale } from "./lib/console-build";
import { loadSettings, root } from "./lib/prepare";
import { stopSpawnedServer } from "./lib/stop-pid";
import { handOver, runAsAccount } from "./lib/privileges";
import { Supervisor } from "./lib/supervisor";
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
// Root: the account onair's processes will run as (created when missing), before anything is set up.
const runAs = runAsAccount();
// Compiled (scripts/launch.mjs), the processes run from server/.build; run from source (tsx), from source.
const compiled = import.meta.url.endsWith(".mjs");
const SOURCES = {
  provision: "scripts/provision.ts",
  setup: "scripts/setup.ts",
  web: "server/web/main.ts",
  media: "server/media/main.ts",
  front: "server/front/main.ts",
} as const;
const entryArgs = (name: keyof typeof SOURCES) =>
  compiled ? [resolve(root, `server/.build/${name}.mjs`)] : ["--import", "tsx", resolve(root, SOURCES[name])];

// The database, in a process of its own (scripts/provision.ts): the MySQL client it needs stays
// out of this one, which runs as long as onair does.
const provisioned = spawnSync(process.execPath, entryArgs("provision"), {
  cwd: root,
  env: { ...process.env, ONAIR_REPORT_FD: "3" },
  // What it prints (a package install, the server's first start) shows as it goes; its report
  // comes on a pipe of its own (fd 3).
  stdio: ["ignore", "inherit", "inherit", "pipe"],
  encoding: "utf8",
});
const dbReport = String(provisioned.output?.[3] ?? "")
  .split("\n")
  .find((l) => l.startsWith('{"onairDatabase"'));
if (provisioned.status !== 0 || !dbReport) {
  console.error("[onair] preparing the database failed (see above)");
  process.exit(1);
}
const { url, spawned } = (
  JSON.parse(dbReport) as { onairDatabase: { url: string; spawned: { pid: number; datadir: string } | null } }
).onairDatabase;
// A private MariaDB this start started is stopped with onair.
const stopDatabase = async () => {
  if (spawned) await stopSpawnedServer(spawned);
};
process.env.DATABASE_URL = url;
process.env.PORT ??= "3000";
process.env.HOST ??= "127.0.0.1";
process.env.WEB_PORT ??= String(Number(process.env.PORT) + 1);
// next-auth builds its callback URLs from this; the console is served at the public address.
process.env.NEXTAUTH_URL ??= (process.env.PUBLIC_URL ?? `http://${process.env.HOST}:${process.env.PORT}`).replace(
  /\/$/,
  "",
);

const { env } = await import("../server/env");
const e = env();

// Migrations, the first admin and the Default app, in a process of its own (scripts/setup.ts).
const setup = spawnSync(process.execPath, entryArgs("setup"), {
  cwd: root,
  env: process.env,
  stdio: ["ignore", "pipe", "inherit"],
  encoding: "utf8",
});
const report = setup.stdout
  ?.split("\n")
  .reverse()
  .find((l) => l.startsWith('{"onairSetup"'));
if (setup.status !== 0 || !report) {
  console.error("[onair] setting up the database failed (see above)");
  await stopDatabase();
  process.exit(1);
}
const { admin, defaultApp } = JSON.parse(report) as {
  admin: { created: boolean; generatedPassword?: string };
  defaultApp?: { accessKey: string; secret: string };
};

const stale = consoleBuildStale(root);
if (stale) {
  console.log(`[onair] building the console (${stale}; \`npm run build\` rebuilds)…`);
  const b = spawnSync("npx", ["next", "build"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (b.status !== 0) {
    console.error("[onair] next build failed");
    await stopDatabase();
    process.exit(1);
  }
}

// Root hands what the processes write to RUN_AS_USER (see handOver) and runs them as that user.
let as: { uid: number; gid: number; env: Record<string, string> } | undefined;
if (runAs) {
  const ports: Array<[string, number]> = [
    ["PORT", e.PORT],
    ["WEB_PORT", Number(process.env.WEB_PORT)],
  ];
  if (e.MEDIA_EMBEDDED) ports.push(["MEDIA_RTMP_PORT", e.MEDIA_RTMP_PORT], ["MEDIA_HTTP_PORT", e.mediaHttpPort]);
  try {
    const childEnv = handOver(runAs, { root, dataDir, mediaDir: resolve(root, e.mediaDir), ports });
    as = { uid: runAs.uid, gid: runAs.gid, env: childEnv };
  } catch (err) {
    console.error(`[onair] ${(err as Error).message}`);
    await stopDatabase();
    process.exit(1);
  }
  console.log(`[onair] the web, media and front processes run as ${runAs.name} (uid ${runAs.uid})`);
}

let stopping = false;
const supervisor = new Supervisor({
  onGiveUp: (reason) => {
    console.error(`[onair] stopping: ${reason}`);
    void shutdown(1);
  },
});
function run(name: "web" | "media" | "front") {
  supervisor.run(name, process.execPath, entryArgs(name), {
    cwd: root,
    // The IPC channel lets a child notice when this supervisor dies without a chance to stop it.
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    env: { ...process.env, ...as?.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
    ...(as && { uid: as.uid, gid: as.gid }),
  });
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
  // Front first (it stops accepting and flushes heartbeats), then media, then web, then our private database.
  await supervisor.stop();
  await stopDatabase();
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

run("web");
if (!(await waitHealthy(Number(process.env.WEB_PORT), 120_000))) {
  console.error("[onair] the web process did not become healthy");
  await shutdown(1);
}
if (e.MEDIA_EMBEDDED) {
  run("media");
  await new Promise((r) => setTimeout(r, 300));
}
run("front");
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
if (defaultApp)
  console.log(
    `[onair] vendor clients (随心播, AUI, LTStream, Polyv, Haoshitong) use the app "Default": access key ` +
      `${defaultApp.accessKey}, secret ${defaultApp.secret}\n[onair] (shown once; its sign-ups become hosts — change it under Apps)`,
  );
console.log(
  `[onair] sign in at ${base}/signin as "${e.ADMIN_USERNAME}"` +
    (admin.created && admin.generatedPassword
      ? ` with the generated password: ${admin.generatedPassword}\n[onair] (shown once; set ADMIN_PASSWORD or change it in the console)`
      : e.ADMIN_PASSWORD
        ? " with ADMIN_PASSWORD"
        : " with the password printed at first start"),
);

// Start-up is over: what it loaded and built (provisioning the database, reading the settings) is
// garbage now, and from here on this process only watches its children. One full collection now
// hands those pages back to the system, instead of whenever V8 next gets to it.
fullCollection()();
