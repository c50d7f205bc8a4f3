// Everything `npm start` and `npm test` need before onair code runs: settings from .env files,
// generated secrets (kept in DATA_DIR), a database (DATABASE_URL or a private MariaDB), migrations.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import nextEnv from "@next/env";
import { ensureDatabaseExists, ensurePrivateMariaDb, type PrivateDb } from "./mariadb";

export const root = resolve(new URL("../..", import.meta.url).pathname);

export function loadSettings() {
  nextEnv.loadEnvConfig(root, process.env.NODE_ENV !== "production");
  const dataDir = resolve(root, process.env.DATA_DIR ?? ".data");
  mkdirSync(dataDir, { recursive: true });
  const file = resolve(dataDir, "secrets.json");
  const saved: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
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

/** Resolves the database: DATABASE_URL as given, or a private MariaDB with database `name`. */
export async function provisionDatabase(dataDir: string, name: string): Promise<{ url: string; priv?: PrivateDb }> {
  if (process.env.DATABASE_URL) {
    await ensureDatabaseExists(process.env.DATABASE_URL);
    return { url: process.env.DATABASE_URL };
  }
  const port = Number(process.env.MARIADB_PORT ?? 3307);
  const priv = await ensurePrivateMariaDb(dataDir, port);
  const url = `${priv.serverUrl}${name}`;
  await ensureDatabaseExists(url);
  return { url, priv };
}
