// The pool's sessions: strings keep their quotes escaped whatever sql_mode the server was configured with.
import { afterAll, expect, it } from "vitest";
import { env } from "../env";
import { createDb, SESSION_SQL_MODE } from "./client";

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
