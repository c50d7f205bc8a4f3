// Starts onair as `npm start` does (on its own database and free ports) for the browser journeys,
// installing Debian's chromium first when it is missing. Returns the teardown.
import { spawn } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { dropDatabase } from "../scripts/lib/mariadb";
import { freePort } from "../scripts/lib/ports";
import { loadSettings, root } from "../scripts/lib/prepare";
import { provisionDatabase } from "../scripts/lib/provision";
import { ensurePackages, findBinary } from "../scripts/lib/system";

export default async function globalSetup() {
  ensurePackages(
    "Chromium (browser tests)",
    ["chromium"],
    () => !!findBinary([process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"]),
  );
  ensurePackages("ffmpeg (test pushes)", ["ffmpeg"], () => !!findBinary(["ffmpeg"]));
  // Chinese pages are screenshotted too: Chromium needs a CJK font on this machine to draw them.
  ensurePackages("a CJK font (简体中文 screenshots)", ["fonts-wqy-microhei"], () =>
    existsSync("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
  );
  // Chat screenshots hold emoji.
  ensurePackages("an emoji font (chat screenshots)", ["fonts-noto-color-emoji"], () =>
    existsSync("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
  );
  ensurePackages(
    "nginx with the RTMP module (nginx journey)",
    ["nginx", "libnginx-mod-rtmp"],
    () => !!findBinary(["/usr/sbin/nginx"]) && existsSync("/usr/lib/nginx/modules/ngx_rtmp_module.so"),
  );
  const { dataDir } = loadSettings();
  const dbName = `onair_e2e_${process.pid}`;
  const { url, priv } = await provisionDatabase(dataDir, dbName);
  const [port, webPort, rtmpPort, mediaHttpPort, srsHttpPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  // The suite's media folder goes with its database at the end (runs used to leave one each in .data).
  const mediaDir = resolve(dataDir, `media-e2e-${process.pid}`);
  const env = {
    ...process.env,
    DATABASE_URL: url,
    PORT: String(port),
    WEB_PORT: String(webPort),
    MEDIA_RTMP_PORT: String(rtmpPort),
    MEDIA_HTTP_PORT: String(mediaHttpPort),
    MEDIA_DIR: mediaDir,
    MEDIA_END_GRACE_S: "4",
    // The sources journey pulls streams served on this machine (an RTMP room, an HLS folder), and
    // the webhook journey's receiver listens on loopback: both refused unless the operator allows it.
    OUTBOUND_ALLOW: "127.0.0.1",
    // The SRS journey's stand-in for SRS's HTTP server listens here (SRS is not packaged by Debian).
    MEDIA_SRS_HTTP_URL: `http://127.0.0.1:${srsHttpPort}`,
    // The nginx journey's recordings land in its own temporary folder.
    MEDIA_RECORD_DIRS: `${mediaDir},${tmpdir()}`,
    ADMIN_USERNAME: "e2e_admin",
    ADMIN_PASSWORD: "e2e-admin-password",
    LOG_LEVEL: "warn",
    // The webhook journey's failed first delivery is retried after 1 s instead of 10.
    WEBHOOK_RETRY_BASE_S: "1",
    // Every journey signs its tenant's people in from 127.0.0.1, and the suite is fast enough to go
    // past the default 30 sign-ins a minute from one address (CI saw TOO_MANY_REQUESTS in
    // tenant()). The limit itself is tested in server/accounts/login.test.ts.
    LOGIN_ATTEMPTS_PER_ADDRESS: "600",
  };
  const child = spawn(process.execPath, ["--import", "tsx", resolve(root, "scripts/start.ts")], {
    cwd: root,
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`onair exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/api/health`)).ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error("onair did not start");
    await new Promise((r) => setTimeout(r, 500));
  }
  // Tests read these (they run in other processes).
  const info = {
    base,
    rtmp: `rtmp://127.0.0.1:${rtmpPort}/live`,
    srsHttpPort,
    databaseUrl: url,
    authSecret: process.env.AUTH_SECRET,
    encryptionKey: process.env.ENCRYPTION_KEY,
  };
  writeFileSync(resolve(dataDir, "e2e.json"), JSON.stringify(info));
  return async () => {
    await new Promise((r) => {
      child.once("exit", r);
      child.kill("SIGTERM");
    });
    await dropDatabase(url);
    await priv?.stop();
    rmSync(mediaDir, { recursive: true, force: true });
  };
}
