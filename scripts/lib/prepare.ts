// Everything `npm start` and `npm test` need before onair code runs: settings from .env files,
// generated secrets (kept in DATA_DIR), a database (DATABASE_URL or a private MariaDB), migrations.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { freePort } from "./ports";
import nextEnv from "@next/env";
import { ensureDatabaseExists, ensurePrivateMariaDb, type PrivateDb } from "./mariadb";

export const root = resolve(new URL("../..", import.meta.url).pathname);

export function loadSettings() {
  nextEnv.loadEnvConfig(root, process.env.NODE_ENV !== "production");
  const dataDir = resolve(root, process.env.DATA_DIR ?? ".data");
  mkdirSync(dataDir, { recursive: true });
  const file = resolve(dataDir, "secrets.json");
  const saved: Record<string, string> = existsSync(file)
    ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, string>)
    : {};
  let changed = false;
  for (const k of ["AUTH_SECRET", "ENCRYPTION_KEY"]) {
    if (process.env[k]) continue;
    if (!saved[k]) {
      saved[k] = randomBytes(32).toString("base64url");
      changed = true;
    }
    process.env[k] = saved[k];
  }
  if (changed) writeFileSync(file, JSON.stringify(saved, null, 2), { mode: 0o600 });
  return { dataDir };
}

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
