// What a log line says of a failed query: the driver's reason and the statement, never its values.
import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { getDb } from "./db/client";
import { errorText } from "./log";

it("shows a failed query's reason and statement without the values it carried", async () => {
  const err = await getDb()
    .execute(sql`SELECT id FROM no_such_table WHERE secret = ${"s3cret-value"}`)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(String((err as Error).message)).toContain("s3cret-value");
  const text = errorText(err);
  expect(text).not.toContain("s3cret-value");
  expect(text).toMatch(/^ER_NO_SUCH_TABLE: .*no_such_table.* \(in SELECT id FROM no_such_table WHERE secret = \?\)$/);
  // Other errors: their message, and their cause's when they have one.
  expect(errorText(new Error("outer", { cause: new Error("inner") }))).toBe("outer: inner");
  expect(errorText("plain")).toBe("plain");
});
