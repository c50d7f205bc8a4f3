// Starts (and first initialises) a private MariaDB under DATA_DIR on a loopback port, so that
// `npm start` and `npm test` need nothing installed by hand. Used only when DATABASE_URL is unset.
// Root connects over the socket (unix_socket authentication) to create databases; onair's processes
// use the app user over TCP, which holds privileges on exactly the databases created for it.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { resolve } from "node:path";
import mysql from "mysql2/promise";
import { accessProblems, allowTraverse, chownTree, databaseAccount, isRoot } from "./privileges";
import { ensurePackages, findBinary } from "./system";

const SERVER_BINS = ["mariadbd", "/usr/sbin/mariadbd", "mysqld", "/usr/sbin/mysqld"];
const INSTALL_BINS = ["mariadb-install-db", "mysql_install_db", "/usr/bin/mariadb-install-db"];

/** The application account onair's processes use on the private server (over TCP, with a password). */
export const APP_USER = "onair";
const APP_HOST = "127.0.0.1";
const APP_ACCOUNT = `'${APP_USER}'@'${APP_HOST}'`;

export interface PrivateDb {
  /** URL of the server with no database selected: mysql://onair:…@127.0.0.1:port/ */
  serverUrl: string;
  /** True when this call started the server (so the caller stops it on exit). */
  started: boolean;
  /**
   * The server this call started, for stopping it without a MySQL client (scripts/lib/stop-pid.ts):
   * its pid as spawned (never read back from its pid file, which the database account can write)
   * and its data folder, which its command line must name.
   */
  spawned?: { pid: number; datadir: string };
  stop: () => Promise<void>;
}

const ident = (name: string) => `\`${name.replace(/`/g, "``")}\``;
/** In GRANT and REVOKE, `_` and `%` in a database name are wildcards: escaped, it names one database. */
const grantIdent = (name: string) => ident(name.replace(/[\\_%]/g, "\\$&"));
const createSql = (name: string) =>
  `CREATE DATABASE IF NOT EXISTS ${ident(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;

// The server's administrator over the socket, authenticated as the operating-system user we run as
// (unix_socket): root, or, when not root, the account mariadb-install-db made for that user.
const SOCKET_USER = userInfo().username;

async function canConnect(socketPath: string): Promise<boolean> {
  try {
    const c = await mysql.createConnection({ socketPath, user: SOCKET_USER, connectTimeout: 1000 });
    await c.end();
    return true;
  } catch {
    return false;
  }
}

const rootConnection = (socketPath: string) => mysql.createConnection({ socketPath, user: SOCKET_USER });

async function createAndGrant(socketPath: string, name: string): Promise<void> {
  const admin = await rootConnection(socketPath);
  try {
    await admin.query(createSql(name));
    await admin.query(`GRANT ALL PRIVILEGES ON ${grantIdent(name)}.* TO ${APP_ACCOUNT}`);
  } finally {
    await admin.end();
  }
}

const SYSTEM_SCHEMAS = new Set(["mysql", "information_schema", "performance_schema", "sys"]);

/**
 * The app user holds privileges on the databases onair created for it and on nothing else. A
 * server-wide grant left by older versions is replaced by grants on each database it could reach
 * (granted first, so nothing using them loses access), and grants on databases dropped since go.
 */
async function restrictAppUser(admin: mysql.Connection): Promise<void> {
  const schemas = async () => {
    const [rows] = (await admin.query("SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA")) as unknown as [
      Array<{ name: string }>,
    ];
    return new Set(rows.map((r) => r.name));
  };
  const [grants] = (await admin.query(`SHOW GRANTS FOR ${APP_ACCOUNT}`)) as unknown as [Array<Record<string, string>>];
  const global = grants.map((g) => Object.values(g)[0] ?? "").filter((g) => / ON \*\.\* TO /.test(g));
  if (global.some((g) => !g.startsWith("GRANT USAGE ON ") || g.includes(" WITH GRANT OPTION"))) {
    for (const name of await schemas())
      if (!SYSTEM_SCHEMAS.has(name))
        await admin.query(`GRANT ALL PRIVILEGES ON ${grantIdent(name)}.* TO ${APP_ACCOUNT}`);
    await admin.query(`REVOKE ALL PRIVILEGES ON *.* FROM ${APP_ACCOUNT}`);
    await admin.query(`REVOKE GRANT OPTION ON *.* FROM ${APP_ACCOUNT}`);
  }
  // Grants first, then databases: a database another start creates meanwhile is never mistaken for a dropped one.
  const [dbGrants] = (await admin.query("SELECT Db AS db FROM mysql.db WHERE User = ? AND Host = ?", [
    APP_USER,
    APP_HOST,
  ])) as unknown as [Array<{ db: string }>];
  const existing = await schemas();
  for (const { db } of dbGrants) {
    if (existing.has(db.replace(/\\(.)/g, "$1"))) continue;
    try {
      await admin.query(`REVOKE ALL PRIVILEGES ON ${ident(db)}.* FROM ${APP_ACCOUNT}`);
    } catch {
      /* revoked meanwhile by another start */
    }
  }
}

/**
 * Where the private MariaDB of a data folder keeps what. The folder itself stays its creator's (root
 * when started as root): credentials, log and port are written there. The server's account owns
 * only `data/`, `run/` (socket and pid) and `tmp/`, so it can never plant a link where root writes.
 */
function layout(dataDir: string) {
  const dir = resolve(dataDir, "mariadb");
  return {
    dir,
    datadir: resolve(dir, "data"),
    run: resolve(dir, "run"),
    // Its own temporary files: in the shared /tmp, another MariaDB starting (which clears "#sql*"
    // files left in its tmpdir) removed a temporary table under a bootstrap running beside it.
    tmp: resolve(dir, "tmp"),
    socket: resolve(dir, "run", "mysqld.sock"),
    pidFile: resolve(dir, "run", "mysqld.pid"),
    // Older versions put the socket in the folder itself: a server they started is reused.
    legacySocket: resolve(dir, "mysqld.sock"),
    credsFile: resolve(dir, "credentials.json"),
    log: resolve(dir, "mariadb.log"),
  };
}

/** The socket of the server of this data folder when it runs. */
async function runningSocket(dataDir: string): Promise<string | undefined> {
  const l = layout(dataDir);
  for (const s of [l.socket, l.legacySocket]) if (existsSync(s) && (await canConnect(s))) return s;
  return undefined;
}

/**
 * Starts (first initialising) the private MariaDB of `dataDir` unless it already runs, makes sure the
 * app user exists with only database-level privileges, and creates database `dbName` for it.
 * Started as root, the server runs as `mysql` (see databaseAccount); a server already running is reused as it is.
 */
export async function ensurePrivateMariaDb(
  dataDir: string,
  requestedPort: number,
  dbName?: string,
): Promise<PrivateDb> {
  let port = requestedPort;
  ensurePackages(
    "MariaDB (mariadb-server)",
    ["mariadb-server"],
    () => !!findBinary(SERVER_BINS),
    "set DATABASE_URL to an existing MySQL/MariaDB server",
  );
  const l = layout(dataDir);
  mkdirSync(l.dir, { recursive: true });

  let started = false;
  let spawned: PrivateDb["spawned"];
  let socketPath = await runningSocket(dataDir);
  if (!socketPath) {
    socketPath = l.socket;
    // Root gives the data and run folders to the server's account and starts it as that account;
    // otherwise the server runs as whoever we are (RUN_AS_USER=root keeps the old `--user=root`).
    const account = databaseAccount();
    const userArgs = !account && isRoot() ? ["--user=root"] : [];
    const as = account ? { uid: account.uid, gid: account.gid } : {};
    mkdirSync(l.datadir, { recursive: true, mode: 0o700 });
    mkdirSync(l.run, { recursive: true });
    mkdirSync(l.tmp, { recursive: true, mode: 0o700 });
    if (account) {
      // It must pass through DATA_DIR (which may be private to its owner); the data of an older
      // root-run server becomes its.
      allowTraverse(dataDir);
      allowTraverse(l.dir);
      chownTree(l.datadir, account, true);
      chownTree(l.run, account, false);
      chownTree(l.tmp, account, false);
      const problems = accessProblems(account, [
        ["w", l.datadir],
        ["x", l.datadir],
        ["w", l.run],
        ["x", l.run],
        ["w", l.tmp],
        ["x", l.tmp],
      ]);
      if (problems.length)
        throw new Error(
          `The private MariaDB runs as ${account.name}, which cannot use ${l.dir}:\n  ${problems.join("\n  ")}\n` +
            "Let it reach DATA_DIR (chmod o+x on its parent folders), choose another DATA_DIR, or set DATABASE_URL.",
        );
    }
    if (!existsSync(resolve(l.datadir, "mysql"))) {
      const installer = findBinary(INSTALL_BINS);
      if (!installer) throw new Error("mariadb-install-db not found although mariadb-server is installed");
      console.log(`[onair] initialising a private MariaDB in ${l.datadir}${account ? ` (as ${account.name})` : ""}`);
      const r = spawnSync(
        installer,
        [
          `--datadir=${l.datadir}`,
          `--tmpdir=${l.tmp}`,
          "--auth-root-authentication-method=socket",
          "--skip-test-db",
          ...userArgs,
        ],
        { encoding: "utf8", cwd: l.dir, ...as },
      );
      if (r.status !== 0) throw new Error(`mariadb-install-db failed:\n${r.stdout}\n${r.stderr}`);
    }
    const server = findBinary(SERVER_BINS)!;
    // Opened here (by us, in our folder) and handed over: the server writes to it without owning it.
    const log = openSync(l.log, "a");
    const child = spawn(
      server,
      [
        "--no-defaults",
        `--datadir=${l.datadir}`,
        `--tmpdir=${l.tmp}`,
        `--socket=${l.socket}`,
        `--pid-file=${l.pidFile}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        "--skip-name-resolve",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
        "--innodb-buffer-pool-size=128M",
        // The defaults reserve 16 MiB of log buffer and 128 MiB each for MyISAM keys and Aria pages,
        // which onair does not use (InnoDB only; Aria holds internal temporary tables): measured,
        // 89 MiB PSS at idle with the defaults, 47 MiB with these.
        "--innodb-log-buffer-size=4M",
        "--key-buffer-size=1M",
        "--aria-pagecache-buffer-size=8M",
        "--innodb-flush-log-at-trx-commit=2",
        "--max-connections=500",
        ...userArgs,
      ],
      { detached: true, stdio: ["ignore", log, log], cwd: l.dir, ...as },
    );
    child.unref();
    if (child.pid) spawned = { pid: child.pid, datadir: l.datadir };
    const state: { exited: number | null } = { exited: null };
    child.on("exit", (code) => (state.exited = code ?? -1));
    const deadline = Date.now() + 60_000;
    while (!(await canConnect(l.socket))) {
      if (state.exited !== null) {
        const tail = readFileSync(l.log, "utf8").split("\n").slice(-15).join("\n");
        throw new Error(
          `MariaDB exited (code ${state.exited}). Is port ${port} in use? Set MARIADB_PORT to another port.\n${tail}`,
        );
      }
      if (Date.now() > deadline) throw new Error(`MariaDB did not start within 60 s; see ${l.log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    started = true;
  }

  // An application user with a generated password, reached over TCP like any external server.
  let creds: { password: string } | undefined;
  if (existsSync(l.credsFile)) creds = JSON.parse(readFileSync(l.credsFile, "utf8")) as { password: string };
  if (!creds) {
    creds = { password: randomBytes(18).toString("base64url") };
    writeFileSync(l.credsFile, JSON.stringify(creds), { mode: 0o600 });
  }
  const admin = await rootConnection(socketPath);
  try {
    // An already running server of this folder may listen elsewhere than asked: use its real port.
    const [portRows] = (await admin.query("SELECT @@port AS port")) as unknown as [Array<{ port: number }>];
    port = Number(portRows[0]?.port ?? port);
    await admin.query(`CREATE USER IF NOT EXISTS ${APP_ACCOUNT} IDENTIFIED BY ?`, [creds.password]);
    await admin.query(`ALTER USER ${APP_ACCOUNT} IDENTIFIED BY ?`, [creds.password]);
    await restrictAppUser(admin);
  } finally {
    await admin.end();
  }
  if (dbName) await createAndGrant(socketPath, dbName);

  const socket = socketPath;
  return {
    serverUrl: `mysql://${APP_USER}:${encodeURIComponent(creds.password)}@127.0.0.1:${port}/`,
    started,
    spawned,
    stop: async () => {
      if (!started) return;
      try {
        const c = await rootConnection(socket);
        await c.query("SHUTDOWN");
        await c.end();
      } catch {
        /* already gone */
      }
    },
  };
}

const dbNameOf = (url: string) => decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));

/**
 * Creates the database named in a URL when it does not exist yet. When the URL's user may not create
 * it and the URL is the app user of `dataDir`'s private MariaDB (a test run given that server's
 * URL), the database is created as root over the socket and granted to the app user.
 */
export async function ensureDatabaseExists(url: string, dataDir?: string): Promise<void> {
  const name = dbNameOf(url);
  if (!name) throw new Error("DATABASE_URL must name a database");
  const u = new URL(url);
  u.pathname = "/";
  const c = await mysql.createConnection({ uri: u.toString() });
  try {
    await c.query(createSql(name));
  } catch (e) {
    const socketPath = dataDir && (e as { errno?: number }).errno === 1044 && (await runningSocket(dataDir));
    if (!socketPath || !(await isPrivateServerOf(socketPath, url))) throw e;
    await createAndGrant(socketPath, name);
  } finally {
    await c.end();
  }
}

/** Whether a URL names the app user of the private server listening on `socketPath`. */
async function isPrivateServerOf(socketPath: string, url: string): Promise<boolean> {
  const u = new URL(url);
  if (decodeURIComponent(u.username) !== APP_USER || !["127.0.0.1", "localhost", "[::1]"].includes(u.hostname))
    return false;
  const admin = await rootConnection(socketPath);
  try {
    const [rows] = (await admin.query("SELECT @@port AS port")) as unknown as [Array<{ port: number }>];
    return Number(rows[0]?.port) === Number(u.port || 3306);
  } finally {
    await admin.end();
  }
}

/** Drops the database named in a URL (test and benchmark clean-up). */
export async function dropDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ""));
  u.pathname = "/";
  const c = await mysql.createConnection({ uri: u.toString() });
  await c.query(`DROP DATABASE IF EXISTS \`${name.replace(/`/g, "``")}\``);
  await c.end();
}
