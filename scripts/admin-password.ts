// `npm run admin:password -- <username> <new password>`: sets a user's password from the shell
// (for a lost admin password) and revokes their sessions.
import { loadSettings } from "./lib/prepare";
import { provisionDatabase } from "./lib/provision";

const [username, password] = process.argv.slice(2);
if (!username || !password || password.length < 8) {
  console.error("usage: npm run admin:password -- <username> <new password (8+ chars)>");
  process.exit(2);
}
const { dataDir } = loadSettings();
const { url, priv } = await provisionDatabase(dataDir, "onair");
process.env.DATABASE_URL = url;
const { getDb, closeDb } = await import("../server/db/client");
const { users } = await import("../server/db/schema");
const { eq } = await import("drizzle-orm");
const { resetPassword } = await import("../server/accounts");
const { systemClock } = await import("../server/clock");
const u = (await getDb().select().from(users).where(eq(users.username, username)))[0];
if (!u) {
  console.error(`no user named ${username}`);
  process.exit(1);
}
await resetPassword(
  { db: getDb(), clock: systemClock, actor: { kind: "user", userId: "cli", role: "admin", appId: null } },
  u.id,
  password,
);
console.log(`password of ${username} changed; their sessions were revoked`);
await closeDb();
if (priv?.started) await priv.stop();
