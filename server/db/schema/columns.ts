// Column helpers shared by the tables: MariaDB-safe auto ids and millisecond UTC datetimes.
import { bigint, datetime, varchar } from "drizzle-orm/mysql-core";

/** Auto-increment ids: `serial()` breaks migrations on MariaDB. */
export const autoId = (name: string) => bigint(name, { mode: "number", unsigned: true }).autoincrement().primaryKey();
export const idRef = (name: string) => bigint(name, { mode: "number", unsigned: true });
export const uuid = (name: string) => varchar(name, { length: 36 });
/** Times are always written from the domain's clock (never the DB's NOW()) so tests can control them. */
export const time = (name: string) => datetime(name, { mode: "date", fsp: 3 });
