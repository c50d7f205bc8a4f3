// Vitest global setup: a real MariaDB (DATABASE_URL's server, or the private one under .data/),
// a fresh migrated database for this run, and test secrets. Workers inherit the environment.
import { dropDatabase } from "../scripts/lib/mariadb";
import { loadSettings, provisionDatabase } from "../scripts/lib/prepare";
import { ensurePackages, findBinary } from "../scripts/lib/system";

export default async function setup() {
  (process.env as Record<string, string>).NODE_ENV = "test";
  // Media tests push real streams (the two-instance test publishes with ffmpeg).
  ensurePackages("ffmpeg (test pushes)", ["ffmpeg"], () => !!findBinary(["ffmpeg"]));
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
  const { runMigrations } = await import("../server/db/migrate");
  await runMigrations(url);
  return async () => {
    await dropDatabase(url);
    await stopPrivate?.();
  };
}
