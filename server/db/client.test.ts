// The pool's sessions: strings keep their quotes escaped whatever sql_mode the server was configured with.
import { eq, sql } from "drizzle-orm";
import { int, mysqlTable, varchar } from "drizzle-orm/mysql-core";
import { afterAll, expect, it } from "vitest";
import { env } from "../env";
import { createDb, prepared, runTransaction, SESSION_SQL_MODE } from "./client";

const { pool } = createDb(env().DATABASE_URL!, 1);
afterAll(() => pool.end());

it("keeps quotes in strings escaped on a server whose sql_mode has NO_BACKSLASH_ESCAPES", async () => {
  // Every new connection runs the statement first.
  expect(pool.listenerCount("connection")).toBe(1);
  const text = "o'brien \\ \\' x'); --";
  const conn = await pool.getConnection();
  try {
    const roundtrip = async () =>
      ((await conn.query("SELECT ? AS v", [text])) as unknown as [Array<{ v: string }>])[0][0]!.v;
    expect(await roundtrip()).toBe(text);
    const modeNow = async () =>
      ((await conn.query("SELECT @@SESSION.sql_mode AS m")) as unknown as [Array<{ m: string }>])[0][0]!.m;
    const before = await modeNow();
    expect(before).not.toContain("NO_BACKSLASH_ESCAPES");
    // A session as a server configured with the mode starts it: mysql2's escapes are misread.
    await conn.query("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')");
    expect(await roundtrip().catch(() => "an SQL error")).not.toBe(text);
    await conn.query(SESSION_SQL_MODE);
    expect(await roundtrip()).toBe(text);
    expect(await modeNow()).toBe(before); // the rest of the server's mode is kept
  } finally {
    conn.release();
  }
});

it("formats values as mysql2 does and sends a statement without values as it is", async () => {
  const q = async (text: string, values?: unknown[]) =>
    ((await pool.query(text, values)) as unknown as [Array<Record<string, unknown>>])[0][0]!;
  // With values: placeholders, identifiers, arrays, nulls and dates as mysql2 writes them.
  expect(
    await q("SELECT ? AS a, ?? AS b, ? AS c FROM (SELECT 5 AS n) t WHERE n IN (?)", ["x'y", "n", null, [4, 5]]),
  ).toEqual({ a: "x'y", b: 5, c: null });
  expect(await q("SELECT ? AS d", [new Date(Date.UTC(2026, 11, 5, 18, 0, 0, 123))])).toEqual({
    d: "2026-12-05 18:00:00.123",
  });
  // Without values, a "?" is the statement's own text: nothing is put in its place.
  expect(await q("SELECT '?' AS a, 'a??b' AS b")).toEqual({ a: "?", b: "a??b" });
  expect(await q("SELECT '?' AS a", [])).toEqual({ a: "?" });
});

// A table of this file's own (its rows are seen by other connections only once committed).
const probe = mysqlTable("client_test_probe", { id: int("id").primaryKey(), label: varchar("label", { length: 32 }) });
const probeById = prepared((db) =>
  db
    .select()
    .from(probe)
    .where(eq(probe.id, sql.placeholder("id"))),
);

it("runs a statement built once on the pool and on each transaction's own connection", async () => {
  const { pool: two, db } = createDb(env().DATABASE_URL!, 2);
  try {
    await db.execute(sql`CREATE TABLE IF NOT EXISTS client_test_probe (id INT PRIMARY KEY, label VARCHAR(32))`);
    await db.execute(sql`DELETE FROM client_test_probe`);
    await db.insert(probe).values({ id: 1, label: "committed" });
    expect(await probeById(db, { id: 1 })).toEqual([{ id: 1, label: "committed" }]);
    for (const label of ["first", "second"])
      await runTransaction(db, async (tx) => {
        await tx.insert(probe).values({ id: 2, label });
        // Inside: the transaction's uncommitted row, so the statement ran on its connection…
        expect(await probeById(tx, { id: 2 })).toEqual([{ id: 2, label }]);
        // …while the pool's other connection does not see it yet.
        expect(await probeById(db, { id: 2 })).toEqual([]);
        await tx.delete(probe).where(eq(probe.id, 2));
      });
  } finally {
    await db.execute(sql`DROP TABLE IF EXISTS client_test_probe`).catch(() => undefined);
    await two.end();
  }
});

it("gives a failed query's error the frames of the code that awaited it (mysql2's own capture is off)", async () => {
  const { pool: one, db } = createDb(env().DATABASE_URL!, 1);
  async function someVerbOfOurs() {
    await runTransaction(db, (tx) => tx.execute(sql`SELECT * FROM client_test_no_such_table`));
  }
  try {
    const err = await someVerbOfOurs().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain("Failed query: SELECT * FROM client_test_no_such_table");
    expect(err?.stack).toContain("someVerbOfOurs");
  } finally {
    await one.end();
  }
});
