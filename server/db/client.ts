// The MySQL pool and Drizzle instance, one per process (cached on globalThis across dev reloads).
import { sql } from "drizzle-orm";
import { drizzle, type MySql2Database } from "drizzle-orm/mysql2";
import type { MySqlTable } from "drizzle-orm/mysql-core";
import { format, type SqlValue, type Timezone } from "mysql2";
import mysql from "mysql2/promise";
import { env } from "../env";
import { errorText, log } from "../log";
import * as schema from "./schema";

export type Db = MySql2Database<typeof schema>;
/** A transaction handle: the same query API as Db. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type DbOrTx = Db | Tx;

type Cached = { pool: mysql.Pool; db: Db };
const g = globalThis as unknown as { __onairDb?: Cached };

export function createDb(url: string, connectionLimit = env().DB_POOL_SIZE): Cached {
  const pool = mysql.createPool({
    uri: url,
    connectionLimit,
    timezone: "Z",
    dateStrings: false,
    supportBigNumbers: true,
    enableKeepAlive: true,
    charset: "utf8mb4_unicode_ci",
    queryFormat,
    // mysql2 captures a stack at every query to give its errors the caller's frames: 9 % of the
    // front's CPU on a hook that runs four statements (profiled). Drizzle's error for a failed query
    // is made in the awaiting caller and has those frames anyway (client.test.ts shows it).
    trace: false,
  });
  // Runs before anything else on each new connection (a connection's statements run in order).
  pool.on("connection", (conn) => {
    (conn as unknown as { query(q: string, cb: (err: Error | null) => void): void }).query(
      SESSION_SQL_MODE,
      (err) => err && log.error("could not set the session's sql_mode", { error: errorText(err) }),
    );
  });
  return { pool, db: drizzle(pool, { schema, mode: "default" }) };
}

/**
 * mysql2's own formatting, but a statement without values is sent as it is. mysql2 scans every
 * statement's text for placeholders, values or not (and finds nothing to replace without them): a
 * heartbeat flush of 2,000 rows (200 KiB) took 0.4 ms of the front's event loop to scan, measured,
 * several times that beside the heartbeats it delays. Bound as mysql2 calls it (`this`: the connection).
 */
function queryFormat(
  this: { config: { stringifyObjects?: boolean } },
  text: string,
  values: SqlValue | SqlValue[] | undefined,
  timezone?: Timezone,
): string {
  if (values === undefined || values === null || (Array.isArray(values) && values.length === 0)) return text;
  return format(text, values, this.config.stringifyObjects, timezone);
}

/**
 * Each connection keeps the server's sql_mode but for NO_BACKSLASH_ESCAPES: mysql2 (and so Drizzle,
 * and the heartbeat flush) escapes a quote inside a string with a backslash, which that mode reads
 * as text, so on a server configured with it an id like o'brien would end its string early.
 */
export const SESSION_SQL_MODE =
  "SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','))";

/** The mysql2 pool behind a Db, for bulk writes on the hot path (the heartbeat flush's own statements). */
export const poolOf = (db: Db) => (db as unknown as { $client: mysql.Pool }).$client;

export function getDb(): Db {
  if (!g.__onairDb) {
    const url = env().DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set (npm start provisions one)");
    g.__onairDb = createDb(url);
  }
  return g.__onairDb.db;
}

export async function closeDb(): Promise<void> {
  const c = g.__onairDb;
  g.__onairDb = undefined;
  if (c) await c.pool.end();
}

/** What `prepare()` gives: a statement built once, run with its placeholders' values. */
interface Statement<R> {
  execute(values?: Record<string, unknown>): Promise<R>;
}

/**
 * A Drizzle statement built once (its text, placeholders and row mapping) and run on whichever
 * handle the caller holds: the pool, or a transaction's connection. Drizzle's own `prepare()` binds
 * a statement to the handle it was built on, so a transaction (a new handle each time) built every
 * statement again: a select of every room column costs it about 90 µs, more than MariaDB takes to
 * answer it. Placeholders (`sql.placeholder`) carry the values. An insert must set each column
 * whose default is computed (`$defaultFn`): left out, its default would be computed once, when built.
 */
export function prepared<R>(build: (db: DbOrTx) => { prepare(): Statement<R> }) {
  let made: Statement<R> | undefined;
  return (handle: DbOrTx, values?: Record<string, unknown>): Promise<R> => {
    made ??= build(handle).prepare();
    // Drizzle's mysql2 statement runs on its `client`: here the handle's own (pool or connection).
    const client = (handle as unknown as { session: { client: unknown } }).session.client;
    return (Object.create(made, { client: { value: client } }) as Statement<R>).execute(values);
  };
}

/**
 * `prepared` for an insert of one row into `columns` of `table`, each value its own placeholder
 * (the row's values are passed by column name at each call).
 */
export function preparedInsert<T extends MySqlTable, K extends keyof T["$inferInsert"] & string>(
  table: T,
  columns: readonly K[],
) {
  const values = Object.fromEntries(columns.map((c) => [c, sql.placeholder(c)])) as T["$inferInsert"];
  const run = prepared((db) => db.insert(table).values(values));
  return (handle: DbOrTx, row: Required<Pick<T["$inferInsert"], K>>) => run(handle, row);
}

/** For /api/health: reachability and server version, with a short timeout. */
export async function dbHealth(db: Db = getDb()): Promise<{ ok: boolean; version?: string; error?: string }> {
  try {
    const rows = (await Promise.race([
      db.execute(sql`SELECT VERSION() AS v`),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error("timeout")), 2000)),
    ])) as unknown as [Array<{ v: string }>];
    return { ok: true, version: rows[0][0]?.v };
  } catch (e) {
    return { ok: false, error: errorText(e) };
  }
}

/**
 * Times a transaction InnoDB chose as a deadlock's victim is run again before its error is answered.
 * Twelve rooms' first co-host changes at one moment on a loaded 2-core machine (CI) saw one of them
 * chosen five times in a row with four retries and pauses of at most 5–85 ms.
 */
const DEADLOCK_RETRIES = 8;
/** The pause before retry `attempt` (0-based): doubling from 10 ms, at most 400 ms, with jitter. */
const deadlockPauseMs = (attempt: number, random = Math.random()) => Math.min(400, 10 * 2 ** attempt) * (0.5 + random);

/** MySQL's ER_LOCK_DEADLOCK (1213), however deep the driver and the ORM wrapped it. */
export function isDeadlock(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++)
    if ((e as { errno?: unknown }).errno === 1213) return true;
  return false;
}

/**
 * `db.transaction(fn)`, run again when InnoDB picks it as a deadlock's victim: the victim was rolled
 * back whole (nothing of it was written), so after a random pause that grows with each attempt
 * (transactions that keep colliding drift apart), as MySQL's manual advises, it runs anew, up to
 * DEADLOCK_RETRIES times. `fn` gets a new handle each time and must keep its
 * effects inside it (what it queues for after the commit is keyed by that handle).
 */
export function runTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const run = (attempt: number): Promise<T> =>
    db.transaction(fn).catch(async (err: unknown) => {
      if (attempt >= DEADLOCK_RETRIES || !isDeadlock(err)) throw err;
      await new Promise((r) => setTimeout(r, deadlockPauseMs(attempt)));
      return run(attempt + 1);
    });
  return run(0);
}
