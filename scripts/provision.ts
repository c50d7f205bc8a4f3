// `npm start`'s database, in a process of its own: DATABASE_URL (created when missing) or the private
// MariaDB in DATA_DIR (started when not running, with database `onair` and its app user). What the
// supervisor needs, {"onairDatabase": {url, spawned}}, goes to the pipe it names in
// ONAIR_REPORT_FD, never to stdout: the URL holds the database password, not for a terminal or a log. The MySQL client this needs would otherwise stay loaded in the supervisor as long as onair runs.
import { writeSync } from "node:fs";
import { loadSettings } from "./lib/prepare";
import { provisionDatabase } from "./lib/provision";

const { dataDir } = loadSettings();
const { url, priv } = await provisionDatabase(dataDir, process.argv[2] ?? "onair");
// spawned: the MariaDB this run started ({pid, datadir}), which the supervisor stops on exit.
const report = `${JSON.stringify({ onairDatabase: { url, spawned: priv?.spawned ?? null } })}\n`;
const fd = Number(process.env.ONAIR_REPORT_FD);
if (Number.isInteger(fd) && fd > 2) writeSync(fd, report);
else console.log(`[onair] database ready: ${new URL(url).host}${new URL(url).pathname}`);
process.exit(0);
