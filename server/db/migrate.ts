// Applies the committed drizzle-kit migrations (server/db/migrations) to a database.
import { drizzle } from "drizzle-orm/mysql2";
import { migrate } from "drizzle-orm/mysql2/migrator";
import mysql from "mysql2/promise";

// "../db/": right from this file and from the compiled processes in server/.build/ alike.
export const migrationsFolder = new URL("../db/migrations", import.meta.url).pathname;

export async function runMigrations(url: string) {
  const conn = await mysql.createConnection({ uri: url, multipleStatements: true, timezone: "Z" });
  try {
    await migrate(drizzle(conn), { migrationsFolder });
  } finally {
    await conn.end();
  }
}
