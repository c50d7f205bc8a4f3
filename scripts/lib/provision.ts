// The database `npm start`, the tests and the bench run on: DATABASE_URL (created when missing) or a
// private MariaDB in DATA_DIR. `npm start` runs this in a process of its own (scripts/provision.ts):
// the MySQL client it needs would otherwise stay in the supervisor's memory for as long as onair runs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { ensureDatabaseExists, ensurePrivateMariaDb, type PrivateDb } from "./mariadb";
import { freePort } from "./ports";

/**
 * The private MariaDB's port: MARIADB_PORT, else the one this data folder already uses, else 3307
 * when free (another checkout's MariaDB may hold it: then any free port), remembered in the folder.
 */
async function privatePort(dataDir: string): Promise<number> {
  if (process.env.MARIADB_PORT) return Number(process.env.MARIADB_PORT);
  const file = resolve(dataDir, "mariadb", "port");
  if (existsSync(file)) return Number(readFileSync(file, "utf8").trim());
  const free = (p: number) =>
    new Promise<boolean>((res) => {
      const srv = createServer().once("error", () => res(false));
      srv.listen(p, "127.0.0.1", () => srv.close(() => res(true)));
    });
  const port = (await free(3307)) ? 3307 : await freePort();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, String(port));
  return port;
}

/**
 * Resolves the database: DATABASE_URL as given (created when missing), or database `name` on the
 * private MariaDB, created there for the app user, who gets privileges on it and on nothing else.
 */
export async function provisionDatabase(dataDir: string, name: string): Promise<{ url: string; priv?: PrivateDb }> {
  if (process.env.DATABASE_URL) {
    await ensureDatabaseExists(process.env.DATABASE_URL, dataDir);
    return { url: process.env.DATABASE_URL };
  }
  const priv = await ensurePrivateMariaDb(dataDir, await privatePort(dataDir), name);
  return { url: `${priv.serverUrl}${name}`, priv };
}
