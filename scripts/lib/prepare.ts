// Everything `npm start` and `npm test` need before onair code runs: settings from .env files and
// generated secrets (kept in DATA_DIR). The database is provision.ts's: kept apart, so that the
// supervisor, which imports this, never loads a MySQL client (mysql2: 16 MiB of its memory).
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import nextEnv from "@next/env";

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
