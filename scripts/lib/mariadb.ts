// Starts (and first initialises) a private MariaDB under DATA_DIR on a loopback port, so that
// `npm start` and `npm test` need nothing installed by hand. Used only when DATABASE_URL is unset.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import mysql from "mysql2/promise";
import { ensurePackages, findBinary } from "./system";

const SERVER_BINS = ["mariadbd", "/usr/sbin/mariadbd", "mysqld", "/usr/sbin/mysqld"];
const INSTALL_BINS = ["mariadb-install-db", "mysql_install_db", "/usr/bin/mariadb-install-db"];

export interface PrivateDb {
  /** URL of the server with no database selected: mysql://onair:…@127.0.0.1:port/ */
  serverUrl: string;
  /** True when this call started the server (so the caller stops it on exit). */
  started: boolean;
  stop: () => Promise<void>;
}

async function canConnect(socketPath: string): Promise<boolean> {
  try {
    const c = await mysql.createConnection({ socketPath, user: "root", connectTimeout: 1000 });
    await c.end();
    return true;
  } catch {
    return false;
  }
}

export async function ensurePrivateMariaDb(dataDir: string, requestedPort: number): Promise<PrivateDb> {
  let port = requestedPort;
  ensurePackages(
    "MariaDB (mariadb-server)",
    ["mariadb-server"],
    () => !!findBinary(SERVER_BINS),
    "set DATABASE_URL to an existing MySQL/MariaDB server",
  );
  const dir = resolve(dataDir, "mariadb");
  const datadir = resolve(dir, "data");
  const socketPath = resolve(dir, "mysqld.sock");
  const pidFile = resolve(dir, "mysqld.pid");
  const credsFile = resolve(dir, "credentials.json");
  mkdirSync(dir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  const userArgs = asRoot ? ["--user=root"] : [];

  if (!existsSync(resolve(datadir, "mysql"))) {
    const installer = findBinary(INSTALL_BINS);
    if (!installer) throw new Error("mariadb-install-db not found although mariadb-server is installed");
    console.log(`[onair] initialising a private MariaDB in ${datadir}`);
    const r = spawnSync(
      installer,
      [`--datadir=${datadir}`, "--auth-root-authentication-method=socket", "--skip-test-db", ...userArgs],
      { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`mariadb-install-db failed:\n${r.stdout}\n${r.stderr}`);
  }

  let started = false;
  if (!(await canConnect(socketPath))) {
    const server = findBinary(SERVER_BINS)!;
    const log = openSync(resolve(dir, "mariadb.log"), "a");
    const child = spawn(
      server,
      [
        "--no-defaults",
        `--datadir=${datadir}`,
        `--socket=${socketPath}`,
        `--pid-file=${pidFile}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        "--skip-name-resolve",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
        "--innodb-buffer-pool-size=128M",
        "--innodb-flush-log-at-trx-commit=2",
        "--max-connections=500",
        ...userArgs,
      ],
      { detached: true, stdio: ["ignore", log, log] },
    );
    child.unref();
    const state: { exited: number | null } = { exited: null };
    child.on("exit", (code) => (state.exited = code ?? -1));
    const deadline = Date.now() + 60_000;
    while (!(await canConnect(socketPath))) {
      if (state.exited !== null) {
        const tail = readFileSync(resolve(dir, "mariadb.log"), "utf8").split("\n").slice(-15).join("\n");
        throw new Error(
          `MariaDB exited (code ${state.exited}). Is port ${port} in use? Set MARIADB_PORT to another port.\n${tail}`,
        );
      }
      if (Date.now() > deadline) throw new Error(`MariaDB did not start within 60 s; see ${dir}/mariadb.log`);
      await new Promise((r) => setTimeout(r, 200));
    }
    started = true;
  }

  // An application user with a generated password, reached over TCP like any external server.
  let creds: { password: string } | undefined;
  if (existsSync(credsFile)) creds = JSON.parse(readFileSync(credsFile, "utf8")) as { password: string };
  if (!creds) {
    creds = { password: randomBytes(18).toString("base64url") };
    writeFileSync(credsFile, JSON.stringify(creds), { mode: 0o600 });
  }
  const admin = await mysql.createConnection({ socketPath, user: "root" });
  // An already running server of this folder may listen elsewhere than asked: use its real port.
  const [portRows] = (await admin.query("SELECT @@port AS port")) as unknown as [Array<{ port: number }>];
  port = Number(portRows[0]?.port ?? port);
  await admin.query("CREATE USER IF NOT EXISTS 'onair'@'127.0.0.1' IDENTIFIED BY ?", [creds.password]);
  await admin.query("ALTER USER 'onair'@'127.0.0.1' IDENTIFIED BY ?", [creds.password]);
  await admin.query("GRANT ALL PRIVILEGES ON *.* TO 'onair'@'127.0.0.1'");
  await admin.end();

  return {
    serverUrl: `mysql://onair:${encodeURIComponent(creds.password)}@127.0.0.1:${port}/`,
    started,
    stop: async () => {
      if (!started) return;
      try {
        const c = await mysql.createConnection({ socketPath, user: "root" });
        await c.query("SHUTDOWN");
        await c.end();
      } catch {
        /* already gone */
      }
    },
  };
}

/** Creates the database named in a URL when it does not exist yet. */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (!name) throw new Error("DATABASE_URL must name a database");
  u.pathname = "/";
  const c = await mysql.createConnection({ uri: u.toString() });
  await c.query(
    `CREATE DATABASE IF NOT EXISTS \`${name.replace(/`/g, "``")}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  );
  await c.end();
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
