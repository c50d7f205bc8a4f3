// A tiny structured logger. Never pass secrets, passwords or tokens to it.
import { env } from "./env";

const levels = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof levels;

function emit(level: Level, msg: string, fields?: Record<string, unknown>) {
  let min: Level = "info";
  try {
    min = env().LOG_LEVEL;
  } catch {
    /* settings not loaded yet */
  }
  if (levels[level] < levels[min]) return;
  const line = JSON.stringify({ t: new Date().toISOString(), level, msg, ...fields });
  (level === "error" || level === "warn" ? process.stderr : process.stdout).write(line + "\n");
}

export const log = {
  debug: (m: string, f?: Record<string, unknown>) => emit("debug", m, f),
  info: (m: string, f?: Record<string, unknown>) => emit("info", m, f),
  warn: (m: string, f?: Record<string, unknown>) => emit("warn", m, f),
  error: (m: string, f?: Record<string, unknown>) => emit("error", m, f),
};

/**
 * A log line that a flood cannot multiply: at most `perSecond` lines a second after a `burst`
 * (a token bucket); lines beyond are counted, and the next line written says how many were dropped.
 */
export function rateLimitedLog(level: Level, perSecond: number, burst: number, now: () => number = Date.now) {
  let tokens = burst;
  let last = now();
  let dropped = 0;
  return (msg: string, fields?: Record<string, unknown>): boolean => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - last) / 1000) * perSecond);
    last = t;
    if (tokens < 1) {
      dropped++;
      return false;
    }
    tokens--;
    emit(level, msg, dropped ? { ...fields, dropped } : fields);
    dropped = 0;
    return true;
  };
}

/**
 * An error as a log line shows it. Drizzle wraps a driver's error as "Failed query: <SQL>\nparams:
 * <values>": the values can be anything a statement carried (hashes, sealed secrets, tokens), and
 * the driver's own reason (the connection refused, a lock wait) is only in its cause. So for those
 * the reason and the statement's start are shown, never the values.
 */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? (e.cause as Error & { code?: unknown }) : undefined;
  if (e.message.startsWith("Failed query:")) {
    const statement = e.message
      .slice("Failed query:".length)
      .split("\nparams:")[0]!
      .trim()
      .replace(/\s+/g, " ")
      .slice(0, 80);
    const code = typeof cause?.code === "string" ? `${cause.code}: ` : "";
    return `${code}${cause?.message ?? "query failed"} (in ${statement})`;
  }
  return cause ? `${e.message}: ${cause.message}` : e.message;
}
