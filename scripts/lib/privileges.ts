// Who onair's long-running processes run as. Started as root (a container, a fresh server),
// `npm start` installs what is missing as root, then runs the private MariaDB as `mysql` and the
// web, media and front processes as an unprivileged user: RUN_AS_USER, default `onair`, created as a
// system user when missing. RUN_AS_USER=root keeps everything as root (with a warning). Not root:
// nothing changes, every process runs as the user who started onair.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
} from "node:fs";
import { dirname, join } from "node:path";

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export const DEFAULT_RUN_AS_USER = "onair";

export const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/** An account from the system's user database (getent, else /etc/passwd). */
export function lookupUser(name: string): Account | undefined {
  const r = spawnSync("getent", ["passwd", name], { encoding: "utf8" });
  let line = r.status === 0 ? r.stdout.split("\n")[0] : undefined;
  if (line === undefined && r.error && existsSync("/etc/passwd"))
    line = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${name}:`));
  const f = line?.split(":");
  if (!f || f.length < 6 || f[0] !== name) return undefined;
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? "/" };
}

const requestedName = () => process.env.RUN_AS_USER?.trim() || DEFAULT_RUN_AS_USER;
const optedOut = () => requestedName() === "root" || requestedName() === "0";

let warned = false;
function warnRoot() {
  if (warned) return;
  warned = true;
  console.warn(
    "[onair] warning: RUN_AS_USER=root: the web, media and front processes and the private MariaDB run as root." +
      " Unset RUN_AS_USER to run them as the unprivileged user onair.",
  );
}

let cached: { account: Account | undefined } | undefined;
/**
 * The account the node processes run as, or undefined to keep the current user (not root, or
 * RUN_AS_USER=root). Creates the default `onair` system user when it does not exist yet.
 */
export function runAsAccount(): Account | undefined {
  cached ??= { account: resolveRunAs() };
  return cached.account;
}

function resolveRunAs(): Account | undefined {
  if (!isRoot()) return undefined;
  if (optedOut()) {
    warnRoot();
    return undefined;
  }
  const name = requestedName();
  let a = lookupUser(name);
  if (!a && name === DEFAULT_RUN_AS_USER) {
    console.log(`[onair] creating the system user ${name} (onair's processes run as it, not as root)`);
    const r = spawnSync(
      "useradd",
      [
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        name,
      ],
      { encoding: "utf8" },
    );
    a = lookupUser(name);
    if (!a)
      throw new Error(
        `[onair] could not create the system user ${name} (${r.error?.message ?? r.stderr.trim()}).\n` +
          `Create it (useradd --system --user-group --no-create-home --shell /usr/sbin/nologin ${name}), ` +
          "set RUN_AS_USER to an existing unprivileged user, or RUN_AS_USER=root to run as root.",
      );
  }
  if (!a)
    throw new Error(
      `[onair] RUN_AS_USER=${name}: no such user. Create it, or set RUN_AS_USER to an existing unprivileged user ` +
        "(RUN_AS_USER=root runs everything as root).",
    );
  if (a.uid === 0) {
    warnRoot();
    return undefined;
  }
  return a;
}

/**
 * The account the private MariaDB server runs as: Debian's `mysql` (created by mariadb-server),
 * else the RUN_AS_USER account; undefined to keep the current user (not root, or RUN_AS_USER=root).
 */
export function databaseAccount(): Account | undefined {
  if (!isRoot() || optedOut()) {
    if (isRoot()) warnRoot();
    return undefined;
  }
  const mysql = lookupUser("mysql");
  if (mysql && mysql.uid !== 0) return mysql;
  return runAsAccount();
}

/**
 * Whether only root can change what `path` names: it and every folder above it (links resolved)
 * belong to root and no one else may write them (a sticky folder such as /tmp above it is fine).
 */
function rootControlled(path: string): boolean {
  let p = realpathSync(path);
  for (let top = true; ; top = false) {
    const st = lstatSync(p);
    const othersWrite = (st.mode & 0o022) !== 0 && (top || (st.mode & 0o1000) === 0);
    if (st.uid !== 0 || othersWrite) return false;
    if (p === "/") return true;
    p = dirname(p);
  }
}

/**
 * Gives `path` and (recursive) what lies below it to `a`, as root: links are changed, never
 * followed, and the walk only enters folders that only root can change, each before the folder
 * itself is given away. So the account taking the files over can never swap a folder on the way
 * for a link to somewhere else; a folder it already owns is left as it is.
 */
export function chownTree(path: string, a: Account, recursive: boolean): void {
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isDirectory() && st.uid === 0 && (st.mode & 0o022) === 0) for (const n of readdirSync(p)) walk(join(p, n));
    if (st.uid !== a.uid || st.gid !== a.gid) lchownSync(p, a.uid, a.gid);
  };
  if (recursive && rootControlled(dirname(path))) walk(path);
  else {
    const st = lstatSync(path);
    if (st.uid !== a.uid || st.gid !== a.gid) lchownSync(path, a.uid, a.gid);
  }
}

/** Creates the folder when missing and gives it (and, recursive, its content: see chownTree) to `a`. */
export function ownDir(path: string, a: Account, recursive = false): void {
  mkdirSync(path, { recursive: true });
  chownTree(path, a, recursive);
}

/** Gives an existing regular file to `a` with exactly `mode` (nothing is done through a link). */
export function ownFile(path: string, a: Account, mode: number): void {
  if (!existsSync(path) || !lstatSync(path).isFile()) return;
  chownTree(path, a, false);
  chmodSync(path, mode);
}

/** Lets every user pass through (not list) a folder: the accounts onair runs as reach their files below it. */
export function allowTraverse(dir: string): void {
  const mode = statSync(dir).mode & 0o7777;
  if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
}

/**
 * What `a` cannot do among `checks` ([test flag, path]: r, w or x), tested by the account itself
 * (so every parent folder's permissions count). Empty when all is well.
 */
export function accessProblems(a: Account, checks: Array<["r" | "w" | "x", string]>): string[] {
  const r = spawnSync(
    "/bin/sh",
    ["-c", 'while [ $# -gt 1 ]; do test "-$1" "$2" || echo "$1 $2"; shift 2; done', "sh", ...checks.flat()],
    { uid: a.uid, gid: a.gid, encoding: "utf8", cwd: "/" },
  );
  if (r.error || r.status !== 0) return [`cannot run /bin/sh as ${a.name}: ${r.error?.message ?? r.stderr}`];
  const what = { r: "read", w: "write", x: "enter or run" } as const;
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => `${a.name} cannot ${what[l[0] as "r" | "w" | "x"]} ${l.slice(2)}`);
}

/** The lowest port an unprivileged user may listen on (net.ipv4.ip_unprivileged_port_start, usually 1024). */
export function firstUnprivilegedPort(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").trim());
  } catch {
    return 1024; // not Linux: the classic limit
  }
}

/** The ports among `ports` only root may listen on. */
export function privilegedPorts(ports: Array<[string, number]>): Array<[string, number]> {
  const first = firstUnprivilegedPort();
  return ports.filter(([, p]) => p > 0 && p < first);
}

/**
 * The environment of a process run as `a`: its own user name, and its home, else `fallbackHome`
 * (created for it: Next keeps a native module cache under ~/.cache).
 */
export function envFor(a: Account, fallbackHome: string): Record<string, string> {
  let home = a.home;
  if (!home || home === "/nonexistent" || !existsSync(home)) {
    home = fallbackHome;
    ownDir(home, a);
  }
  return { USER: a.name, LOGNAME: a.name, HOME: home };
}

/**
 * Prepares, as root, what the web, media and front processes need to run as `a`: they may listen on
 * their ports, own the media folder and Next's cache (.next/cache), read the secrets (given to `a`,
 * kept 0600) and the code. DATA_DIR itself stays root's, passable but not listable, so `a` can never
 * plant a link where root later writes (secrets, the MariaDB folder). Returns the environment
 * additions for those processes; throws saying what to change when something stands in the way.
 */
export function handOver(
  a: Account,
  o: { root: string; dataDir: string; mediaDir: string; ports: Array<[string, number]> },
): Record<string, string> {
  const low = privilegedPorts(o.ports);
  if (low.length)
    throw new Error(
      `${low.map(([k, v]) => `${k}=${v}`).join(", ")}: onair's processes run as ${a.name}, which may not listen on ` +
        `ports below ${firstUnprivilegedPort()}. Use higher ports (behind a reverse proxy for 80/443), allow them ` +
        "with `sysctl net.ipv4.ip_unprivileged_port_start=…`, or set RUN_AS_USER=root.",
    );
  const secrets = join(o.dataDir, "secrets.json");
  const nextCache = join(o.root, ".next", "cache");
  allowTraverse(o.dataDir);
  ownFile(secrets, a, 0o600);
  ownDir(o.mediaDir, a, true);
  ownDir(nextCache, a, true);
  const problems = accessProblems(a, [
    ["x", process.execPath],
    ["r", join(o.root, "package.json")],
    ["r", join(o.root, "node_modules", "tsx", "package.json")],
    ["r", join(o.root, ".next", "BUILD_ID")],
    ...(existsSync(secrets) ? [["r", secrets] as ["r", string]] : []),
    ...[o.mediaDir, nextCache].flatMap((d): Array<["w" | "x", string]> => [
      ["w", d],
      ["x", d],
    ]),
  ]);
  if (problems.length)
    throw new Error(
      `onair's processes run as ${a.name} (RUN_AS_USER), but:\n  ${problems.join("\n  ")}\n` +
        "Let that user reach these paths (chmod o+rx on the parent folders), or set RUN_AS_USER=root.",
    );
  return envFor(a, join(o.dataDir, "home"));
}
