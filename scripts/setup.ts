// `npm start`'s one-off step, in a process of its own so that the supervisor, which lives as long
// as onair does, never loads the domain: migrate the database, make sure the first admin and the
// Default app exist, and report what start prints (one JSON line on stdout, nothing else there).
import { ensureFirstAdmin, platformAdminActor } from "../server/accounts";
import { ensureDefaultApp } from "../server/apps";
import { systemClock } from "../server/clock";
import { closeDb, getDb } from "../server/db/client";
import { runMigrations } from "../server/db/migrate";
import { env } from "../server/env";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("DATABASE_URL is not set (scripts/start.ts provisions it)");
await runMigrations(url);
const e = env();
const admin = await ensureFirstAdmin(getDb(), systemClock, e.ADMIN_USERNAME, e.ADMIN_PASSWORD);
const defaultApp = e.DEFAULT_APP
  ? await ensureDefaultApp({ db: getDb(), clock: systemClock, actor: await platformAdminActor(getDb()) })
  : undefined;
await closeDb();
process.stdout.write(
  `${JSON.stringify({
    onairSetup: true,
    admin: { created: admin.created, generatedPassword: admin.generatedPassword },
    defaultApp: defaultApp && { accessKey: defaultApp.accessKey, secret: defaultApp.secret },
  })}\n`,
);
process.exit(0);
