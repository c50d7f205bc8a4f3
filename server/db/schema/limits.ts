// Shared counters for rate limits and lockouts, and the replay guard's seen-set: in MySQL, so every
// instance behind a balancer counts the same attempts and refuses the same replayed signature.
import { bigint, index, int, mysqlTable, primaryKey, varchar } from "drizzle-orm/mysql-core";
import { time } from "./columns";

/** Attempts per key (e.g. `login:addr:10.0.0.7`) in fixed windows starting at `window_start` (unix s). */
export const rateCounters = mysqlTable(
  "rate_counters",
  {
    key: varchar("key", { length: 191 }).notNull(),
    windowStart: bigint("window_start", { mode: "number", unsigned: true }).notNull(),
    count: int("count").notNull().default(0),
    expiresAt: time("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] }), index("rate_counters_expires").on(t.expiresAt)],
);

/** Signatures and request ids already used once; kept for the window in which they would verify. */
export const seenNonces = mysqlTable(
  "seen_nonces",
  {
    scope: varchar("scope", { length: 32 }).notNull(),
    nonce: varchar("nonce", { length: 191 }).notNull(),
    expiresAt: time("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.nonce] }), index("seen_nonces_expires").on(t.expiresAt)],
);
