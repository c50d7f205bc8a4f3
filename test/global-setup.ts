// Vitest global setup: a real MariaDB (DATABASE_URL's server, or the private one under .data/),
// a fresh migrated database for this run, and test secrets. Workers inherit the environment.
import { dropDatabase } from "../scripts/lib/mariadb";
import { loadSettings } from "../scripts/lib/prepare";
import { provisionDatabase } from "../scripts/lib/provision";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { ensurePackages, findBinary } from "../scripts/lib/system";

/** Debian's python3 (SYSTEM_PYTHON in test/sources.ts) can load GstRtspServer and the elements test/rtsp-server.py uses. */
function rtspServerPresent() {
  const check =
    "import gi; gi.require_version('Gst','1.0'); gi.require_version('GstRtspServer','1.0');" +
    "from gi.repository import Gst, GstRtspServer; Gst.init(None);" +
    "assert all(Gst.ElementFactory.find(e) for e in ('videotestsrc','x264enc','rtph264pay'))";
  return spawnSync("/usr/bin/python3", ["-c", check], { stdio: "ignore" }).status === 0;
}

export default async function setup() {
  (process.env as Record<string, string>).NODE_ENV = "test";
  // Instances other test files spawn on this run's database would take the always-on leases of
  // server/media/always-on.test.ts (which runs its own fronts, confined to its app) and pull with
  // their own outbound rules: they take none.
  (process.env as Record<string, string>).SOURCE_ALWAYS_ON = "0";
  // Media tests push real streams (the two-instance test publishes with ffmpeg).
  ensurePackages("ffmpeg (test pushes)", ["ffmpeg"], () => !!findBinary(["ffmpeg"]));
  // Health and reconciliation are tested against a real nginx-rtmp (server/media/health.test.ts).
  ensurePackages(
    "nginx with the RTMP module (health tests)",
    ["nginx", "libnginx-mod-rtmp"],
    () => !!findBinary(["/usr/sbin/nginx"]) && existsSync("/usr/lib/nginx/modules/ngx_rtmp_module.so"),
  );
  // Stream-source tests pull a real RTSP server: GStreamer's, run by Debian's python3 (test/rtsp-server.py).
  ensurePackages(
    "GStreamer's RTSP server (stream-source tests)",
    [
      "gir1.2-gst-rtsp-server-1.0",
      "gstreamer1.0-plugins-base",
      "gstreamer1.0-plugins-good",
      "gstreamer1.0-plugins-ugly",
      "python3-gi",
    ],
    () => rtspServerPresent(),
  );
  const { dataDir } = loadSettings();
  const name = `onair_test_${process.pid}`;
  const base = process.env.DATABASE_URL;
  let url: string;
  let stopPrivate: (() => Promise<void>) | undefined;
  if (base) {
    const u = new URL(base);
    u.pathname = `/${name}`;
    process.env.DATABASE_URL = u.toString();
    url = (await provisionDatabase(dataDir, name)).url;
  } else {
    const r = await provisionDatabase(dataDir, name);
    url = r.url;
    stopPrivate = r.priv?.stop;
  }
  process.env.DATABASE_URL = url;
  process.env.ONAIR_TEST_DATA_DIR = dataDir;
  // Every file signs in over HTTP from 127.0.0.1 against this one database, so the default 30 a
  // minute per address was shared by the whole suite: once the suite ran fast enough, the 31st sign-in
  // of a minute (any file's) was refused. The tests of that limit set theirs (login.test.ts).
  process.env.LOGIN_ATTEMPTS_PER_ADDRESS ??= "600";
  const { runMigrations } = await import("../server/db/migrate");
  await runMigrations(url);
  return async () => {
    await dropDatabase(url);
    await stopPrivate?.();
  };
}
