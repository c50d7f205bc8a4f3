// `npm start` on a fresh DATA_DIR with its own private MariaDB (no DATABASE_URL), as it runs on a
// new server: started as root, no long-running process runs as root; the app's database user holds
// privileges on its database only; a crashed front, web or media process is restarted while the
// rest keeps running; SIGTERM stops everything, the MariaDB it started included.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDatabaseExists, ensurePrivateMariaDb } from "./lib/mariadb";
import { exited, freePort, repoRoot } from "../test/process";

const asRoot = process.getuid?.() === 0;
const dataDir = mkdtempSync(join(tmpdir(), "onair-start-private-"));
const mariadbDir = join(dataDir, "mariadb");
let child: ChildProcess;
let out = "";
let port: number;
let dbPort: number;

interface Proc {
  pid: number;
  ppid: number;
  uid: number;
  cmd: string;
}
function proc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    // Effective uid: the second number of "Uid:	real	effective	saved	fs".
    const uid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)![1]);
    // Fields after the command name in parentheses: state, ppid, …
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return { pid, ppid, uid, cmd };
  } catch {
    return undefined; // gone meanwhile
  }
}
/** Every live process started (directly or not) by `npm start`. */
function descendants(): Proc[] {
  const all = readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map((n) => proc(Number(n)))
    .filter((p): p is Proc => !!p);
  const found: Proc[] = [];
  const parents = new Set([child.pid!]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all)
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
  }
  return found;
}
// Production runs the compiled processes (scripts/launch.mjs builds them into server/.build/).
const onair = (name: "web" | "media" | "front") =>
  descendants().find((p) => p.cmd.includes(`server/.build/${name}.mjs`) && !p.cmd.startsWith("sh "));
const supervisorProc = () =>
  descendants().find((p) => p.cmd.includes("scripts/launch.mjs") && !p.cmd.startsWith("sh "));
const mariadbPid = () => Number(readFileSync(join(mariadbDir, "run", "mysqld.pid"), "utf8").trim());
const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
const uidOf = (user: string) => Number(spawnSync("id", ["-u", user], { encoding: "utf8" }).stdout.trim());

async function until<T>(what: string, f: () => T | Promise<T>, ms = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms\n${out.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const healthy = async () => (await fetch(`http://127.0.0.1:${port}/api/health`)).status === 200;
const appConnection = (database?: string) =>
  mysql.createConnection({
    host: "127.0.0.1",
    port: dbPort,
    user: "onair",
    password: (JSON.parse(readFileSync(join(mariadbDir, "credentials.json"), "utf8")) as { password: string }).password,
    database,
  });
const rootConnection = () =>
  mysql.createConnection({ socketPath: join(mariadbDir, "run", "mysqld.sock"), user: "root" });
const grantsOf = async (c: mysql.Connection) =>
  ((await c.query("SHOW GRANTS"))[0] as Array<Record<string, string>>).map((r) => Object.values(r)[0]!);

beforeAll(async () => {
  port = await freePort();
  dbPort = await freePort();
  child = spawn("npm", ["start"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: undefined,
      DATA_DIR: dataDir,
      MARIADB_PORT: String(dbPort),
      RUN_AS_USER: undefined,
      PORT: String(port),
      WEB_PORT: String(await freePort()),
      MEDIA_RTMP_PORT: String(await freePort()),
      MEDIA_HTTP_PORT: String(await freePort()),
      MEDIA_DIR: undefined,
      AUTH_SECRET: undefined,
      ENCRYPTION_KEY: undefined,
      ADMIN_PASSWORD: "start-private-password",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  // A first start builds the console: about a minute on a quiet 2-core machine, and CI saw over two
  // (59 s compiling, 49 s type-checking, 19 s writing Turbopack's cache) beside the other test workers.
  await until("[onair] ready", () => out.includes("[onair] ready") || child.exitCode !== null, 300_000);
  expect(out).toContain("[onair] ready");
}, 360_000);

afterAll(async () => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    await exited(child);
  }
  // Whatever happened above, leave no server behind before removing its files.
  try {
    const pid = mariadbPid();
    if (alive(pid)) {
      const c = await rootConnection();
      await c.query("SHUTDOWN");
      await c.end();
      await until("MariaDB stopped", () => !alive(pid), 30_000);
    }
  } catch {
    /* never started */
  }
  rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}, 60_000);

describe("npm start on its own private MariaDB", () => {
  it("runs no long-running process as root", () => {
    const expected = asRoot ? uidOf("onair") : process.getuid!();
    expect(expected).toBeGreaterThan(0);
    for (const name of ["web", "media", "front"] as const) {
      const p = onair(name);
      expect(p, `${name} process\n${out}`).toBeTruthy();
      expect(p!.uid, name).toBe(expected);
    }
    // The private MariaDB this start created runs as Debian's mysql user.
    const db = proc(mariadbPid());
    expect(db?.cmd).toContain(mariadbDir);
    expect(db!.uid).not.toBe(0);
    if (asRoot) {
      expect(db!.uid).toBe(uidOf("mysql"));
      // It owns its data and its socket folder only; what root writes (credentials, log) stays root's.
      for (const d of ["data", "run"]) expect(statSync(join(mariadbDir, d)).uid, d).toBe(uidOf("mysql"));
      for (const f of ["", "credentials.json", "mariadb.log"]) expect(statSync(join(mariadbDir, f)).uid, f).toBe(0);
    }
    // What the processes write is theirs; the secrets stay private to them; DATA_DIR itself (where
    // root writes the secrets and the MariaDB files) stays root's, passable but not listable.
    const secrets = statSync(join(dataDir, "secrets.json"));
    expect(secrets.uid).toBe(expected);
    expect(secrets.mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, "media")).uid).toBe(expected);
    expect(statSync(join(repoRoot, ".next/cache")).uid).toBe(expected);
    expect(statSync(dataDir).uid).toBe(process.getuid!());
    expect(statSync(dataDir).mode & 0o777).toBe(asRoot ? 0o701 : 0o700);
  });

  it("grants the app user its database and nothing else", async () => {
    const c = await appConnection("onair");
    try {
      const grants = await grantsOf(c);
      expect(grants).toHaveLength(2);
      expect(grants[0]).toMatch(/^GRANT USAGE ON \*\.\* TO `onair`@`127\.0\.0\.1`/);
      expect(grants[0]).not.toContain("WITH GRANT OPTION");
      expect(grants[1]).toBe("GRANT ALL PRIVILEGES ON `onair`.* TO `onair`@`127.0.0.1`");
      await expect(c.query("CREATE DATABASE onair_other")).rejects.toMatchObject({ errno: 1044 });
      await expect(c.query("SELECT COUNT(*) FROM mysql.user")).rejects.toMatchObject({ errno: 1142 });
    } finally {
      await c.end();
    }

    // Another database onair creates on this server (as test runs do): created as root, granted
    // exactly (an `_` in its name is no wildcard). A server-wide grant of an older version goes,
    // replaced by grants on the databases that user had made (onair_legacy here).
    const root = await rootConnection();
    try {
      await root.query("GRANT ALL PRIVILEGES ON *.* TO 'onair'@'127.0.0.1' WITH GRANT OPTION");
      await root.query("CREATE DATABASE onair_legacy");
      const again = await ensurePrivateMariaDb(dataDir, dbPort, "onair_x_1");
      expect(again.started).toBe(false);
      const c2 = await appConnection("onair_x_1");
      try {
        const grants = await grantsOf(c2);
        expect(grants[0]).toMatch(/^GRANT USAGE ON \*\.\* TO `onair`@`127\.0\.0\.1` IDENTIFIED BY PASSWORD '[^']+'$/);
        expect(grants.slice(1).sort()).toEqual([
          "GRANT ALL PRIVILEGES ON `onair\\_legacy`.* TO `onair`@`127.0.0.1`",
          "GRANT ALL PRIVILEGES ON `onair\\_x\\_1`.* TO `onair`@`127.0.0.1`",
          "GRANT ALL PRIVILEGES ON `onair`.* TO `onair`@`127.0.0.1`",
        ]);
        await c2.query("CREATE TABLE onair_legacy.t (id INT PRIMARY KEY)");
        await c2.query("CREATE TABLE t (id INT PRIMARY KEY)");
        await expect(c2.query("CREATE DATABASE onairXxX1")).rejects.toMatchObject({ errno: 1044 });
        // Given this server's app-user URL (as `npm test` with DATABASE_URL is), a new database is
        // created over the root socket.
        const url = `${again.serverUrl}onair_y_1`;
        await ensureDatabaseExists(url, dataDir);
        await expect(ensureDatabaseExists(`${again.serverUrl}onair_z_1`)).rejects.toMatchObject({ errno: 1044 });
        for (const db of ["onair_x_1", "onair_y_1", "onair_legacy"]) await c2.query(`DROP DATABASE ${db}`);
      } finally {
        await c2.end();
      }
      // Grants on databases that are gone are removed on the next start.
      await ensurePrivateMariaDb(dataDir, dbPort);
      const [rows] = (await root.query("SELECT Db AS db FROM mysql.db WHERE User = 'onair'")) as unknown as [
        Array<{ db: string }>,
      ];
      expect(rows.map((r) => r.db)).toEqual(["onair"]);
    } finally {
      await root.end();
    }
  });

  it("a fresh install serves 随心播 clients at once: a default app, its keys printed once", async () => {
    expect(out).toMatch(/use the app "Default": access key ak_[\w-]+, secret [\w-]{20,}/);
    expect(out.split('use the app "Default"').length - 1).toBe(1);
    const call = async (svc: string, cmd: string, body: object) =>
      (await (
        await fetch(`http://127.0.0.1:${port}/sxb/index.php?svc=${svc}&cmd=${cmd}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        })
      ).json()) as { errorCode: number; errorInfo: string; data?: Record<string, unknown> };
    const pwd = Buffer.from("fresh-pass-1").toString("base64");
    expect(await call("account", "regist", { id: "fresh_host", pwd })).toMatchObject({ errorCode: 0 });
    const login = await call("account", "login", { id: "fresh_host", pwd });
    expect(login).toMatchObject({ errorCode: 0 });
    const token = login.data!.token as string;
    const created = await call("live", "create", { token, type: "live" });
    expect(created).toMatchObject({ errorCode: 0 });
    const roomnum = created.data!.roomnum as number;
    expect((await call("live", "reportroom", { token, room: { title: "fresh", roomnum } })).errorCode).toBe(0);
    const list = await call("live", "roomlist", { token, type: "live", index: 0, size: 10 });
    expect(list.errorCode).toBe(0);
    expect((list.data!.rooms as Array<{ uid: string; info: { roomnum: number } }>)[0]).toMatchObject({
      uid: "fresh_host",
      info: { roomnum },
    });
  });

  it("restarts a killed front, web or media process, and keeps running", async () => {
    const supervisor = supervisorProc()!;
    expect(supervisor).toBeTruthy();
    expect(await healthy()).toBe(true);
    const listening = { front: '"front listening"', web: '"web listening"', media: '"media server listening"' };
    const count = (s: string) => out.split(s).length - 1;
    for (const name of ["front", "web", "media"] as const) {
      const before = onair(name)!;
      const started = count(listening[name]);
      process.kill(before.pid, "SIGKILL");
      const after = await until(`a new ${name} process`, () => {
        const p = onair(name);
        return p && p.pid !== before.pid ? p : undefined;
      });
      await until(`the new ${name} process listening`, () => count(listening[name]) > started);
      await until(`/api/health after the ${name} process was killed`, healthy);
      expect(out).toContain(`[onair] ${name} process exited (SIGKILL); restarting in 0.5 s (restart 1)`);
      expect(after.uid).toBe(before.uid);
      expect(alive(supervisor.pid)).toBe(true);
      expect(child.exitCode).toBeNull();
    }
    // MariaDB was never touched.
    expect(alive(mariadbPid())).toBe(true);
    expect(out).not.toContain("stopping");
  }, 60_000);

  it("stops everything on SIGTERM, the private MariaDB it started included", async () => {
    const db = mariadbPid();
    const procs = descendants().filter((p) => !p.cmd.startsWith("sh "));
    child.kill("SIGTERM");
    await exited(child);
    await until("every process stopped", () => procs.every((p) => !alive(p.pid)) && !alive(db), 30_000);
    expect(out).toContain("front stopped");
    expect(out).toContain("web stopped");
    expect(out).toContain("media stopped");
  }, 60_000);
});
