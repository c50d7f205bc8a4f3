// Every setting onair reads, validated once. Nothing else touches process.env (README lists them all).
import { z } from "zod";

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().default("127.0.0.1"),
  PORT: int(3000, 1, 65535),
  /** Internal port of the web process (Next + tRPC); the front process proxies to it. */
  WEB_PORT: int(0, 0, 65535),
  DATABASE_URL: z.string().url().optional(),
  DB_POOL_SIZE: int(10, 1, 200),
  DATA_DIR: z.string().default(".data"),
  MARIADB_PORT: int(3307, 1, 65535),
  /** Signs access, refresh, play and presence tokens and next-auth sessions. >= 32 chars. */
  AUTH_SECRET: z.string().min(32, "AUTH_SECRET must be at least 32 characters"),
  /** Encrypts app secrets at rest (AES-256-GCM). >= 32 chars. */
  ENCRYPTION_KEY: z.string().min(32, "ENCRYPTION_KEY must be at least 32 characters"),
  ADMIN_USERNAME: z.string().min(1).default("admin"),
  ADMIN_PASSWORD: z.string().min(8).optional(),
  ACCESS_TOKEN_TTL_S: int(900, 30),
  REFRESH_TOKEN_TTL_S: int(30 * 86400, 60),
  PLAY_TOKEN_TTL_S: int(3600, 10),
  PRESENCE_VIEWER_TTL_S: int(30, 1),
  PRESENCE_HOST_TTL_S: int(90, 1),
  PRESENCE_FLUSH_MS: int(500, 10, 1000),
  REVOCATION_POLL_MS: int(1000, 50, 60000),
  MIC_SEATS: int(4, 1, 64),
  MIC_REQUEST_TTL_S: int(60, 5),
  MAX_BODY_BYTES: int(1024 * 1024, 1024),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

export type Env = z.infer<typeof schema>;

function load(): Env {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid onair settings:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

let cached: Env | undefined;
/** The validated settings; read lazily so start-up scripts can fill defaults (secrets, DATABASE_URL) first. */
export function env(): Env {
  cached ??= load();
  return cached;
}
/** Tests change settings (TTLs) between cases. */
export function resetEnvForTests(): void {
  cached = undefined;
}
